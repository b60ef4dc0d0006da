package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"mimichat/relay/store"
)

func keyOf(room string, i int) []byte {
	k := store.SubmitKey(fmt.Appendf(nil, "%s message %d", room, i))
	return k[:]
}

// stampsOf looks up the keys of room's messages from, from+1, … to-1 as
// the writer does (Submitted) and returns their stamps.
func stampsOf(ctx context.Context, t *testing.T, s *Store, room string, from, to int) []store.Stamp {
	t.Helper()
	keys := make([][]byte, 0, to-from)
	for i := from; i < to; i++ {
		keys = append(keys, keyOf(room, i))
	}
	got, err := s.Submitted(ctx, room, keys)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// keyedEvent is the event of room's i-th message (seq i+1 after the
// room's create event at seq 1 is left out: messages only).
func keyedEvent(room string, i int) store.Event {
	return store.Event{Room: room, Seq: uint64(i + 1), TS: int64(1000 + i), Key: keyOf(room, i), Frame: fmt.Appendf(nil, "frame %s %d", room, i)}
}

// indexed checks that every keyed event is in submit_tail or submit_index
// under its id and key prefix, and that neither holds an entry of a
// deleted event.
func indexed(t *testing.T, s *Store) {
	t.Helper()
	var missing, stale int
	err := s.w.QueryRow(`SELECT
		(SELECT count(*) FROM events e WHERE e.submit_key IS NOT NULL
			AND NOT EXISTS(SELECT 1 FROM submit_tail WHERE id=e.id AND k=substr(e.submit_key, 1, 8))
			AND NOT EXISTS(SELECT 1 FROM submit_index WHERE id=e.id AND k=substr(e.submit_key, 1, 8))),
		(SELECT count(*) FROM submit_index i WHERE NOT EXISTS(SELECT 1 FROM events WHERE id=i.id))
		+ (SELECT count(*) FROM submit_tail t WHERE NOT EXISTS(SELECT 1 FROM events WHERE id=t.id))`).Scan(&missing, &stale)
	if err != nil || missing != 0 || stale != 0 {
		t.Fatalf("%d keyed events in neither submit_tail nor submit_index, %d entries of deleted events (%v)", missing, stale, err)
	}
}

// TestKeyMerge appends keyed events in batches of 1 to 60 over three rooms
// with a tail merged from 16 keys on, reopening the store now and then (a
// merge cut off midway resumes), and checks after every batch that
// each key stored so far is found at its stamp, that a resubmission of one
// is ErrDuplicate, that every key is in one of the two levels, and that
// the tail stays bounded.
func TestKeyMerge(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const minKeys = 16
	open := func() *Store {
		s, err := OpenWith(dir, Options{Sync: SyncNormal, Create: true, mergeMinKeys: minKeys})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	defer func() { s.Close() }()
	rooms := []string{"mimi://example.com/r/a", "mimi://example.com/r/b", "mimi://example.com/r/c"}
	var rs []store.Room
	for _, r := range rooms {
		rs = append(rs, store.Room{URI: r, History: "shared", JoinPolicy: "invite", Receipts: "on"})
	}
	if err := s.AppendBatch(ctx, store.Batch{Rooms: rs}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	count := map[string]int{}
	merges := 0
	for batch := range 80 {
		var b store.Batch
		for range 1 + rng.IntN(60) {
			r := rooms[rng.IntN(len(rooms))]
			b.Events = append(b.Events, keyedEvent(r, count[r]))
			count[r]++
		}
		wasMerging := s.keys.frozen != nil
		if err := s.AppendBatch(ctx, b); err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		if wasMerging && s.keys.frozen == nil {
			merges++
		}
		if batch%17 == 16 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
		}
		for _, r := range rooms {
			keys := make([][]byte, count[r])
			for i := range keys {
				keys[i] = keyOf(r, i)
			}
			got, err := s.Submitted(ctx, r, keys)
			if err != nil {
				t.Fatal(err)
			}
			for i, st := range got {
				if want := (store.Stamp{Seq: uint64(i + 1), TS: int64(1000 + i)}); st != want {
					t.Fatalf("batch %d: %s message %d found at %+v, want %+v", batch, r, i, st, want)
				}
			}
			if count[r] > 0 {
				old := keyedEvent(r, rng.IntN(count[r]))
				old.Seq = uint64(count[r] + 1)
				if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{old}}); !errors.Is(err, store.ErrDuplicate) {
					t.Fatalf("batch %d: a stored key again in %s: %v, want ErrDuplicate", batch, r, err)
				}
			}
		}
		indexed(t, s)
		var tail int
		if err := s.w.QueryRow(`SELECT count(*) FROM submit_tail`).Scan(&tail); err != nil {
			t.Fatal(err)
		}
		if limit := 2*s.keys.mergeAt() + 60 + mergeStepMin; tail > limit {
			t.Fatalf("batch %d: %d keys in the tail, over %d", batch, tail, limit)
		}
	}
	var inIndex int
	if err := s.w.QueryRow(`SELECT count(*) FROM submit_index`).Scan(&inIndex); err != nil || inIndex == 0 || merges < 3 {
		t.Fatalf("%d keys in submit_index after %d merges seen (%v); the test did not merge", inIndex, merges, err)
	}
	// A key of another room, and a key never stored, are not found.
	if got, err := s.Submitted(ctx, rooms[0], [][]byte{keyOf(rooms[1], 0), keyOf(rooms[0], 1<<20)}); err != nil || got[0].Seq != 0 || got[1].Seq != 0 {
		t.Fatalf("keys not in room a found at %+v, %v", got, err)
	}
}

