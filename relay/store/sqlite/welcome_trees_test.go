package sqlite

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/relay/store"
)

// usedBytes is the bytes of the database's b-tree pages (dbstat): what the
// file holds, whatever the WAL and the free list hold.
func usedBytes(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.QueryRow(`SELECT coalesce(sum(pgsize), 0) FROM dbstat`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// welcomeTree is a tree of about members × 209 bytes (the bytes a member of
// a real group's ratchet tree takes, jetstream's BenchmarkWelcomeRealTree).
func welcomeTree(members int, salt byte) []byte {
	tree := make([]byte, members*209)
	for i := range tree {
		tree[i] = byte(i*7+i>>9) ^ salt
	}
	return tree
}

// TestWelcomeTreeStoredOnce: an invite's ratchet tree is stored once
// however many devices its Welcomes go to (it was stored in each Welcome
// row: N devices, N trees), comes back whole with each Welcome, and goes
// when the last Welcome naming it does: through memberships' ends
// (DropWelcomes) and through the age sweep, one invite's tree staying while
// one of its Welcomes does. No tree row is left without a Welcome.
func TestWelcomeTreeStoredOnce(t *testing.T) {
	s, err := Open(t.TempDir(), SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	const room = "mimi://example.com/r/big"
	tree := welcomeTree(6000, 0) // 1.25 MB
	now := time.Now().Truncate(time.Millisecond)
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room}}, Events: []store.Event{{Room: room, Seq: 1, TS: 1, Frame: []byte{1}}}}); err != nil {
		t.Fatal(err)
	}
	const devices = 40
	before := usedBytes(t, s.w)
	b := store.Batch{Events: []store.Event{{Room: room, Seq: 2, TS: 2, Frame: []byte{2}}}}
	for i := range devices {
		b.Welcomes = append(b.Welcomes, store.Welcome{Device: fmt.Sprintf("mimi://example.com/d/u%d/d%d", i%20, i),
			User: fmt.Sprintf("mimi://example.com/u/u%d", i%20), Room: room, Seq: 2, Data: bytes.Repeat([]byte("w"), 400), Created: now, RatchetTree: tree})
	}
	if err := s.AppendBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	grew := usedBytes(t, s.w) - before
	t.Logf("an invite of %d devices with a tree of %d bytes: the database grew %d bytes (%.2f trees)", devices, len(tree), grew, float64(grew)/float64(len(tree)))
	if grew > int64(len(tree))*5/4 || grew < int64(len(tree)) {
		t.Fatalf("the database grew %d bytes for one invite of %d devices with a tree of %d bytes; want about one tree", grew, devices, len(tree))
	}
	if n := countRows(t, s.w, "welcome_trees"); n != 1 {
		t.Fatalf("%d tree rows for one invite", n)
	}
	for _, d := range []string{"mimi://example.com/d/u0/d0", "mimi://example.com/d/u19/d39"} {
		ws, err := s.Welcomes(ctx, d)
		if err != nil || len(ws) != 1 || !bytes.Equal(ws[0].RatchetTree, tree) {
			t.Fatalf("welcomes of %s: %d, %v", d, len(ws), err)
		}
	}
	// Every user's membership but u0's ends: u0's two Welcomes keep the tree.
	var drop []store.RoomUser
	for i := 1; i < 20; i++ {
		drop = append(drop, store.RoomUser{Room: room, User: fmt.Sprintf("mimi://example.com/u/u%d", i)})
	}
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{{Room: room, Seq: 3, TS: 3, Frame: []byte{3}}}, DropWelcomes: drop}); err != nil {
		t.Fatal(err)
	}
	if w, tr := countRows(t, s.w, "welcomes"), countRows(t, s.w, "welcome_trees"); w != 2 || tr != 1 {
		t.Fatalf("%d welcomes and %d trees while u0's Welcomes name the tree, want 2 and 1", w, tr)
	}
	ws, err := s.Welcomes(ctx, "mimi://example.com/d/u0/d20")
	if err != nil || len(ws) != 1 || !bytes.Equal(ws[0].RatchetTree, tree) {
		t.Fatalf("u0's Welcome: %d, %v", len(ws), err)
	}
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{{Room: room, Seq: 4, TS: 4, Frame: []byte{4}}},
		DropWelcomes: []store.RoomUser{{Room: room, User: "mimi://example.com/u/u0"}}}); err != nil {
		t.Fatal(err)
	}
	if w, tr := countRows(t, s.w, "welcomes"), countRows(t, s.w, "welcome_trees"); w != 0 || tr != 0 {
		t.Fatalf("%d welcomes and %d trees after the last Welcome naming the tree was dropped", w, tr)
	}

	// The age sweep: invite 5's Welcomes are of two ages; the older go and
	// the tree stays for the younger, then it goes with them. Invite 6
	// keeps no tree (an inviter before version 8).
	b = store.Batch{Events: []store.Event{{Room: room, Seq: 5, TS: 5, Frame: []byte{5}}, {Room: room, Seq: 6, TS: 6, Frame: []byte{6}}}}
	for i := range 3 {
		b.Welcomes = append(b.Welcomes, store.Welcome{Device: fmt.Sprintf("mimi://example.com/d/v/d%d", i), User: "mimi://example.com/u/v",
			Room: room, Seq: 5, Data: []byte("w"), Created: now.Add(-time.Duration(i) * time.Hour), RatchetTree: tree})
	}
	b.Welcomes = append(b.Welcomes, store.Welcome{Device: "mimi://example.com/d/v/d0", User: "mimi://example.com/u/v", Room: room, Seq: 6,
		Data: []byte("w"), Created: now.Add(-2 * time.Hour)})
	if err := s.AppendBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteWelcomesBefore(ctx, now.Add(-90*time.Minute)); err != nil || n != 2 {
		t.Fatalf("DeleteWelcomesBefore: %d, %v; want 2", n, err)
	}
	if tr := countRows(t, s.w, "welcome_trees"); tr != 1 {
		t.Fatalf("%d trees while two Welcomes of the invite are left, want 1", tr)
	}
	if ws, err := s.Welcomes(ctx, "mimi://example.com/d/v/d0"); err != nil || len(ws) != 1 || ws[0].Seq != 5 || !bytes.Equal(ws[0].RatchetTree, tree) {
		t.Fatalf("d0's Welcomes after the sweep: %+v, %v", ws, err)
	}
	if n, err := s.DeleteWelcomesBefore(ctx, now.Add(time.Millisecond)); err != nil || n != 2 {
		t.Fatalf("DeleteWelcomesBefore: %d, %v; want 2", n, err)
	}
	if w, tr := countRows(t, s.w, "welcomes"), countRows(t, s.w, "welcome_trees"); w != 0 || tr != 0 {
		t.Fatalf("%d welcomes and %d trees after the sweep took every Welcome", w, tr)
	}
}

