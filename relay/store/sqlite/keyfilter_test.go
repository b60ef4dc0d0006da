package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"mimichat/relay/store"
)

// TestFilterPart: a part never misses a prefix it was given, and at its
// capacity answers "maybe" for few others (0.06 % expected; the bound
// leaves room for chance).
func TestFilterPart(t *testing.T) {
	for _, tt := range []struct {
		name     string
		capacity int
		keys     func(r *rand.Rand, i int) uint64
	}{
		{"random prefixes", 20_000, func(r *rand.Rand, _ int) uint64 { return r.Uint64() }},
		{"sequential prefixes", 20_000, func(_ *rand.Rand, i int) uint64 { return uint64(i) }},
		{"short keys (zero low bytes)", 5_000, func(r *rand.Rand, _ int) uint64 { return r.Uint64() &^ 0xffffffff }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(tt.capacity)))
			p := newFilterPart(tt.capacity)
			in := map[uint64]bool{}
			for i := range tt.capacity {
				k := tt.keys(r, i)
				in[k] = true
				p.add(k)
			}
			for k := range in {
				if !p.has(k) {
					t.Fatalf("prefix %#x added but not found", k)
				}
			}
			const others = 200_000
			fp := 0
			for i := 0; i < others; {
				k := r.Uint64()
				if in[k] {
					continue
				}
				i++
				if p.has(k) {
					fp++
				}
			}
			if rate := float64(fp) / others; rate > 0.003 {
				t.Fatalf("%d of %d absent prefixes answered maybe (%.3f %%), want under 0.3 %%", fp, others, 100*rate)
			}
		})
	}
}

// filterCovers checks the filter's invariant: every prefix in
// submit_index is in the filter or in the tail.
func filterCovers(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.w.Query(`SELECT k FROM submit_index`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		p := prefix(k)
		if _, inTail := s.keys.ids[p]; !inTail && !s.keys.filter.has(p) {
			t.Fatalf("prefix %x of submit_index in neither the filter nor the tail", k)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestKeyFilterReopen: the filter saved with a merge is read back at the
// next open, not built again, and still covers the index; a database an
// older relay merged into since (keys in submit_index that the saved
// filter never saw, the tail's rows gone) and one whose saved filter was
// removed get it built again, so every key stays a duplicate.
func TestKeyFilterReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const room = "mimi://example.com/r/a"
	open := func() *Store {
		s, err := OpenWith(dir, Options{Sync: SyncNormal, Create: true, mergeMinKeys: 8})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room, History: "shared", JoinPolicy: "invite", Receipts: "on"}}}); err != nil {
		t.Fatal(err)
	}
	stored := 0
	appendKeys := func(s *Store, n int) {
		t.Helper()
		for range n {
			if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{keyedEvent(room, stored)}}); err != nil {
				t.Fatal(err)
			}
			stored++
		}
	}
	allFound := func(s *Store, when string) {
		t.Helper()
		for i, st := range stampsOf(ctx, t, s, room, 0, stored) {
			if st.Seq != uint64(i+1) {
				t.Fatalf("%s: message %d found at %+v, want seq %d", when, i, st, i+1)
			}
		}
		again := keyedEvent(room, stored/2)
		again.Seq = uint64(stored + 1)
		if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{again}}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("%s: a stored key again: %v, want ErrDuplicate", when, err)
		}
		indexed(t, s)
		filterCovers(t, s)
	}
	appendKeys(s, 300)
	if len(s.keys.filter.parts) < 3 {
		t.Fatalf("%d filter parts after 300 keys from a capacity of 8; want it grown", len(s.keys.filter.parts))
	}
	allFound(s, "first open")
	builds := s.keys.filterBuilds
	s.Close()

	s = open()
	if s.keys.filterBuilds != 0 {
		t.Fatalf("the saved filter was built again at a plain reopen (%d builds before)", builds)
	}
	allFound(s, "reopened")
	s.Close()

	// An older relay, without the filter: its keys go through the tail
	// (numbered on) and are merged into submit_index, the tail emptied.
	raw := openRaw(t, dir)
	for range 20 {
		e := keyedEvent(room, stored)
		res, err := raw.Exec(`INSERT INTO events(room, seq, ts, submit_key, frame) VALUES(?,?,?,?,?)`, room, e.Seq, e.TS, e.Key, e.Frame)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		if _, err := raw.Exec(`INSERT INTO submit_tail(id, k) VALUES(?, substr(?, 1, 8))`, id, e.Key); err != nil {
			t.Fatal(err)
		}
		stored++
	}
	if _, err := raw.Exec(`INSERT OR IGNORE INTO submit_index(k, id) SELECT k, id FROM submit_tail; DELETE FROM submit_tail`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s = open()
	if s.keys.filterBuilds != 1 {
		t.Fatalf("%d filter builds after an older relay merged; want 1", s.keys.filterBuilds)
	}
	allFound(s, "after an older relay's merge")
	s.Close()

	raw = openRaw(t, dir)
	if _, err := raw.Exec(`DELETE FROM submit_filter`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s = open()
	defer s.Close()
	if s.keys.filterBuilds != 1 {
		t.Fatalf("%d filter builds with the saved filter gone; want 1", s.keys.filterBuilds)
	}
	allFound(s, "saved filter removed")
}

// openRaw opens the database file in dir as another program would.
func openRaw(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	return db
}
