package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"mimichat/relay/store"
)

// deviceTokenTables bind tokens to devices (store.DeviceTokens, issue 13):
// extra_tokens are tokens issued for a user's further devices (the user's
// own token stays users.token_hash); token_devices binds any token, by
// hash, to the device that used it first; removed_devices lists the
// devices removed for good (their tokens are refused as revoked, their
// URIs never registered again). Created by migrate.
const deviceTokenTables = `
CREATE TABLE IF NOT EXISTS extra_tokens(
	hash BLOB PRIMARY KEY,
	user TEXT NOT NULL,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS extra_tokens_by_user ON extra_tokens(user);
CREATE TABLE IF NOT EXISTS token_devices(
	hash BLOB PRIMARY KEY,
	user TEXT NOT NULL,
	device TEXT NOT NULL,
	bound INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS token_devices_by_user ON token_devices(user);
CREATE TABLE IF NOT EXISTS removed_devices(
	uri TEXT PRIMARY KEY,
	user TEXT NOT NULL,
	removed INTEGER NOT NULL);
`

var _ store.DeviceTokens = (*Store)(nil)

// tokenByHash reads a token's standing through q (the reader, or a
// transaction). An extra token's expiry only counts while it is unbound.
func tokenByHash(ctx context.Context, q queryer, tokenHash []byte, now time.Time) (store.Token, error) {
	var t store.Token
	var created int64
	var revoked int
	err := q.QueryRowContext(ctx, `
		WITH h(user, expires) AS (
			SELECT uri, 0 FROM users WHERE token_hash=?1
			UNION ALL SELECT user, expires FROM extra_tokens WHERE hash=?1)
		SELECT u.name, u.uri, u.created, COALESCE(b.device, ''),
			EXISTS(SELECT 1 FROM removed_devices r WHERE r.uri=b.device)
		FROM h JOIN users u ON u.uri=h.user
		LEFT JOIN token_devices b ON b.hash=?1 AND b.user=u.uri
		WHERE b.device IS NOT NULL OR h.expires=0 OR h.expires>?2
		LIMIT 1`, tokenHash, now.UnixMilli()).Scan(&t.User.Name, &t.User.URI, &created, &t.Device, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return t, store.ErrNotFound
	}
	if err != nil {
		return t, err
	}
	t.User.Created = time.Unix(created, 0).UTC()
	t.Revoked = revoked != 0
	return t, nil
}

// TokenByHash implements store.DeviceTokens.
func (s *Store) TokenByHash(ctx context.Context, tokenHash []byte, now time.Time) (store.Token, error) {
	t, err := tokenByHash(ctx, s.r, tokenHash, now)
	if err != nil {
		return t, fmt.Errorf("sqlite store: token: %w", err)
	}
	return t, nil
}

// BindToken implements store.DeviceTokens.
func (s *Store) BindToken(ctx context.Context, tokenHash []byte, device string, now time.Time) (store.Token, error) {
	fail := func(err error) (store.Token, error) {
		return store.Token{}, fmt.Errorf("sqlite store: bind token to %s: %w", device, err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	t, err := tokenByHash(ctx, tx, tokenHash, now)
	if err != nil {
		return fail(err)
	}
	switch {
	case t.Device == device && t.Revoked:
		return fail(store.ErrRevoked)
	case t.Device == device:
		return t, nil
	case t.Device != "":
		return fail(fmt.Errorf("%w: the token is bound to another device", store.ErrConflict))
	}
	var removed int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM removed_devices WHERE uri=?`, device).Scan(&removed); err != nil {
		return fail(err)
	}
	if removed > 0 {
		return fail(store.ErrRevoked)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO token_devices(hash, user, device, bound) VALUES(?,?,?,?)`,
		tokenHash, t.User.URI, device, now.UnixMilli()); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	t.Device = device
	return t, nil
}

// AddDeviceToken implements store.DeviceTokens.
func (s *Store) AddDeviceToken(ctx context.Context, user string, tokenHash []byte, now, expires time.Time) error {
	fail := func(err error) error { return fmt.Errorf("sqlite store: add a device token of %s: %w", user, err) }
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE uri=?`, user).Scan(&n); err != nil {
		return fail(err)
	}
	if n == 0 {
		return fail(store.ErrNotFound)
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE token_hash=?`, tokenHash).Scan(&n); err != nil {
		return fail(err)
	}
	if n > 0 {
		return fail(store.ErrExists)
	}
	// Expired unbound tokens of the user are of no use to anyone.
	if _, err := tx.ExecContext(ctx, `DELETE FROM extra_tokens WHERE user=? AND expires<=?
		AND hash NOT IN (SELECT hash FROM token_devices)`, user, now.UnixMilli()); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO extra_tokens(hash, user, created, expires) VALUES(?,?,?,?)`,
		tokenHash, user, now.UnixMilli(), expires.UnixMilli()); err != nil {
		if isUnique(err) {
			return fail(store.ErrExists)
		}
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// RevokeDevice implements store.DeviceTokens.
func (s *Store) RevokeDevice(ctx context.Context, user, device string, now time.Time) error {
	fail := func(err error) error { return fmt.Errorf("sqlite store: revoke device %s: %w", device, err) }
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE uri=? AND user=?`, device, user)
	if err != nil {
		return fail(err)
	}
	registered, _ := res.RowsAffected()
	var bound int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM token_devices WHERE device=? AND user=?`, device, user).Scan(&bound); err != nil {
		return fail(err)
	}
	var removed int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM removed_devices WHERE uri=?`, device).Scan(&removed); err != nil {
		return fail(err)
	}
	if registered == 0 && (bound == 0 || removed > 0) {
		return fail(store.ErrNotFound)
	}
	for _, q := range []string{`DELETE FROM key_packages WHERE device=?`, `DELETE FROM key_package_refs WHERE device=?`} {
		if _, err := tx.ExecContext(ctx, q, device); err != nil {
			return fail(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO removed_devices(uri, user, removed) VALUES(?,?,?) ON CONFLICT(uri) DO NOTHING`,
		device, user, now.UnixMilli()); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// DeviceRevoked implements store.DeviceTokens.
func (s *Store) DeviceRevoked(ctx context.Context, device string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM removed_devices WHERE uri=?`, device).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite store: device %s removed: %w", device, err)
	}
	return n > 0, nil
}

// DropUserTokens implements store.DeviceTokens.
func (s *Store) DropUserTokens(ctx context.Context, user string) error {
	fail := func(err error) error { return fmt.Errorf("sqlite store: drop the tokens of %s: %w", user, err) }
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM extra_tokens WHERE user=?`, `DELETE FROM token_devices WHERE user=?`} {
		if _, err := tx.ExecContext(ctx, q, user); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}