// oldWelcomes is the welcomes table of a relay before welcome_trees: each
// Welcome row carried its invite's whole tree.
const oldWelcomes = `CREATE TABLE welcomes(
	device TEXT NOT NULL,
	room TEXT NOT NULL,
	seq INTEGER NOT NULL,
	user TEXT NOT NULL,
	data BLOB NOT NULL,
	created INTEGER NOT NULL,
	tree BLOB,
	PRIMARY KEY(device, room, seq)) WITHOUT ROWID;
CREATE INDEX welcomes_by_member ON welcomes(room, user);
CREATE INDEX welcomes_by_created ON welcomes(created);`

// TestMigrateWelcomeTrees: a database whose Welcome rows each carry their
// invite's tree opens with each invite's tree stored once and the column
// gone; every Welcome comes back with its tree (or none), the space the
// copies took is free, and dropping the Welcomes leaves no tree behind.
func TestMigrateWelcomeTrees(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	const room = "mimi://example.com/r/old"
	const devices = 20
	treeA, treeB := welcomeTree(1000, 0), welcomeTree(1200, 0x55)
	if _, err := db.Exec(`DROP TABLE welcomes; DROP TABLE welcome_trees; ` + oldWelcomes); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO rooms(uri, history, join_policy) VALUES(?, 'shared', 'invite')`, room); err != nil {
		t.Fatal(err)
	}
	ins := func(device string, seq uint64, tree []byte) {
		t.Helper()
		if _, err := db.Exec(`INSERT INTO welcomes VALUES(?,?,?,?,?,?,?)`, device, room, seq, "mimi://example.com/u/"+device[len(device)-2:],
			[]byte("welcome "+device), int64(1000+seq), tree); err != nil {
			t.Fatal(err)
		}
	}
	for i := range devices { // invite 2: 20 devices, tree A
		ins(fmt.Sprintf("mimi://example.com/d/x/d%02d", i), 2, treeA)
	}
	ins("mimi://example.com/d/x/d00", 3, nil)   // invite 3: no tree
	ins("mimi://example.com/d/x/d00", 4, treeB) // invite 4: two devices, tree B
	ins("mimi://example.com/d/x/d01", 4, treeB)
	if _, err := db.Exec(`VACUUM`); err != nil {
		t.Fatal(err)
	}
	before := usedBytes(t, db)
	db.Close()

	for i := range 2 { // the second open finds the schema current
		s, err := Open(dir, SyncNormal)
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		var ddl string
		if err := s.w.QueryRow(`SELECT sql FROM sqlite_schema WHERE name='welcomes'`).Scan(&ddl); err != nil ||
			strings.Contains(ddl, "tree BLOB") || !strings.Contains(ddl, "tree_len") {
			t.Fatalf("open %d: welcomes table %q, %v", i+1, ddl, err)
		}
		if n := countRows(t, s.w, "welcome_trees"); n != 2 {
			t.Fatalf("open %d: %d trees for 2 invites that kept one", i+1, n)
		}
		for dev, want := range map[string][][]byte{
			"mimi://example.com/d/x/d00": {treeA, nil, treeB},
			"mimi://example.com/d/x/d01": {treeA, treeB},
			"mimi://example.com/d/x/d19": {treeA},
		} {
			ws, err := s.Welcomes(t.Context(), dev)
			if err != nil || len(ws) != len(want) {
				t.Fatalf("open %d: welcomes of %s: %d, %v; want %d", i+1, dev, len(ws), err, len(want))
			}
			for j := range want {
				if !bytes.Equal(ws[j].RatchetTree, want[j]) || !bytes.Equal(ws[j].Data, []byte("welcome "+dev)) {
					t.Fatalf("open %d: welcome %d of %s: tree of %d bytes, want %d", i+1, j, dev, len(ws[j].RatchetTree), len(want[j]))
				}
			}
		}
		if i == 0 {
			if _, err := s.w.Exec(`VACUUM`); err != nil {
				t.Fatal(err)
			}
			after := usedBytes(t, s.w)
			t.Logf("%d Welcomes of 3 invites (trees of %d and %d bytes): %d bytes stored before the migration, %d after", devices+3, len(treeA), len(treeB), before, after)
			if saved, copies := before-after, int64((devices-1)*len(treeA)+len(treeB)); saved < copies*9/10 {
				t.Fatalf("the migration freed %d bytes; the extra copies of the trees took %d", saved, copies)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s, err = Open(dir, SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.DeleteWelcomesBefore(t.Context(), time.UnixMilli(2000)); err != nil || n != devices+3 {
		t.Fatalf("DeleteWelcomesBefore: %d, %v", n, err)
	}
	if n := countRows(t, s.w, "welcome_trees"); n != 0 {
		t.Fatalf("%d trees left without a Welcome", n)
	}
}

// TestWelcomeTreeBytesPerInvite: the database grows by about one tree per
// invite of 1, 10 or 40 devices (each device's row carried a copy before:
// 1, 10 and 40 trees; docs/performance.md, "Welcome storage"). It uses only
// the Store interface and dbstat, so it runs unchanged on older code.
func TestWelcomeTreeBytesPerInvite(t *testing.T) {
	s, err := Open(t.TempDir(), SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const room = "mimi://example.com/r/big"
	tree := welcomeTree(6000, 0)
	now := time.Now().Truncate(time.Millisecond)
	if err := s.AppendBatch(t.Context(), store.Batch{Rooms: []store.Room{{URI: room}}, Events: []store.Event{{Room: room, Seq: 1, TS: 1, Frame: []byte{1}}}}); err != nil {
		t.Fatal(err)
	}
	seq := uint64(1)
	for _, devices := range []int{1, 10, 40} {
		seq++
		before := usedBytes(t, s.w)
		b := store.Batch{Events: []store.Event{{Room: room, Seq: seq, TS: int64(seq), Frame: []byte{2}}}}
		for i := range devices {
			b.Welcomes = append(b.Welcomes, store.Welcome{Device: fmt.Sprintf("mimi://example.com/d/u%d/d%d", i%20, i),
				User: fmt.Sprintf("mimi://example.com/u/u%d", i%20), Room: room, Seq: seq, Data: bytes.Repeat([]byte("w"), 400), Created: now, RatchetTree: tree})
		}
		if err := s.AppendBatch(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		grew := usedBytes(t, s.w) - before
		t.Logf("devices=%d tree=%d grew=%d (%.2f trees)", devices, len(tree), grew, float64(grew)/float64(len(tree)))
		if grew > int64(len(tree))*5/4 {
			t.Errorf("an invite of %d devices grew the database by %d bytes, %.2f trees of %d", devices, grew, float64(grew)/float64(len(tree)), len(tree))
		}
	}
}
