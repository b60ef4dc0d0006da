package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"mimichat/relay/store"
)

// groupTables hold end-to-end encrypted rooms (protocol version 5): each
// encrypted room's MLS group as the relay follows it, Welcomes waiting for
// devices, the ratchet tree of each invite that keeps one for its Welcomes
// (welcome_trees: once per invite, however many devices its Welcomes go
// to; a Welcome's tree_len says it has one), and which device uploaded each
// KeyPackage (kept after a claim, so a Welcome naming the KeyPackageRef can
// be routed). Created by migrate after the KeyPackage tables.
const groupTables = `
CREATE TABLE IF NOT EXISTS groups(
	room TEXT PRIMARY KEY,
	suite INTEGER NOT NULL,
	epoch INTEGER NOT NULL,
	state BLOB NOT NULL,
	group_info BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS group_tree_chunks(
	room TEXT NOT NULL,
	idx INTEGER NOT NULL,
	data BLOB NOT NULL,
	PRIMARY KEY(room, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS welcomes(
	device TEXT NOT NULL,
	room TEXT NOT NULL,
	seq INTEGER NOT NULL,
	user TEXT NOT NULL,
	data BLOB NOT NULL,
	created INTEGER NOT NULL,
	tree_len INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY(device, room, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS welcomes_by_member ON welcomes(room, user);
CREATE INDEX IF NOT EXISTS welcomes_by_created ON welcomes(created);
CREATE INDEX IF NOT EXISTS welcomes_by_invite ON welcomes(room, seq);
CREATE TABLE IF NOT EXISTS welcome_trees(
	id INTEGER PRIMARY KEY,
	room TEXT NOT NULL,
	seq INTEGER NOT NULL,
	tree BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS welcome_trees_by_invite ON welcome_trees(room, seq);
CREATE TABLE IF NOT EXISTS key_package_refs(
	ref BLOB PRIMARY KEY,
	device TEXT NOT NULL,
	user TEXT NOT NULL,
	not_after INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS key_package_refs_by_device ON key_package_refs(device);
`

