package relay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"mimichat/proto"
)

// Tokens are 32 random bytes, shown once as "mct_" + base64url. Only their
// SHA-256 is stored: a stolen database does not yield usable tokens, and a
// 256-bit random secret needs no slow password hash.
const tokenPrefix = "mct_"

// User is one account on the relay.
type User struct {
	Name    string
	URI     string
	Created time.Time
}

// ErrUserExists is returned by AddUser for a taken name.
var ErrUserExists = errors.New("relay: user already exists")

// ErrBadUserName is returned by AddUser for a name that is not a valid slug.
var ErrBadUserName = errors.New("relay: user name must be 1-64 of a-z 0-9 . _ -")

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
	_, err := s.w.Exec(`INSERT INTO users(name, uri, token_hash, created) VALUES(?,?,?,?)`,
		u.Name, u.URI, hashToken(token), u.Created.Unix())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return User{}, "", fmt.Errorf("%w: %q", ErrUserExists, name)
		}
		return User{}, "", fmt.Errorf("relay: add user %q: %w", name, err)
	}
	return u, token, nil
}

// Users lists every user by name.
func (s *Store) Users() ([]User, error) {
	rows, err := s.r.Query(`SELECT name, uri, created FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("relay: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.Name, &u.URI, &created); err != nil {
			return nil, fmt.Errorf("relay: list users: %w", err)
		}
		u.Created = time.Unix(created, 0).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// authenticate returns the URI of the user holding token, or "" if none.
func (s *Store) authenticate(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	var uri string
	err := s.r.QueryRowContext(ctx, `SELECT uri FROM users WHERE token_hash=?`, hashToken(token)).Scan(&uri)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("relay: authenticate: %w", err)
	}
	return uri, nil
}
