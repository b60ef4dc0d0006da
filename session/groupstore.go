package session

import (
	"database/sql"
	"errors"
	"fmt"
)

// The cache's end-to-end encryption tables (schema in store.go): each
// room's MLS group state, the rooms known to be encrypted, and the users
// marked verified.

// saveGroups writes group states (room -> saved state) inside tx.
func saveGroups(tx execer, groups map[string][]byte) error {
	for room, state := range groups {
		if _, err := tx.Exec(`INSERT INTO mls_groups(room, state) VALUES(?, ?)
			ON CONFLICT(room) DO UPDATE SET state=excluded.state`, room, state); err != nil {
			return fmt.Errorf("session: save group state of %s: %w", room, err)
		}
	}
	return nil
}

// SaveGroup writes one room's group state on its own (a new group, made by
// creating the room or joining it, before anything of the room is cached).
func (s *Store) SaveGroup(room string, state []byte) error {
	return saveGroups(s.db, map[string][]byte{room: state})
}

// LoadGroup reads a room's saved group state; ok is false when there is none.
func (s *Store) LoadGroup(room string) (state []byte, ok bool, err error) {
	err = s.db.QueryRow(`SELECT state FROM mls_groups WHERE room=?`, room).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("session: load group state of %s: %w", room, err)
	}
	return state, true, nil
}

// DeleteGroup forgets a room's group state (this device left or lost it).
func (s *Store) DeleteGroup(room string) error {
	if _, err := s.db.Exec(`DELETE FROM mls_groups WHERE room=?`, room); err != nil {
		return fmt.Errorf("session: delete group state of %s: %w", room, err)
	}
	return nil
}

// EncryptedRooms lists the rooms known to be end-to-end encrypted, with
// their cipher suites.
func (s *Store) EncryptedRooms() (map[string]uint16, error) {
	rows, err := s.db.Query(`SELECT room, suite FROM encrypted_rooms`)
	if err != nil {
		return nil, fmt.Errorf("session: encrypted rooms: %w", err)
	}
	defer rows.Close()
	out := map[string]uint16{}
	for rows.Next() {
		var (
			room  string
			suite int64
		)
		if err := rows.Scan(&room, &suite); err != nil {
			return nil, fmt.Errorf("session: encrypted rooms: %w", err)
		}
		out[room] = uint16(suite)
	}
	return out, rows.Err()
}

// SetEncrypted records that room is end-to-end encrypted with suite. A room
// never becomes plaintext again.
func (s *Store) SetEncrypted(room string, suite uint16) error {
	if _, err := s.db.Exec(`INSERT INTO encrypted_rooms(room, suite) VALUES(?, ?)
		ON CONFLICT(room) DO UPDATE SET suite=excluded.suite`, room, int64(suite)); err != nil {
		return fmt.Errorf("session: mark %s encrypted: %w", room, err)
	}
	return nil
}

// SetWire replaces the ciphertext of an outbox row and saves the group
// state whose encryption made it, in one transaction (a re-encryption after
// stale_epoch, or the first encryption of a row).
func (s *Store) SetWire(item OutboxItem, wire []byte, room string, group []byte) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("session: outbox encrypt %s: %w", item.ID, err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO outbox_wire(msg_id, wire) VALUES(?, ?)
		ON CONFLICT(msg_id) DO UPDATE SET wire=excluded.wire`, item.ID[:], wire); err != nil {
		return fmt.Errorf("session: outbox encrypt %s: %w", item.ID, err)
	}
	if err := saveGroups(tx, map[string][]byte{room: group}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("session: outbox encrypt %s: %w", item.ID, err)
	}
	return nil
}

// Verified reads the fingerprint under which user was marked verified;
// ok is false when never.
func (s *Store) Verified(user string) (fingerprint string, ok bool, err error) {
	err = s.db.QueryRow(`SELECT fingerprint FROM verified_users WHERE user=?`, user).Scan(&fingerprint)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("session: verified %s: %w", user, err)
	}
	return fingerprint, true, nil
}

// SetVerified marks user verified under fingerprint (the safety number
// compared); at is in Unix milliseconds.
func (s *Store) SetVerified(user, fingerprint string, at int64) error {
	if _, err := s.db.Exec(`INSERT INTO verified_users(user, fingerprint, at_ms) VALUES(?, ?, ?)
		ON CONFLICT(user) DO UPDATE SET fingerprint=excluded.fingerprint, at_ms=excluded.at_ms`, user, fingerprint, at); err != nil {
		return fmt.Errorf("session: mark %s verified: %w", user, err)
	}
	return nil
}