// appendGroups stores b's groups, Welcomes and Welcome deletions inside
// AppendBatch's transaction; known reports whether a room exists.
func appendGroups(ctx context.Context, tx *sql.Tx, b store.Batch, known func(string) (store.Stamp, error)) error {
	for _, g := range b.Groups {
		if _, err := known(g.Room); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO groups(room, suite, epoch, state, group_info, tree_width) VALUES(?,?,?,?,?,?)
			ON CONFLICT(room) DO UPDATE SET suite=excluded.suite, epoch=excluded.epoch, state=excluded.state,
			group_info=excluded.group_info, tree_width=excluded.tree_width`, g.Room, g.Suite, g.Epoch, g.State, g.GroupInfo, g.TreeWidth)
		if err != nil {
			return fmt.Errorf("sqlite store: upsert group of %s: %w", g.Room, err)
		}
		if err := appendTreeChunks(ctx, tx, g); err != nil {
			return err
		}
	}
	trees := map[invite][]byte{} // the trees this batch stores, once per invite
	for _, w := range b.Welcomes {
		_, err := tx.ExecContext(ctx, `INSERT INTO welcomes(device, room, seq, user, data, created, tree_len) VALUES(?,?,?,?,?,?,?)`,
			w.Device, w.Room, w.Seq, w.User, w.Data, w.Created.UnixMilli(), len(w.RatchetTree))
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("sqlite store: welcome for %s in %s #%d: %w", w.Device, w.Room, w.Seq, store.ErrDuplicate)
			}
			return fmt.Errorf("sqlite store: store welcome for %s: %w", w.Device, err)
		}
		if len(w.RatchetTree) == 0 {
			continue
		}
		inv := invite{w.Room, w.Seq}
		if t, ok := trees[inv]; ok {
			if !bytes.Equal(t, w.RatchetTree) {
				return fmt.Errorf("sqlite store: welcomes of %s #%d: two different ratchet trees for one invite", w.Room, w.Seq)
			}
			continue
		}
		trees[inv] = w.RatchetTree
		if _, err := tx.ExecContext(ctx, `INSERT INTO welcome_trees(room, seq, tree) VALUES(?,?,?)`, w.Room, w.Seq, w.RatchetTree); err != nil {
			if isUnique(err) {
				// An invite's Welcomes come in one batch: a stored tree
				// is an earlier batch's, for a seq this one reuses.
				return fmt.Errorf("sqlite store: ratchet tree of %s #%d: %w", w.Room, w.Seq, store.ErrDuplicate)
			}
			return fmt.Errorf("sqlite store: store the ratchet tree of %s #%d: %w", w.Room, w.Seq, err)
		}
	}
	for _, d := range b.DropWelcomes {
		rows, err := tx.QueryContext(ctx, `DELETE FROM welcomes WHERE room=? AND user=? RETURNING seq, tree_len`, d.Room, d.User)
		if err != nil {
			return fmt.Errorf("sqlite store: drop welcomes of %s in %s: %w", d.User, d.Room, err)
		}
		var gone []invite // invites whose Welcomes went and kept a tree
		for rows.Next() {
			var seq uint64
			var treeLen int
			if err := rows.Scan(&seq, &treeLen); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite store: drop welcomes of %s in %s: %w", d.User, d.Room, err)
			}
			if treeLen > 0 {
				gone = append(gone, invite{d.Room, seq})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite store: drop welcomes of %s in %s: %w", d.User, d.Room, err)
		}
		if err := dropOrphanTrees(ctx, tx, gone); err != nil {
			return err
		}
	}
	return nil
}

// appendTreeChunks upserts g's changed tree chunks and drops those past its
// width (a tree shrinks when its rightmost leaves go).
func appendTreeChunks(ctx context.Context, tx *sql.Tx, g store.Group) error {
	if g.TreeWidth == 0 {
		return nil
	}
	n := store.TreeChunkCount(g.TreeWidth)
	for _, c := range g.TreeChunks {
		if c.Index >= n {
			return fmt.Errorf("sqlite store: tree chunk %d of %s past width %d", c.Index, g.Room, g.TreeWidth)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO group_tree_chunks(room, idx, data) VALUES(?,?,?)
			ON CONFLICT(room, idx) DO UPDATE SET data=excluded.data`, g.Room, c.Index, c.Data)
		if err != nil {
			return fmt.Errorf("sqlite store: tree chunk %d of %s: %w", c.Index, g.Room, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_tree_chunks WHERE room=? AND idx>=?`, g.Room, n); err != nil {
		return fmt.Errorf("sqlite store: drop tree chunks of %s: %w", g.Room, err)
	}
	return nil
}

// migrateGroups adds the columns created since the group tables.
func migrateGroups(tx *sql.Tx) error {
	if !hasColumn(tx, "groups", "tree_width") {
		if _, err := tx.Exec(`ALTER TABLE groups ADD COLUMN tree_width INTEGER NOT NULL DEFAULT 0`); err != nil {
			return fmt.Errorf("add groups.tree_width: %w", err)
		}
	}
	return migrateWelcomeTrees(tx)
}

// loadGroups attaches each encrypted room's group to its state.
func (s *Store) loadGroups(ctx context.Context, out []store.RoomState, at map[string]int) error {
	rows, err := s.w.QueryContext(ctx, `SELECT room, suite, epoch, state, group_info, tree_width FROM groups`)
	if err != nil {
		return fmt.Errorf("sqlite store: load groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g store.Group
		if err := rows.Scan(&g.Room, &g.Suite, &g.Epoch, &g.State, &g.GroupInfo, &g.TreeWidth); err != nil {
			return fmt.Errorf("sqlite store: load groups: %w", err)
		}
		if i, ok := at[g.Room]; ok {
			out[i].Group = &g
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite store: load groups: %w", err)
	}
	rows.Close()
	return s.loadTreeChunks(ctx, out, at)
}

// loadTreeChunks attaches each group's tree chunks, in index order; a
// missing chunk is an error (the batch that wrote the width wrote them).
func (s *Store) loadTreeChunks(ctx context.Context, out []store.RoomState, at map[string]int) error {
	rows, err := s.w.QueryContext(ctx, `SELECT room, idx, data FROM group_tree_chunks ORDER BY room, idx`)
	if err != nil {
		return fmt.Errorf("sqlite store: load tree chunks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var room string
		var c store.TreeChunk
		if err := rows.Scan(&room, &c.Index, &c.Data); err != nil {
			return fmt.Errorf("sqlite store: load tree chunks: %w", err)
		}
		i, ok := at[room]
		if !ok || out[i].Group == nil || out[i].Group.TreeWidth == 0 {
			continue
		}
		g := out[i].Group
		if c.Index != uint32(len(g.TreeChunks)) {
			return fmt.Errorf("sqlite store: tree of %s: chunk %d where %d belongs", room, c.Index, len(g.TreeChunks))
		}
		g.TreeChunks = append(g.TreeChunks, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite store: load tree chunks: %w", err)
	}
	for _, st := range out {
		if g := st.Group; g != nil && g.TreeWidth != 0 && uint32(len(g.TreeChunks)) != store.TreeChunkCount(g.TreeWidth) {
			return fmt.Errorf("sqlite store: tree of %s: %d chunks for width %d", g.Room, len(g.TreeChunks), g.TreeWidth)
		}
	}
	return nil
}

// Welcomes reads the Welcomes stored for device, each with its invite's
// tree when it keeps one.
func (s *Store) Welcomes(ctx context.Context, device string) ([]store.Welcome, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT w.room, w.seq, w.user, w.data, w.created, w.tree_len, t.tree FROM welcomes w
		LEFT JOIN welcome_trees t ON w.tree_len>0 AND t.room=w.room AND t.seq=w.seq
		WHERE w.device=? ORDER BY w.room, w.seq`, device)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: welcomes of %s: %w", device, err)
	}
	defer rows.Close()
	out := []store.Welcome{}
	for rows.Next() {
		w := store.Welcome{Device: device}
		var created int64
		var treeLen int
		if err := rows.Scan(&w.Room, &w.Seq, &w.User, &w.Data, &created, &treeLen, &w.RatchetTree); err != nil {
			return nil, fmt.Errorf("sqlite store: welcomes of %s: %w", device, err)
		}
		if len(w.RatchetTree) != treeLen {
			return nil, fmt.Errorf("sqlite store: welcomes of %s: ratchet tree of %s #%d: %d bytes, want %d", device, w.Room, w.Seq, len(w.RatchetTree), treeLen)
		}
		w.Created = time.UnixMilli(created)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: welcomes of %s: %w", device, err)
	}
	return out, nil
}

