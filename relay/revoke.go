package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// watchTokens closes every live connection whose token no longer names its
// user, or whose device was removed: `relay user revoke|rotate|remove` runs
// in another process and changes only the database, so the relay looks
// again every TokenRecheck.
// It costs one indexed lookup per distinct live token per tick (on a
// cluster, a few requests for all of them: identifyAll).
func (s *Server) watchTokens() {
	defer close(s.watchDone)
	t := time.NewTicker(s.cfg.TokenRecheck)
	defer t.Stop()
	var failing recheckFailures
	for {
		select {
		case <-s.stopWatch:
			return
		case <-t.C:
			failing.note(s.log, s.recheckTokens(), time.Now())
		}
	}
}

// recheckQuiet is how long token rechecks may keep failing before it is
// worth a warning: a cluster node's store answers nothing while its stream
// elects a leader (1.5-3 s, docs/cluster.md) or before a node that just
// started has heard the leader, and a failed recheck is tried again at the
// next tick anyway. Each of those used to log a warning.
const recheckQuiet = 10 * time.Second

// recheckFailures logs failed token rechecks: at debug level while they
// have failed for less than recheckQuiet, then one warning a tick, and
// once at info level when a recheck succeeds again after a warning.
type recheckFailures struct {
	since  time.Time // first failure of the current run; zero: the last recheck succeeded
	warned bool
}

func (f *recheckFailures) note(log *slog.Logger, err error, now time.Time) {
	switch {
	case err == nil:
		if f.warned {
			log.Info("recheck tokens: the store answers again", "failed for", now.Sub(f.since).Round(time.Millisecond))
		}
		*f = recheckFailures{}
	case f.since.IsZero() || now.Sub(f.since) < recheckQuiet:
		if f.since.IsZero() {
			f.since = now
		}
		log.Debug("recheck tokens; trying again at the next tick", "err", err)
	default:
		f.warned = true
		log.Warn("recheck tokens", "failing for", now.Sub(f.since).Round(time.Second), "err", err)
	}
}

// recheckTokens looks every live token up again and closes the connections
// of those revoked or replaced; it returns the store's error, if any, after
// which the rest wait for the next tick (a storage hiccup must not log
// everyone out).
func (s *Server) recheckTokens() error {
	s.mu.Lock()
	byToken := map[string][]*conn{}
	for c, h := range s.connTokens {
		byToken[string(h)] = append(byToken[string(h)], c)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.TokenRecheck)
	defer cancel()
	hashes := make([][]byte, 0, len(byToken))
	for h := range byToken {
		hashes = append(hashes, []byte(h))
	}
	ids, knowns, err := identifyAll(ctx, s.db, hashes)
	if err != nil {
		return err
	}
	for i, h := range hashes {
		id, known, conns := ids[i], knowns[i], byToken[string(h)]
		for _, c := range conns {
			switch {
			case !known || id.user != c.user:
				c.fatal(proto.CodeAuthFailed, "this token was revoked or replaced")
			case id.revoked:
				// Removed by another relay process or node, or a
				// connection closeDevice did not reach.
				c.fatal(proto.CodeDeviceRevoked, revokedReason(id.device))
			default:
				continue
			}
			s.mu.Lock()
			delete(s.connTokens, c)
			s.mu.Unlock()
		}
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// ErrNoSuchUser is returned for a user name the relay does not have.
var ErrNoSuchUser = errors.New("relay: no such user")

// newToken is a fresh random token and its hash.
func newToken() (string, []byte, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, fmt.Errorf("relay: token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	return token, hashToken(token), nil
}

func (s *Store) setToken(name string, hash []byte) error {
	if err := s.db.SetTokenHash(context.Background(), name, hash); err != nil {
		if isNotFound(err) {
			return fmt.Errorf("%w: %q", ErrNoSuchUser, name)
		}
		return fmt.Errorf("relay: set token of %q: %w", name, err)
	}
	return nil
}

// RotateToken gives user name a new token, returned once; the old one is
// refused from now on, and a running relay closes its connections within
// Config.TokenRecheck.
func (s *Store) RotateToken(name string) (string, error) {
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	if err := s.setToken(name, hash); err != nil {
		return "", err
	}
	if err := s.dropDeviceTokens(name); err != nil {
		return "", err
	}
	return token, nil
}

// RevokeToken makes user name's token refused (its connections closed)
// without issuing another: the account stays, with its rooms, until
// RotateToken gives it a new token. The stored hash is of a random value
// nobody was shown.
func (s *Store) RevokeToken(name string) error {
	_, hash, err := newToken()
	if err != nil {
		return err
	}
	if err := s.setToken(name, hash); err != nil {
		return err
	}
	return s.dropDeviceTokens(name)
}

// RemoveUser deletes user name: its token is refused and its connections
// closed; rooms keep its membership rows and events, and the name can be
// added again (as a new account with a new token).
func (s *Store) RemoveUser(name string) error {
	if err := s.dropDeviceTokens(name); err != nil && !errors.Is(err, ErrNoSuchUser) {
		return err
	}
	if err := s.db.RemoveUser(context.Background(), name); err != nil {
		if isNotFound(err) {
			return fmt.Errorf("%w: %q", ErrNoSuchUser, name)
		}
		return fmt.Errorf("relay: remove user %q: %w", name, err)
	}
	return nil
}
