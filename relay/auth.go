package relay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
	"mimichat/relay/store/sqlite"
)

// Tokens are 32 random bytes, shown once as "mct_" + base64url. Only their
// SHA-256 is stored: a stolen database does not yield usable tokens, and a
// 256-bit random secret needs no slow password hash.
const tokenPrefix = "mct_"

// User is one account on the relay.
type User = store.User

// ErrUserExists is returned by AddUser for a taken name.
var ErrUserExists = errors.New("relay: user already exists")

// ErrBadUserName is returned by AddUser for a name that is not a valid slug.
var ErrBadUserName = errors.New("relay: user name must be 1-64 of a-z 0-9 . _ -")

// DBFile is the SQLite database file name inside the data directory.
const DBFile = sqlite.File

// Sync modes: how a commit reaches the disk before the relay acks.
const (
	SyncFull   = sqlite.SyncFull
	SyncNormal = sqlite.SyncNormal
)

// Store is a relay's storage as its operator sees it: the domain and the
// user accounts, with the relay's rules (user names are slugs, tokens are
// random and stored hashed). It works on a running relay's store as well
// as on one opened alone with OpenStore (SQLite lets two processes share
// the database).
type Store struct{ db store.Store }

// OpenStore opens the SQLite store in dir, creating it only in a new
// (empty) directory, like a relay's start without --init. It takes no
// lock: it may work beside the running relay.
func OpenStore(dir string) (*Store, error) {
	db, err := openSQLite(dir, SyncFull, false, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Domain returns the relay's domain, fixing it to want on first use
// ("localhost" if want is empty). A different non-empty want later is an
// error: URIs already issued would lie.
func (s *Store) Domain(want string) (string, error) {
	return claimDomain(context.Background(), s.db, want)
}

func claimDomain(ctx context.Context, db store.Store, want string) (string, error) {
	got, err := db.Domain(ctx)
	if err != nil {
		return "", fmt.Errorf("relay: read domain: %w", err)
	}
	if got == "" {
		if want == "" {
			want = "localhost"
		}
		if err := db.SetDomain(ctx, want); err != nil {
			return "", fmt.Errorf("relay: set domain: %w", err)
		}
		return want, nil
	}
	if want != "" && want != got {
		return "", fmt.Errorf("relay: data directory belongs to domain %q, not %q", got, want)
	}
	return got, nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// AddUser creates user name on domain and returns its token, which is not
// stored anywhere and cannot be shown again.
func (s *Store) AddUser(domain, name string) (User, string, error) {
	if !proto.ValidSlug(name) {
		return User{}, "", fmt.Errorf("%w: %q", ErrBadUserName, name)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return User{}, "", fmt.Errorf("relay: token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	u := User{Name: name, URI: proto.UserURI(domain, name), Created: time.Now().UTC().Truncate(time.Second)}
	if err := s.db.AddUser(context.Background(), u, hashToken(token)); err != nil {
		if errors.Is(err, store.ErrExists) {
			return User{}, "", fmt.Errorf("%w: %q", ErrUserExists, name)
		}
		return User{}, "", fmt.Errorf("relay: add user %q: %w", name, err)
	}
	return u, token, nil
}

// Users lists every user by name.
func (s *Store) Users() ([]User, error) {
	us, err := s.db.Users(context.Background())
	if err != nil {
		return nil, fmt.Errorf("relay: list users: %w", err)
	}
	return us, nil
}

// authenticate returns what token stands for; ok is false for a missing
// or unknown one.
func authenticate(ctx context.Context, db store.Store, token string) (id identity, ok bool, err error) {
	if token == "" {
		return identity{}, false, nil
	}
	return identify(ctx, db, hashToken(token))
}