// TestKeyRetention: deleting events (retention, a room's expiry) takes
// their keys out of both levels, and an event that reuses a deleted
// event's id is found under its own key, never under the deleted one's.
func TestKeyRetention(t *testing.T) {
	ctx := context.Background()
	s, err := OpenWith(t.TempDir(), Options{Sync: SyncNormal, Create: true, mergeMinKeys: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := "mimi://example.com/r/a", "mimi://example.com/r/b"
	var bt store.Batch
	for _, r := range []string{a, b} {
		bt.Rooms = append(bt.Rooms, store.Room{URI: r, History: "shared", JoinPolicy: "invite", Receipts: "on"})
	}
	for i := range 30 {
		bt.Events = append(bt.Events, keyedEvent(a, i))
	}
	if err := s.AppendBatch(ctx, bt); err != nil {
		t.Fatal(err)
	}
	for i := range 20 { // b's events are the newest: their ids are the highest
		if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{keyedEvent(b, i)}}); err != nil {
			t.Fatal(err)
		}
	}
	var inIndex int
	if err := s.w.QueryRow(`SELECT count(*) FROM submit_index`).Scan(&inIndex); err != nil || inIndex == 0 {
		t.Fatalf("%d keys in submit_index, %v; want some merged", inIndex, err)
	}
	if n, err := s.DeleteEventsBefore(ctx, 1010); err != nil || n != 20 { // a's first 10, b's first 10
		t.Fatalf("deleted %d, %v; want 20", n, err)
	}
	indexed(t, s)
	if n, err := s.ExpireRoomEvents(ctx, b, 1<<40); err != nil || n != 10 {
		t.Fatalf("expired %d, %v; want 10", n, err)
	}
	indexed(t, s)
	// The next event takes the highest id left + 1: one of b's deleted ids.
	reuse := keyedEvent(b, 100)
	reuse.Seq, reuse.TS = 21, 2000
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{reuse}}); err != nil {
		t.Fatal(err)
	}
	indexed(t, s)
	got, err := s.Submitted(ctx, b, [][]byte{keyOf(b, 19), keyOf(b, 100), keyOf(b, 3)})
	if err != nil || got[0].Seq != 0 || got[1] != (store.Stamp{Seq: 21, TS: 2000}) || got[2].Seq != 0 {
		t.Fatalf("after expiry and id reuse: %+v, %v", got, err)
	}
	keys := [][]byte{keyOf(a, 0), keyOf(a, 9), keyOf(a, 10), keyOf(a, 29)}
	got, err = s.Submitted(ctx, a, keys)
	if err != nil || got[0].Seq != 0 || got[1].Seq != 0 || got[2].Seq != 11 || got[3].Seq != 30 {
		t.Fatalf("after retention: %+v, %v", got, err)
	}
}

