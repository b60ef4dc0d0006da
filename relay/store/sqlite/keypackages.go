package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"mimichat/relay/store"
)

// keyPackageTables hold the KeyPackage directory: devices by user, and
// KeyPackages by device (created by migrate, after the older tables).
const keyPackageTables = `
CREATE TABLE IF NOT EXISTS devices(
	uri TEXT PRIMARY KEY,
	user TEXT NOT NULL,
	created INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS devices_by_user ON devices(user, uri);
CREATE TABLE IF NOT EXISTS key_packages(
	ref BLOB PRIMARY KEY,
	device TEXT NOT NULL,
	suite INTEGER NOT NULL,
	last_resort INTEGER NOT NULL,
	not_after INTEGER NOT NULL,
	data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS key_packages_by_device ON key_packages(device, suite, last_resort);
`

// PutKeyPackages registers d and stores kps in one transaction.
func (s *Store) PutKeyPackages(ctx context.Context, d store.Device, kps []store.KeyPackage, lim store.Limits, now time.Time) (store.DeviceStatus, error) {
	fail := func(err error) (store.DeviceStatus, error) {
		return store.DeviceStatus{}, fmt.Errorf("sqlite store: key packages of %s: %w", d.URI, err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	var owner string
	err = tx.QueryRowContext(ctx, `SELECT user FROM devices WHERE uri=?`, d.URI).Scan(&owner)
	switch {
	case err == sql.ErrNoRows:
		var n int
		// A removed device stays removed (store.DeviceTokens): its
		// stolen keys must not register it again.
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM removed_devices WHERE uri=?`, d.URI).Scan(&n); err != nil {
			return fail(err)
		}
		if n > 0 {
			return fail(store.ErrRevoked)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE user=?`, d.User).Scan(&n); err != nil {
			return fail(err)
		}
		if n >= lim.Devices {
			return fail(fmt.Errorf("%w: %s has %d devices, at most %d", store.ErrLimit, d.User, n, lim.Devices))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO devices(uri, user, created) VALUES(?,?,?)`, d.URI, d.User, d.Created.UnixMilli()); err != nil {
			return fail(err)
		}
	case err != nil:
		return fail(err)
	case owner != d.User:
		return fail(fmt.Errorf("%w: the device belongs to another user", store.ErrConflict))
	}
	for _, kp := range kps {
		if kp.LastResort {
			if _, err := tx.ExecContext(ctx, `DELETE FROM key_packages WHERE device=? AND suite=? AND last_resort=1 AND ref<>?`,
				d.URI, kp.Suite, kp.Ref); err != nil {
				return fail(err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO key_packages(ref, device, suite, last_resort, not_after, data)
			VALUES(?,?,?,?,?,?) ON CONFLICT(ref) DO NOTHING`, kp.Ref, d.URI, kp.Suite, kp.LastResort, kp.NotAfter.Unix(), kp.Data); err != nil {
			return fail(err)
		}
		// The ref outlives a claim: a Welcome names it (KeyPackageOwner).
		if _, err := tx.ExecContext(ctx, `INSERT INTO key_package_refs(ref, device, user, not_after) VALUES(?,?,?,?)
			ON CONFLICT(ref) DO NOTHING`, kp.Ref, d.URI, d.User, kp.NotAfter.Unix()); err != nil {
			return fail(err)
		}
	}
	st, err := deviceStatus(ctx, tx, d.URI, now)
	if err != nil {
		return fail(err)
	}
	if st.Count > lim.KeyPackages {
		return fail(fmt.Errorf("%w: the device would have %d key packages, at most %d", store.ErrLimit, st.Count, lim.KeyPackages))
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return st, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// deviceStatus reads a device's row and its unexpired KeyPackage counts.
func deviceStatus(ctx context.Context, q queryer, device string, now time.Time) (store.DeviceStatus, error) {
	st := store.DeviceStatus{Device: store.Device{URI: device}}
	var created int64
	var lastResort int
	err := q.QueryRowContext(ctx, `SELECT d.user, d.created,
		(SELECT count(*) FROM key_packages k WHERE k.device=d.uri AND k.last_resort=0 AND k.not_after>?),
		(SELECT count(*) FROM key_packages k WHERE k.device=d.uri AND k.last_resort=1 AND k.not_after>?)
		FROM devices d WHERE d.uri=?`, now.Unix(), now.Unix(), device).Scan(&st.User, &created, &st.Count, &lastResort)
	if err != nil {
		return store.DeviceStatus{}, err
	}
	st.Created = time.UnixMilli(created)
	st.LastResort = lastResort > 0
	return st, nil
}

// ClaimKeyPackages takes one KeyPackage of suite per device of user. It
// runs on the writer's single connection in one transaction, so two claims
// are serialised and never hand out the same KeyPackage.
func (s *Store) ClaimKeyPackages(ctx context.Context, user string, suite uint16, now time.Time) ([]store.Claim, error) {
	fail := func(err error) ([]store.Claim, error) {
		return nil, fmt.Errorf("sqlite store: claim key packages of %s: %w", user, err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM key_packages WHERE not_after<=? AND device IN (SELECT uri FROM devices WHERE user=?)`,
		now.Unix(), user); err != nil {
		return fail(err)
	}
	// A Welcome to an expired KeyPackage cannot be valid: forget its ref.
	if _, err := tx.ExecContext(ctx, `DELETE FROM key_package_refs WHERE not_after<=? AND user=?`, now.Unix(), user); err != nil {
		return fail(err)
	}
	devices, err := deviceURIs(ctx, tx, user)
	if err != nil {
		return fail(err)
	}
	claims := make([]store.Claim, 0, len(devices))
	for _, d := range devices {
		c := store.Claim{Device: d, Status: store.Claimed}
		kp := store.KeyPackage{Suite: suite}
		var notAfter int64
		err := tx.QueryRowContext(ctx, `SELECT ref, last_resort, not_after, data FROM key_packages
			WHERE device=? AND suite=? ORDER BY last_resort, rowid LIMIT 1`, d, suite).Scan(&kp.Ref, &kp.LastResort, &notAfter, &kp.Data)
		switch {
		case err == sql.ErrNoRows:
			var other int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM key_packages WHERE device=?`, d).Scan(&other); err != nil {
				return fail(err)
			}
			c.Status = store.Exhausted
			if other > 0 {
				c.Status = store.NothingCompatible
			}
		case err != nil:
			return fail(err)
		default:
			kp.NotAfter = time.Unix(notAfter, 0)
			c.KeyPackage = kp
			if !kp.LastResort {
				if _, err := tx.ExecContext(ctx, `DELETE FROM key_packages WHERE ref=?`, kp.Ref); err != nil {
					return fail(err)
				}
			}
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM key_packages WHERE device=? AND last_resort=0`, d).Scan(&c.Left); err != nil {
			return fail(err)
		}
		claims = append(claims, c)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return claims, nil
}

func deviceURIs(ctx context.Context, tx *sql.Tx, user string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT uri FROM devices WHERE user=? ORDER BY uri`, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Devices lists user's devices with their KeyPackage counts.
func (s *Store) Devices(ctx context.Context, user string, now time.Time) ([]store.DeviceStatus, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.uri, d.created,
		(SELECT count(*) FROM key_packages k WHERE k.device=d.uri AND k.last_resort=0 AND k.not_after>?),
		(SELECT count(*) FROM key_packages k WHERE k.device=d.uri AND k.last_resort=1 AND k.not_after>?)
		FROM devices d WHERE d.user=? ORDER BY d.uri`, now.Unix(), now.Unix(), user)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: devices of %s: %w", user, err)
	}
	defer rows.Close()
	out := []store.DeviceStatus{}
	for rows.Next() {
		st := store.DeviceStatus{Device: store.Device{User: user}}
		var created int64
		var lastResort int
		if err := rows.Scan(&st.URI, &created, &st.Count, &lastResort); err != nil {
			return nil, fmt.Errorf("sqlite store: devices of %s: %w", user, err)
		}
		st.Created = time.UnixMilli(created)
		st.LastResort = lastResort > 0
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: devices of %s: %w", user, err)
	}
	return out, nil
}

// RemoveDevice deletes user's device and its KeyPackages.
func (s *Store) RemoveDevice(ctx context.Context, user, device string) error {
	fail := func(err error) error { return fmt.Errorf("sqlite store: remove device %s: %w", device, err) }
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE uri=? AND user=?`, device, user)
	if err != nil {
		return fail(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fail(store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM key_packages WHERE device=?`, device); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM key_package_refs WHERE device=?`, device); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}
