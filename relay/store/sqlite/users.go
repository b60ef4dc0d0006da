package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"mimichat/relay/store"
)

// Domain returns the recorded domain, or "".
func (s *Store) Domain(ctx context.Context) (string, error) {
	var d string
	err := s.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='domain'`).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite store: read domain: %w", err)
	}
	return d, nil
}

// SetDomain records domain once.
func (s *Store) SetDomain(ctx context.Context, domain string) error {
	if domain == "" {
		return fmt.Errorf("sqlite store: set domain: %w: empty domain", store.ErrConflict)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO meta(key,value) VALUES('domain',?) ON CONFLICT(key) DO NOTHING`, domain); err != nil {
		return fmt.Errorf("sqlite store: set domain: %w", err)
	}
	got, err := s.Domain(ctx)
	if err != nil {
		return err
	}
	if got != domain {
		return fmt.Errorf("sqlite store: set domain %q: %w: the data belongs to %q", domain, store.ErrConflict, got)
	}
	return nil
}

// AddUser records u with its token hash.
func (s *Store) AddUser(ctx context.Context, u store.User, tokenHash []byte) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO users(name, uri, token_hash, created) VALUES(?,?,?,?)`,
		u.Name, u.URI, tokenHash, u.Created.Unix())
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("sqlite store: add user %q: %w", u.Name, store.ErrExists)
		}
		return fmt.Errorf("sqlite store: add user %q: %w", u.Name, err)
	}
	return nil
}

// isUnique reports a UNIQUE or PRIMARY KEY constraint failure.
func isUnique(err error) bool {
	return strings.Contains(err.Error(), "UNIQUE constraint") || strings.Contains(err.Error(), "PRIMARY KEY")
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, uri, created FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list users: %w", err)
	}
	return out, nil
}

func scanUser(sc interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var created int64
	if err := sc.Scan(&u.Name, &u.URI, &created); err != nil {
		return u, err
	}
	u.Created = time.Unix(created, 0).UTC()
	return u, nil
}

// UserByToken finds the holder of a token by its hash.
func (s *Store) UserByToken(ctx context.Context, tokenHash []byte) (store.User, error) {
	return s.user(ctx, "token", `SELECT name, uri, created FROM users WHERE token_hash=?`, tokenHash)
}

// UserByURI finds a user by URI.
func (s *Store) UserByURI(ctx context.Context, uri string) (store.User, error) {
	return s.user(ctx, uri, `SELECT name, uri, created FROM users WHERE uri=?`, uri)
}

func (s *Store) user(ctx context.Context, what, q string, arg any) (store.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("sqlite store: user by %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("sqlite store: user by %s: %w", what, err)
	}
	return u, nil
}

// SetTokenHash replaces name's token hash.
func (s *Store) SetTokenHash(ctx context.Context, name string, tokenHash []byte) error {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET token_hash=? WHERE name=?`, tokenHash, name)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("sqlite store: set token of %q: %w", name, store.ErrExists)
		}
		return fmt.Errorf("sqlite store: set token of %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite store: set token of %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// RemoveUser deletes name.
func (s *Store) RemoveUser(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM users WHERE name=?`, name)
	if err != nil {
		return fmt.Errorf("sqlite store: remove user %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite store: remove user %q: %w", name, store.ErrNotFound)
	}
	return nil
}