// previousSchema is the events table and its indexes as the relay created
// them before keys.go: the submission keys in a unique index on events.
const previousSchema = `
CREATE TABLE rooms(uri TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', topic TEXT NOT NULL DEFAULT '',
	avatar TEXT NOT NULL DEFAULT '', history TEXT NOT NULL, join_policy TEXT NOT NULL,
	receipts TEXT NOT NULL DEFAULT 'on', expiry INTEGER NOT NULL DEFAULT 0);
CREATE TABLE events(id INTEGER PRIMARY KEY, room TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
	submit_key BLOB, ends TEXT, frame BLOB NOT NULL);
CREATE UNIQUE INDEX events_by_seq ON events(room, seq);
CREATE UNIQUE INDEX events_submit_key ON events(room, submit_key) WHERE submit_key IS NOT NULL;
`

// TestMigrateKeyIndex: a database of the relay before keys.go opens with
// its keys moved into submit_index and events_submit_key dropped; every
// stored message is still found, a resubmission is ErrDuplicate, and new
// keys go to the tail.
func TestMigrateKeyIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	const room = "mimi://example.com/r/old"
	if _, err := db.Exec(previousSchema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO rooms(uri, history, join_policy) VALUES(?, 'shared', 'invite')`, room); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO events(room, seq, ts, frame) VALUES(?, 1, 1000, x'a0')`, room); err != nil {
		t.Fatal(err)
	}
	const n = 500
	for i := 1; i < n; i++ {
		e := keyedEvent(room, i)
		if _, err := db.Exec(`INSERT INTO events(room, seq, ts, submit_key, frame) VALUES(?, ?, ?, ?, ?)`, room, e.Seq, e.TS, e.Key, e.Frame); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	for open := range 2 {
		s, err := Open(dir, SyncFull)
		if err != nil {
			t.Fatal(err)
		}
		var old, inIndex, inTail int
		if err := s.w.QueryRow(`SELECT (SELECT count(*) FROM sqlite_schema WHERE name='events_submit_key'),
			(SELECT count(*) FROM submit_index), (SELECT count(*) FROM submit_tail)`).Scan(&old, &inIndex, &inTail); err != nil {
			t.Fatal(err)
		}
		if old != 0 || inIndex != n-1 || inTail != open {
			t.Fatalf("open %d: events_submit_key %d, %d keys in submit_index, %d in the tail; want 0, %d, %d", open+1, old, inIndex, inTail, n-1, open)
		}
		indexed(t, s)
		for i, st := range stampsOf(ctx, t, s, room, 1, n) {
			if st.Seq != uint64(i+2) {
				t.Fatalf("open %d: message %d found at %+v", open+1, i+1, st)
			}
		}
		again := keyedEvent(room, 7)
		again.Seq, again.TS = uint64(n+1+open), 5000
		if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{again}}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("open %d: a key stored before the upgrade: %v, want ErrDuplicate", open+1, err)
		}
		if open == 0 {
			e := keyedEvent(room, n)
			e.Seq, e.TS = n+1, 5000
			if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{e}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAbsentKeysForgottenAfterCommit: a key Submitted found absent is not
// looked up again by the next AppendBatch, but only until a commit: once
// stored, the same key in a later batch is ErrDuplicate, also when
// Submitted was asked before that commit.
func TestAbsentKeysForgottenAfterCommit(t *testing.T) {
	ctx := context.Background()
	s, err := OpenWith(t.TempDir(), Options{Sync: SyncNormal, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const r = "mimi://example.com/r/a"
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: r, History: "shared", JoinPolicy: "invite", Receipts: "on"}}}); err != nil {
		t.Fatal(err)
	}
	e := keyedEvent(r, 0)
	if got, err := s.Submitted(ctx, r, [][]byte{e.Key}); err != nil || got[0].Seq != 0 {
		t.Fatalf("a new key found at %+v, %v", got, err)
	}
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{e}}); err != nil {
		t.Fatal(err)
	}
	again := e
	again.Seq = 2
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{again}}); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("the stored key again: %v, want ErrDuplicate", err)
	}
	// Asked while absent, stored by a batch that fails, stored by one that
	// commits, then offered again: a duplicate.
	f := keyedEvent(r, 1)
	f.Seq = 2
	if got, err := s.Submitted(ctx, r, [][]byte{f.Key}); err != nil || got[0].Seq != 0 {
		t.Fatalf("a new key found at %+v, %v", got, err)
	}
	bad := f
	bad.Seq = 7 // a gap: refused, nothing stored
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{bad}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a batch with a gap: %v, want ErrConflict", err)
	}
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{f}}); err != nil {
		t.Fatal(err)
	}
	f.Seq = 3
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{f}}); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a key stored after Submitted found it absent: %v, want ErrDuplicate", err)
	}
}

