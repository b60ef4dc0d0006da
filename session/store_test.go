package session

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
)

const testRoom = "mimi://example.com/r/lobby"

func openTestStore(t testing.TB) *Store {
	t.Helper()
	st, err := OpenStore(filepath.Join(t.TempDir(), StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func msgEntry(room string, seq uint64) Entry {
	e := Entry{Room: room, Seq: seq, Time: time.UnixMilli(int64(1763790000000 + seq)).UTC(),
		Sender: "mimi://example.com/u/alice", Kind: proto.KindMessage, Raw: []byte(fmt.Sprintf("raw-%d", seq))}
	e.ID[0], e.ID[1], e.ID[2] = 1, byte(seq>>8), byte(seq)
	return e
}

func msgEntries(room string, from, to uint64) []Entry {
	var out []Entry
	for s := from; s <= to; s++ {
		out = append(out, msgEntry(room, s))
	}
	return out
}

func TestStoreCommitAndPages(t *testing.T) {
	st := openTestStore(t)
	r, err := st.Commit(Room{ID: testRoom, Name: "Lobby", State: proto.StateJoined}, msgEntries(testRoom, 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	if r.Low != 1 || r.Cursor != 10 || r.Head != 10 {
		t.Fatalf("after commit: %+v", r)
	}
	// A hole is refused and nothing of it is written.
	_, err = st.Commit(r, msgEntries(testRoom, 12, 13))
	if !errors.Is(err, ErrGap) {
		t.Fatalf("commit with a hole: %v, want ErrGap", err)
	}
	// A duplicate is refused too.
	if _, err = st.Commit(r, msgEntries(testRoom, 10, 11)); !errors.Is(err, ErrGap) {
		t.Fatalf("commit of a duplicate: %v, want ErrGap", err)
	}
	got, err := st.Recent(testRoom, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Seq != 8 || got[2].Seq != 10 {
		t.Fatalf("Recent(3) = %v", seqs(got))
	}
	want := msgEntry(testRoom, 9)
	if g := got[1]; g.ID != want.ID || string(g.Raw) != string(want.Raw) || !g.Time.Equal(want.Time) || g.Sender != want.Sender || g.Kind != want.Kind {
		t.Errorf("entry 9 round trip: got %+v want %+v", g, want)
	}
	page, err := st.Before(testRoom, 3, 10)
	if err != nil || len(page) != 2 || page[0].Seq != 1 {
		t.Fatalf("Before(3) = %v, %v", seqs(page), err)
	}
}

func TestStoreRebaseAndOlder(t *testing.T) {
	st := openTestStore(t)
	// A first sync that starts at 100 (backfill): the run is 101..
	if err := st.SaveRoom(Room{ID: testRoom, Low: 101, Cursor: 100, Head: 120}); err != nil {
		t.Fatal(err)
	}
	r, err := st.Commit(Room{ID: testRoom, Head: 120}, msgEntries(testRoom, 101, 120))
	if err != nil {
		t.Fatal(err)
	}
	if r.Low != 101 || r.Cursor != 120 {
		t.Fatalf("run %d..%d", r.Low, r.Cursor)
	}
	if _, err := st.CommitOlder(testRoom, msgEntries(testRoom, 90, 99)); !errors.Is(err, ErrGap) {
		t.Fatalf("older page not adjacent: %v, want ErrGap", err)
	}
	low, err := st.CommitOlder(testRoom, msgEntries(testRoom, 91, 100))
	if err != nil || low != 91 {
		t.Fatalf("CommitOlder = %d, %v", low, err)
	}
	page, err := st.Before(testRoom, 102, 5)
	if err != nil || fmt.Sprint(seqs(page)) != "[97 98 99 100 101]" {
		t.Fatalf("Before(102, 5) = %v, %v", seqs(page), err)
	}
}

func TestOutboxLifecycle(t *testing.T) {
	st := openTestStore(t)
	now := time.Unix(1763790000, 0)
	id := msgEntry(testRoom, 1).ID
	it, err := st.Enqueue(testRoom, id, []byte("raw"), now)
	if err != nil || it.State != Pending || it.LocalID == 0 {
		t.Fatalf("Enqueue = %+v, %v", it, err)
	}
	again, err := st.Enqueue(testRoom, id, []byte("raw"), now)
	if err != nil || again.LocalID != it.LocalID {
		t.Fatalf("second Enqueue = %+v, %v; want the same item", again, err)
	}
	if err := st.MarkAttempt(id); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkFailed(id, "forbidden"); err != nil {
		t.Fatal(err)
	}
	if err := st.Discard(id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OutboxItem(id); !errors.Is(err, ErrNotInOutbox) {
		t.Fatalf("after discard: %v", err)
	}
	it, _ = st.Enqueue(testRoom, id, []byte("raw"), now)
	if err := st.MarkFailed(id, "rate"); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkRetry(id); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkAcked(id, 7, now); err != nil {
		t.Fatal(err)
	}
	// A late refusal must not undo an ack, and a pending item cannot be discarded.
	if err := st.MarkFailed(id, "late"); err != nil {
		t.Fatal(err)
	}
	got, err := st.OutboxItem(id)
	if err != nil || got.State != Acked || got.Seq != 7 || got.Attempts != 0 || !got.Time.Equal(now) {
		t.Fatalf("acked item = %+v, %v", got, err)
	}
	pending, err := st.Outbox(Pending)
	if err != nil || len(pending) != 0 {
		t.Fatalf("Outbox(Pending) = %v, %v", pending, err)
	}
	if err := st.PruneAcked(now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if all, _ := st.Outbox(); len(all) != 0 {
		t.Fatalf("after prune: %v", all)
	}
	var unknown content.MessageID
	if err := st.MarkAcked(unknown, 1, now); !errors.Is(err, ErrNotInOutbox) {
		t.Fatalf("ack of unknown ID: %v", err)
	}
}

func TestStoreSchemaVersionChecked(t *testing.T) {
	path := filepath.Join(t.TempDir(), StoreFile)
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta("schema", "99"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := OpenStore(path); err == nil {
		t.Fatal("OpenStore accepted a store of another schema version")
	}
}

func seqs(es []Entry) []uint64 {
	out := make([]uint64, len(es))
	for i := range es {
		out[i] = es[i].Seq
	}
	return out
}

// The outbox's durability promise rests on these two settings.
func TestStoreIsWALWithFullSync(t *testing.T) {
	st := openTestStore(t)
	var mode string
	var sync int
	if err := st.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := st.db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 {
		t.Fatalf("journal_mode %q synchronous %d; want wal and 2 (FULL)", mode, sync)
	}
}

func TestTokenBucket(t *testing.T) {
	b := newTokenBucket(10, 3)
	now := time.Unix(0, 0)
	var waits []time.Duration
	for range 5 {
		waits = append(waits, b.take(now))
	}
	want := []time.Duration{0, 0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	// After a second the bucket is full again (capped at the burst).
	now = now.Add(time.Second)
	if w := b.take(now); w != 0 {
		t.Fatalf("after refill: wait %v", w)
	}
	if w := newTokenBucket(0, 1).take(now); w != 0 {
		t.Fatalf("unlimited rate waits %v", w)
	}
}

// A relay whose log is shorter than the cache (its data was reset) restarts
// the room's run at its head, so new entries are not taken for duplicates.
func TestSubscribedBehindTheCacheRestartsTheRun(t *testing.T) {
	st := openTestStore(t)
	if _, err := st.Commit(Room{ID: testRoom, State: proto.StateJoined}, msgEntries(testRoom, 1, 20)); err != nil {
		t.Fatal(err)
	}
	r, _, _ := st.Room(testRoom)
	s := &Session{store: st, q: newEventQueue(), rooms: map[string]*roomSync{testRoom: {Room: r}}}
	defer s.q.close()
	s.subscribedLocked(&proto.Subscribed{Room: testRoom, LastSeq: 3, FirstSeq: 1})
	got, _, _ := st.Room(testRoom)
	if got.Cursor != 3 || got.Low != 4 || got.Head != 3 {
		t.Fatalf("room after a reset relay: %+v", got)
	}
	c := &conn{out: make(chan []byte, 8), done: make(chan struct{}), fills: map[uint64]string{}}
	s.acceptLocked(c, msgEntry(testRoom, 4))
	s.flushLocked(c)
	if got, _, _ := st.Room(testRoom); got.Cursor != 4 {
		t.Fatalf("seq 4 from the reset relay was not taken: %+v", got)
	}
	if ev := <-s.q.out; fmt.Sprint(ev) == "" {
		t.Fatal("no event")
	} else if _, ok := ev.(ErrorEvent); !ok {
		t.Fatalf("first event %T, want the ErrorEvent reporting the reset", ev)
	}
}
