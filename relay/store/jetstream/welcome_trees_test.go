package jetstream

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/relay/store"
)

// TestWelcomeTreeStoredOnce: an invite's ratchet tree is stored once, in
// chunks, however many devices its Welcomes go to (it was written into
// each device's Welcome record, and a record over 1 MB failed the batch),
// and its chunks go when the last Welcome naming them does: through a
// membership's end (DropWelcomes) and through the age sweep.
func TestWelcomeTreeStoredOnce(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	const room = "mimi://example.com/r/big"
	tree := bytes.Repeat([]byte("0123456789abcdef"), 6000*209/16) // a room of about 6,000 members
	now := time.Now().Truncate(time.Millisecond)
	b := store.Batch{Rooms: []store.Room{{URI: room}}, Events: []store.Event{{Room: room, Seq: 1, TS: 1, Frame: []byte{1}}}}
	for i := range 40 {
		user := fmt.Sprintf("mimi://example.com/u/u%d", i%20)
		b.Welcomes = append(b.Welcomes, store.Welcome{Device: fmt.Sprintf("mimi://example.com/d/u%d/d%d", i%20, i), User: user,
			Room: room, Seq: 1, Data: []byte("w"), Created: now, RatchetTree: tree})
	}
	if err := s.AppendBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	chunks := func() int {
		t.Helper()
		subjs, err := s.subjects(ctx, "m.wtree.>")
		if err != nil {
			t.Fatal(err)
		}
		live, err := s.getAll(ctx, subjs) // a deletion in a batch leaves an empty message
		if err != nil {
			t.Fatal(err)
		}
		return len(live)
	}
	want := int(welcomeTreeChunks(len(tree)))
	if n := chunks(); n != want || want < 2 {
		t.Fatalf("%d tree chunks stored for 40 Welcomes of one invite, want %d (a tree of %d bytes)", n, want, len(tree))
	}
	info, err := s.js.Stream(ctx, s.stream)
	if err != nil {
		t.Fatal(err)
	}
	if st := info.CachedInfo().State; st.Bytes > uint64(3*len(tree)) {
		t.Fatalf("the stream holds %d bytes for one tree of %d", st.Bytes, len(tree))
	}
	// Every user's membership but u0's ends: u0's two Welcomes keep the tree.
	var drop []store.RoomUser
	for i := 1; i < 20; i++ {
		drop = append(drop, store.RoomUser{Room: room, User: fmt.Sprintf("mimi://example.com/u/u%d", i)})
	}
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{{Room: room, Seq: 2, TS: 2, Frame: []byte{2}}}, DropWelcomes: drop}); err != nil {
		t.Fatal(err)
	}
	if n := chunks(); n != want {
		t.Fatalf("%d tree chunks while u0's Welcomes name the tree, want %d", n, want)
	}
	ws, err := s.Welcomes(ctx, "mimi://example.com/d/u0/d20")
	if err != nil || len(ws) != 1 || !bytes.Equal(ws[0].RatchetTree, tree) {
		t.Fatalf("u0's Welcome: %d, %v", len(ws), err)
	}
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{{Room: room, Seq: 3, TS: 3, Frame: []byte{3}}},
		DropWelcomes: []store.RoomUser{{Room: room, User: "mimi://example.com/u/u0"}}}); err != nil {
		t.Fatal(err)
	}
	if n := chunks(); n != 0 {
		t.Fatalf("%d tree chunks after the last Welcome naming them was dropped", n)
	}

	// The age sweep: a second invite's Welcomes all expire.
	b = store.Batch{Events: []store.Event{{Room: room, Seq: 4, TS: 4, Frame: []byte{4}}}}
	for i := range 3 {
		b.Welcomes = append(b.Welcomes, store.Welcome{Device: fmt.Sprintf("mimi://example.com/d/v/d%d", i), User: "mimi://example.com/u/v",
			Room: room, Seq: 4, Data: []byte("w"), Created: now, RatchetTree: tree})
	}
	if err := s.AppendBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteWelcomesBefore(ctx, now.Add(time.Millisecond)); err != nil || n != 3 {
		t.Fatalf("DeleteWelcomesBefore: %d, %v; want 3", n, err)
	}
	if n := chunks(); n != 0 {
		t.Fatalf("%d tree chunks after the sweep took every Welcome naming them", n)
	}
}

// BenchmarkWelcomeRealTree builds a real MLS group of members devices
// (device URIs of 35 bytes, 500 adds a commit, then one commit with a
// path, as an invite's), reports its ratchet tree's bytes per member, and
// stores an invite's Welcomes for three devices with that tree and reads
// one back: the record that failed over NATS's 1 MB max payload.
//
//	go test -run X -bench BenchmarkWelcomeRealTree -benchtime 1x ./relay/store/jetstream/
func BenchmarkWelcomeRealTree(b *testing.B) {
	for _, members := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			tree := realTree(b, members)
			s, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			const room = "mimi://example.com/r/big"
			if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room}}}); err != nil {
				b.Fatal(err)
			}
			seq := uint64(0)
			for b.Loop() {
				seq++
				batch := store.Batch{Events: []store.Event{{Room: room, Seq: seq, TS: int64(seq), Frame: []byte{1}}}}
				for i := range 3 {
					batch.Welcomes = append(batch.Welcomes, store.Welcome{Device: fmt.Sprintf("mimi://example.com/d/new/d%d", i),
						User: "mimi://example.com/u/new", Room: room, Seq: seq, Data: []byte("welcome"), Created: time.Now(), RatchetTree: tree})
				}
				if err := s.AppendBatch(ctx, batch); err != nil {
					b.Fatalf("a Welcome with the tree of %d members (%d bytes): %v", members, len(tree), err)
				}
				ws, err := s.Welcomes(ctx, "mimi://example.com/d/new/d0")
				if err != nil || !bytes.Equal(ws[len(ws)-1].RatchetTree, tree) {
					b.Fatalf("read back: %d, %v", len(ws), err)
				}
			}
			b.ReportMetric(float64(len(tree))/float64(members), "tree-bytes/member")
			b.ReportMetric(float64(len(tree)), "tree-bytes")
		})
	}
}

// realTree is the ratchet tree of a real MLS group of n members.
func realTree(b *testing.B, n int) []byte {
	b.Helper()
	cs := mls.X25519_AES128GCM_SHA256_Ed25519
	member := func(name string) []byte {
		id, err := mls.NewIdentity(cs, []byte(name))
		if err != nil {
			b.Fatal(err)
		}
		kp, err := mls.NewKeyPackage(id)
		if err != nil {
			b.Fatal(err)
		}
		return kp.KeyPackage
	}
	id, err := mls.NewIdentity(cs, []byte("mimi://example.com/d/creator/laptop"))
	if err != nil {
		b.Fatal(err)
	}
	g, err := mls.NewGroup(id, []byte("big"), nil)
	if err != nil {
		b.Fatal(err)
	}
	g.RatchetTreeInWelcome = false
	for have := 1; have < n; {
		adds := make([][]byte, min(500, n-have))
		for i := range adds {
			adds[i] = member(fmt.Sprintf("mimi://example.com/d/user%05d/phone", have+i))
		}
		if _, err := g.Commit(mls.CommitOptions{Add: adds}); err != nil {
			b.Fatal(err)
		}
		g.MergePendingCommit()
		have += len(adds)
	}
	if _, err := g.Commit(mls.CommitOptions{}); err != nil {
		b.Fatal(err)
	}
	g.MergePendingCommit()
	return g.RatchetTree()
}
