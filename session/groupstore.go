package session

import (
	"database/sql"
	"errors"
	"fmt"
)

// The cache's end-to-end encryption tables (schema in store.go): each
// room's MLS group state, the rooms known to be encrypted, and the users
// marked verified.

// GroupSave is a room's group state ready to store: its record, and its
// ratchet tree by chunks (Width > 0), of which Chunks holds the ones whose
// version (Vers) differs from what the cache holds (Store.TreeVersions).
type GroupSave struct {
	Record []byte
	Width  uint32 // the tree's width in nodes; 0: Record holds the whole tree
	Vers   []uint64
	Chunks map[int][]byte
}

// saveGroups writes group states (room -> state) inside tx. after records
// the tree versions written; call it once tx has committed, never before
// (a rolled-back write must be redone by the next save).
func (s *Store) saveGroups(tx execer, groups map[string]*GroupSave) (after func(), err error) {
	written := map[string][]uint64{}
	for room, g := range groups {
		if g == nil {
			continue
		}
		if _, err := tx.Exec(`INSERT INTO mls_groups(room, state) VALUES(?, ?)
			ON CONFLICT(room) DO UPDATE SET state=excluded.state`, room, g.Record); err != nil {
			return nil, fmt.Errorf("session: save group state of %s: %w", room, err)
		}
		for i, nodes := range g.Chunks {
			if _, err := tx.Exec(`INSERT INTO mls_tree(room, chunk, nodes) VALUES(?, ?, ?)
				ON CONFLICT(room, chunk) DO UPDATE SET nodes=excluded.nodes`, room, i, nodes); err != nil {
				return nil, fmt.Errorf("session: save ratchet tree of %s: %w", room, err)
			}
		}
		if _, err := tx.Exec(`DELETE FROM mls_tree WHERE room=? AND chunk>=?`, room, len(g.Vers)); err != nil {
			return nil, fmt.Errorf("session: save ratchet tree of %s: %w", room, err)
		}
		written[room] = g.Vers
	}
	return func() {
		s.treeMu.Lock()
		defer s.treeMu.Unlock()
		if s.treeVers == nil {
			s.treeVers = map[string][]uint64{}
		}
		for room, v := range written {
			s.treeVers[room] = v
		}
	}, nil
}

// TreeVersions are the versions of room's tree chunks the cache holds, as
// far as this process wrote or loaded them (nil: unknown, write them all).
func (s *Store) TreeVersions(room string) []uint64 {
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	return s.treeVers[room]
}

// SetTreeVersions records the versions of room's tree chunks as loaded.
func (s *Store) SetTreeVersions(room string, vers []uint64) {
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	if s.treeVers == nil {
		s.treeVers = map[string][]uint64{}
	}
	s.treeVers[room] = vers
}

// SaveGroup writes one room's group state on its own (a new group, made by
// creating the room or joining it, before anything of the room is cached).
func (s *Store) SaveGroup(room string, g *GroupSave) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("session: save group state of %s: %w", room, err)
	}
	defer tx.Rollback()
	after, err := s.saveGroups(tx, map[string]*GroupSave{room: g})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("session: save group state of %s: %w", room, err)
	}
	after()
	return nil
}

// LoadGroup reads a room's saved group record and its tree's chunks, in
// order (none when the record holds the tree); ok is false when there is
// no state.
func (s *Store) LoadGroup(room string) (record []byte, chunks [][]byte, ok bool, err error) {
	err = s.db.QueryRow(`SELECT state FROM mls_groups WHERE room=?`, room).Scan(&record)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("session: load group state of %s: %w", room, err)
	}
	rows, err := s.db.Query(`SELECT chunk, nodes FROM mls_tree WHERE room=? ORDER BY chunk`, room)
	if err != nil {
		return nil, nil, false, fmt.Errorf("session: load ratchet tree of %s: %w", room, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i     int
			nodes []byte
		)
		if err := rows.Scan(&i, &nodes); err != nil {
			return nil, nil, false, fmt.Errorf("session: load ratchet tree of %s: %w", room, err)
		}
		if i != len(chunks) {
			return nil, nil, false, fmt.Errorf("session: load ratchet tree of %s: chunk %d missing", room, len(chunks))
		}
		chunks = append(chunks, nodes)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, false, fmt.Errorf("session: load ratchet tree of %s: %w", room, err)
	}
	return record, chunks, true, nil
}

// DeleteGroup forgets a room's group state (this device left or lost it).
func (s *Store) DeleteGroup(room string) error {
	for _, q := range []string{`DELETE FROM mls_groups WHERE room=?`, `DELETE FROM mls_tree WHERE room=?`} {
		if _, err := s.db.Exec(q, room); err != nil {
			return fmt.Errorf("session: delete group state of %s: %w", room, err)
		}
	}
	s.treeMu.Lock()
	delete(s.treeVers, room)
	s.treeMu.Unlock()
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
func (s *Store) SetWire(item OutboxItem, wire []byte, room string, group *GroupSave) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("session: outbox encrypt %s: %w", item.ID, err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO outbox_wire(msg_id, wire) VALUES(?, ?)
		ON CONFLICT(msg_id) DO UPDATE SET wire=excluded.wire`, item.ID[:], wire); err != nil {
		return fmt.Errorf("session: outbox encrypt %s: %w", item.ID, err)
	}
	after, err := s.saveGroups(tx, map[string]*GroupSave{room: group})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("session: outbox encrypt %s: %w", item.ID, err)
	}
	after()
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