// WelcomeEntries lists the Welcomes stored for device with their sizes:
// length() of a blob column reads its length from the record header, not
// its bytes, and no tree is joined.
func (s *Store) WelcomeEntries(ctx context.Context, device string) ([]store.WelcomeEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT room, seq, length(data), tree_len FROM welcomes WHERE device=? ORDER BY room, seq`, device)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: welcome entries of %s: %w", device, err)
	}
	defer rows.Close()
	out := []store.WelcomeEntry{}
	for rows.Next() {
		var e store.WelcomeEntry
		if err := rows.Scan(&e.Room, &e.Seq, &e.Size, &e.TreeSize); err != nil {
			return nil, fmt.Errorf("sqlite store: welcome entries of %s: %w", device, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: welcome entries of %s: %w", device, err)
	}
	return out, nil
}

// WelcomeData reads the bytes of one Welcome by its primary key.
func (s *Store) WelcomeData(ctx context.Context, device, room string, seq uint64) ([]byte, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM welcomes WHERE device=? AND room=? AND seq=?`, device, room, seq).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite store: welcome of %s #%d for %s: %w", room, seq, device, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: welcome of %s #%d for %s: %w", room, seq, device, err)
	}
	return data, nil
}

// WelcomeTree reads the tree of one Welcome's invite, joined only when the
// Welcome's tree_len says it keeps one (as in Welcomes).
func (s *Store) WelcomeTree(ctx context.Context, device, room string, seq uint64) ([]byte, error) {
	var treeLen int
	var tree []byte
	err := s.r.QueryRowContext(ctx, `SELECT w.tree_len, t.tree FROM welcomes w
		LEFT JOIN welcome_trees t ON w.tree_len>0 AND t.room=w.room AND t.seq=w.seq
		WHERE w.device=? AND w.room=? AND w.seq=?`, device, room, seq).Scan(&treeLen, &tree)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite store: ratchet tree of %s #%d for %s: %w", room, seq, device, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: ratchet tree of %s #%d for %s: %w", room, seq, device, err)
	}
	if len(tree) != treeLen {
		return nil, fmt.Errorf("sqlite store: ratchet tree of %s #%d for %s: %d bytes, want %d", room, seq, device, len(tree), treeLen)
	}
	if treeLen == 0 {
		return nil, nil
	}
	return tree, nil
}

// DeleteWelcomesBefore deletes Welcomes stored before t, and the trees of
// the invites none of whose Welcomes are left.
func (s *Store) DeleteWelcomesBefore(ctx context.Context, t time.Time) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite store: delete old welcomes: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `DELETE FROM welcomes WHERE created<? RETURNING room, seq, tree_len`, t.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite store: delete old welcomes: %w", err)
	}
	var n int64
	var gone []invite
	for rows.Next() {
		var inv invite
		var treeLen int
		if err := rows.Scan(&inv.room, &inv.seq, &treeLen); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite store: delete old welcomes: %w", err)
		}
		n++
		if treeLen > 0 {
			gone = append(gone, inv)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite store: delete old welcomes: %w", err)
	}
	if err := dropOrphanTrees(ctx, tx, gone); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite store: delete old welcomes: %w", err)
	}
	return n, nil
}

// KeyPackageOwner finds the device that uploaded the KeyPackage ref.
func (s *Store) KeyPackageOwner(ctx context.Context, ref []byte) (store.Device, error) {
	var d store.Device
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT r.device, r.user, coalesce(d.created, 0) FROM key_package_refs r
		LEFT JOIN devices d ON d.uri=r.device WHERE r.ref=?`, ref).Scan(&d.URI, &d.User, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("sqlite store: key package ref %x: %w", ref, store.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("sqlite store: key package ref %x: %w", ref, err)
	}
	d.Created = time.UnixMilli(created)
	return d, nil
}