// TestKeyMergeWithDeletes: events deleted (retention, a room's expiry)
// while their keys are in the open or frozen tail, a merge running, leave
// no entry in submit_index: the merge takes its rows from memory only when
// nothing was deleted since they were added. Keys are appended in batches
// of 1 to 40 over two rooms, some deleted after nearly every batch, the
// store reopened now and then; after each step every key is where its
// event is (found if stored, not if deleted) and no entry is of a deleted
// event.
func TestKeyMergeWithDeletes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *Store {
		s, err := OpenWith(dir, Options{Sync: SyncNormal, Create: true, mergeMinKeys: 16})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	defer func() { s.Close() }()
	rooms := []string{"mimi://example.com/r/a", "mimi://example.com/r/b"}
	var rs []store.Room
	for _, r := range rooms {
		rs = append(rs, store.Room{URI: r, History: "shared", JoinPolicy: "invite", Receipts: "on"})
	}
	if err := s.AppendBatch(ctx, store.Batch{Rooms: rs}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	seqs := map[string]uint64{}
	var keys [][]byte
	var keyRoom []string
	ts := int64(0)
	fast, slow := 0, 0
	for step := range 150 {
		var b store.Batch
		for range 1 + rng.IntN(40) {
			r := rooms[rng.IntN(len(rooms))]
			seqs[r]++
			ts++
			key := store.SubmitKey(fmt.Appendf(nil, "%s %d", r, seqs[r]))
			keys, keyRoom = append(keys, key[:]), append(keyRoom, r)
			b.Events = append(b.Events, store.Event{Room: r, Seq: seqs[r], TS: ts, Key: key[:], Frame: []byte("frame")})
		}
		if s.keys.frozen != nil {
			if s.keys.frozenDirty || s.keys.deleted.Load() {
				slow++
			} else {
				fast++
			}
		}
		if err := s.AppendBatch(ctx, b); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		switch rng.IntN(5) {
		case 0: // retention up to a recent event: keys in the open tail too
			if _, err := s.DeleteEventsBefore(ctx, ts-int64(rng.IntN(30))); err != nil {
				t.Fatal(err)
			}
		case 1:
			if _, err := s.ExpireRoomEvents(ctx, rooms[rng.IntN(len(rooms))], ts-int64(rng.IntN(30))); err != nil {
				t.Fatal(err)
			}
		}
		if step%23 == 22 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
		}
		indexed(t, s)
		for _, r := range rooms {
			var mine [][]byte
			for i, k := range keys {
				if keyRoom[i] == r {
					mine = append(mine, k)
				}
			}
			got, err := s.Submitted(ctx, r, mine)
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]uint64{}
			rows, err := s.w.Query(`SELECT submit_key, seq FROM events WHERE room=?`, r)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k []byte
				var seq uint64
				if err := rows.Scan(&k, &seq); err != nil {
					t.Fatal(err)
				}
				stored[string(k)] = seq
			}
			rows.Close()
			for i, k := range mine {
				if seq := stored[string(k)]; got[i].Seq != seq {
					t.Fatalf("step %d: key %d of %s found at #%d, stored at #%d", step, i, r, got[i].Seq, seq)
				}
			}
		}
	}
	if fast == 0 || slow == 0 {
		t.Fatalf("merge steps from memory %d, through the tail %d: the test took one path only", fast, slow)
	}
}

// TestTailIDs: the in-memory tail keeps every id under a shared prefix
// (a deleted event's row and the one that reused its id, or two keys with
// the same first 8 bytes) and removes each row once.
func TestTailIDs(t *testing.T) {
	ids := func(tl *keyTail, k uint64) []int64 {
		cands := map[int64]bool{}
		tl.lookup(k, cands)
		var out []int64
		for id := range cands {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name   string
		add    []int64 // ids added under prefix 7, in order
		remove []int64
		want   []int64
	}{
		{"one", []int64{1}, nil, []int64{1}},
		{"one removed", []int64{1}, []int64{1}, nil},
		{"three", []int64{1, 2, 3}, nil, []int64{1, 2, 3}},
		{"first removed", []int64{1, 2, 3}, []int64{1}, []int64{2, 3}},
		{"middle removed", []int64{1, 2, 3}, []int64{2}, []int64{1, 3}},
		{"all removed", []int64{1, 2, 3}, []int64{3, 1, 2}, nil},
		{"an id twice, removed once", []int64{4, 4}, []int64{4}, []int64{4}},
		{"an id twice, removed twice", []int64{4, 4}, []int64{4, 4}, nil},
		{"absent id", []int64{1}, []int64{9}, []int64{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := &keyTail{ids: map[uint64]int64{}, more: map[uint64][]int64{}}
			tl.add(8, 100) // another prefix, untouched
			for _, id := range tc.add {
				tl.add(7, id)
			}
			for _, id := range tc.remove {
				tl.remove(7, id)
			}
			if got := ids(tl, 7); !slices.Equal(got, tc.want) {
				t.Errorf("ids under the prefix %v, want %v", got, tc.want)
			}
			if got := ids(tl, 8); !slices.Equal(got, []int64{100}) {
				t.Errorf("ids under another prefix %v, want [100]", got)
			}
			if len(tc.want) == 0 && (len(tl.more) != 0 || len(tl.ids) != 1) {
				t.Errorf("left %d prefixes, %d lists of more", len(tl.ids), len(tl.more))
			}
		})
	}
}

// TestKeyMergeResumes: a relay killed in the middle of a key merge resumes
// it where it was at its restart, instead of freezing the whole tail again
// and merging every key anew. The "kill" is a copy of the database and its
// WAL taken between two commits (what a SIGKILLed process leaves on
// disk). After the restart only the keys the merge had not yet merged are
// merged; every key is still found, each in one level, and every prefix of
// submit_index is in the filter, before and after another reopen. Events
// are deleted before the kill, so the saved position must skip rows that
// are gone.
func TestKeyMergeResumes(t *testing.T) {
	ctx := context.Background()
	const minKeys, room = 256, "mimi://example.com/r/resume"
	dir := t.TempDir()
	opts := Options{Sync: SyncNormal, Create: true, mergeMinKeys: minKeys, checkpointEvery: time.Hour}
	s, err := OpenWith(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room, History: "shared", JoinPolicy: "invite", Receipts: "on"}}}); err != nil {
		t.Fatal(err)
	}
	count := 0
	appendN := func(s *Store, n int) {
		t.Helper()
		var b store.Batch
		for range n {
			b.Events = append(b.Events, keyedEvent(room, count))
			count++
		}
		if err := s.AppendBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	appendN(s, minKeys+100) // the tail reaches the threshold: a merge starts
	if s.keys.frozen == nil {
		t.Fatal("no merge started")
	}
	if n, err := s.DeleteEventsBefore(ctx, 1010); err != nil || n != 10 {
		t.Fatalf("deleted %d, %v; want 10", n, err)
	}
	for s.keys.at < len(s.keys.frozen)/2 {
		appendN(s, 1) // 32 keys merged a commit
	}
	at, saved := s.keys.at, s.keys.savedAt
	if saved == 0 || at-saved >= max(mergeStepMin, len(s.keys.frozen)/mergeSaveParts) {
		t.Fatalf("progress saved at %d of %d keys, merged %d", saved, len(s.keys.frozen), at)
	}
	// The frozen rows left in submit_tail (the deleted events' are gone),
	// and how many of them the saved progress covers.
	frozen, merged := 0, 0
	for i, r := range s.keys.frozen {
		var n int
		if err := s.w.QueryRow(`SELECT count(*) FROM submit_tail WHERE n=?`, r.n).Scan(&n); err != nil {
			t.Fatal(err)
		}
		frozen += n
		if i < saved {
			merged += n
		}
	}
	if frozen == len(s.keys.frozen) || merged == saved {
		t.Fatalf("no deleted event among the %d frozen keys, %d of them merged: the case does not cover deletes", frozen, saved)
	}
	killed := t.TempDir()
	for _, f := range []string{File, File + "-wal"} {
		if err := copyFile(filepath.Join(dir, f), filepath.Join(killed, f)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	opts.Create = false
	s, err = OpenWith(killed, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.keys.frozen) != frozen || s.keys.at != merged || s.keys.resumed != merged {
		t.Fatalf("after the restart: a merge of %d keys at %d (%d resumed); want the merge of %d keys resumed at %d",
			len(s.keys.frozen), s.keys.at, s.keys.resumed, frozen, merged)
	}
	var inIndex int
	if err := s.w.QueryRow(`SELECT count(*) FROM submit_index`).Scan(&inIndex); err != nil || inIndex < merged {
		t.Fatalf("%d keys in submit_index, want at least the %d merged (%v)", inIndex, merged, err)
	}
	for s.keys.frozen != nil {
		appendN(s, 1)
	}
	if got, want := s.keys.merged, int64(frozen-merged); got != want {
		t.Fatalf("%d keys merged after the restart, want the %d left", got, want)
	}
	check := func(s *Store) {
		t.Helper()
		indexed(t, s)
		for i, st := range stampsOf(ctx, t, s, room, 0, count) {
			want := store.Stamp{Seq: uint64(i + 1), TS: int64(1000 + i)}
			if i < 10 {
				want = store.Stamp{} // deleted
			}
			if st != want {
				t.Fatalf("message %d found at %+v, want %+v", i, st, want)
			}
		}
		rows, err := s.w.Query(`SELECT k FROM submit_index`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k []byte
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			if !s.keys.filter.has(prefix(k)) {
				t.Fatalf("prefix %x in submit_index but not in the filter", k)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	check(s)
	s.Close()
	s, err = OpenWith(killed, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.keys.filterBuilds != 0 || s.keys.frozen != nil {
		t.Fatalf("after the merge and a reopen: filter built %d times, merge running %v", s.keys.filterBuilds, s.keys.frozen != nil)
	}
	check(s)
}
