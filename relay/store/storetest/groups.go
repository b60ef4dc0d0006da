package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"mimichat/relay/store"
)

func groupOf(s store.Store, t *testing.T, uri string) *store.Group {
	t.Helper()
	rooms, err := s.LoadRooms(context.Background())
	if err != nil {
		t.Fatalf("LoadRooms: %v", err)
	}
	for _, r := range rooms {
		if r.URI == uri {
			return r.Group
		}
	}
	t.Fatalf("room %s not loaded", uri)
	return nil
}

// testGroups: an encrypted room's group is stored with the batch that
// changed it (all or nothing), upserted, survives a reopen, and a
// plaintext room has none.
func testGroups(t *testing.T, o Opener) {
	s := open(t, o)
	g0 := store.Group{Room: roomA, Suite: 1, Epoch: 0, State: []byte("state 0"), GroupInfo: []byte("gi 0")}
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA), room(roomB)}, Events: []store.Event{ev(roomA, 1, ""), ev(roomB, 1, "")},
		Groups: []store.Group{g0}})
	if g := groupOf(s, t, roomB); g != nil {
		t.Fatalf("plaintext room has group %+v", g)
	}
	g1 := store.Group{Room: roomA, Suite: 1, Epoch: 1, State: []byte("state 1"), GroupInfo: []byte("gi 1")}
	g2 := store.Group{Room: roomA, Suite: 1, Epoch: 2, State: []byte("state 2"), GroupInfo: []byte("gi 2")}
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 2, ""), ev(roomA, 3, "")}, Groups: []store.Group{g1, g2}})
	// A failing batch (a seq gap) stores its group change neither.
	err := s.AppendBatch(context.Background(), store.Batch{Events: []store.Event{ev(roomA, 9, "")},
		Groups: []store.Group{{Room: roomA, Suite: 1, Epoch: 3, State: []byte("lost"), GroupInfo: []byte("lost")}}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("gap: %v, want ErrConflict", err)
	}
	err = s.AppendBatch(context.Background(), store.Batch{Groups: []store.Group{{Room: "mimi://example.com/r/none", Suite: 1, State: []byte("x"), GroupInfo: []byte("x")}}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("group of an unknown room: %v, want ErrNotFound", err)
	}
	s = reopen(t, s, o)
	g := groupOf(s, t, roomA)
	if g == nil || g.Epoch != 2 || g.Suite != 1 || !bytes.Equal(g.State, g2.State) || !bytes.Equal(g.GroupInfo, g2.GroupInfo) {
		t.Fatalf("after reopen: %+v, want %+v", g, g2)
	}
}

// testWelcomes: Welcomes are stored per device, listed by device, deleted
// with the membership they belong to and by age; a second Welcome for the
// same device, room and seq fails the batch.
func testWelcomes(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	created := kpNow.Truncate(time.Millisecond)
	w := func(device, user, room string, seq uint64, age time.Duration) store.Welcome {
		return store.Welcome{Device: device, User: user, Room: room, Seq: seq, Data: []byte("welcome " + device + room), Created: created.Add(-age)}
	}
	// The ratchet tree kept beside a Welcome (protocol version 8) comes back
	// with it; a Welcome without one comes back without.
	withTree := w(aliceLaptop, alice, roomA, 2, 0)
	withTree.RatchetTree = []byte("tree of " + roomA)
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA), room(roomB)}, Events: []store.Event{ev(roomA, 1, ""), ev(roomB, 1, "")}})
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 2, ""), ev(roomB, 2, "")}, Welcomes: []store.Welcome{
		withTree, w(alicePhone, alice, roomA, 2, 0), w(aliceLaptop, alice, roomB, 2, 40*24*time.Hour),
		w(bobLaptop, bob, roomA, 2, 0)}})
	got, err := s.Welcomes(ctx, aliceLaptop)
	if err != nil || len(got) != 2 || got[0].Room != roomA || got[1].Room != roomB || got[0].Seq != 2 || got[0].User != alice ||
		!bytes.Equal(got[0].Data, []byte("welcome "+aliceLaptop+roomA)) || !got[0].Created.Equal(created) ||
		!bytes.Equal(got[0].RatchetTree, withTree.RatchetTree) || got[1].RatchetTree != nil {
		t.Fatalf("welcomes of the laptop: %+v, %v", got, err)
	}
	if got, err := s.Welcomes(ctx, "mimi://example.com/d/carol/x"); err != nil || len(got) != 0 {
		t.Fatalf("welcomes of an unknown device: %+v, %v", got, err)
	}
	err = s.AppendBatch(ctx, store.Batch{Events: []store.Event{ev(roomA, 3, "")}, Welcomes: []store.Welcome{w(bobLaptop, bob, roomA, 2, 0)}})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second welcome for the same device, room and seq: %v, want ErrDuplicate", err)
	}
	// alice's membership of room A ends: both her devices' Welcomes for A go, bob's and hers for B stay.
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 3, "")}, DropWelcomes: []store.RoomUser{{Room: roomA, User: alice}}})
	for dev, n := range map[string]int{aliceLaptop: 1, alicePhone: 0, bobLaptop: 1} {
		if got, err := s.Welcomes(ctx, dev); err != nil || len(got) != n {
			t.Fatalf("after the drop, %s has %+v, %v; want %d", dev, got, err, n)
		}
	}
	n, err := s.DeleteWelcomesBefore(ctx, created.Add(-30*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("DeleteWelcomesBefore: %d, %v; want 1", n, err)
	}
	s = reopen(t, s, o)
	if got, err := s.Welcomes(ctx, aliceLaptop); err != nil || len(got) != 0 {
		t.Fatalf("the old welcome is back: %+v, %v", got, err)
	}
	if got, err := s.Welcomes(ctx, bobLaptop); err != nil || len(got) != 1 {
		t.Fatalf("bob's welcome: %+v, %v", got, err)
	}
}

// largeTreeBytes is the size of the ratchet tree of a room of about 6,000
// members (209 bytes a member, measured on trees of 1,000-5,000 members
// with device URIs of 35 bytes): over NATS's 1 MB max payload.
const largeTreeBytes = 6000 * 209

const bobPhone = "mimi://example.com/d/bob/phone"

// testWelcomeLargeTree: an invite's ratchet tree of a room of thousands of
// members, kept beside the Welcomes of three devices, is stored and comes
// back whole with each; it stays while one of its Welcomes does, through a
// membership's end and the age sweep, and a later invite's tree is its own.
func testWelcomeLargeTree(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	created := kpNow.Truncate(time.Millisecond)
	tree := make([]byte, largeTreeBytes)
	for i := range tree {
		tree[i] = byte(i*7 + i>>9)
	}
	w := func(device, user string, seq uint64, tree []byte, age time.Duration) store.Welcome {
		return store.Welcome{Device: device, User: user, Room: roomA, Seq: seq, Data: []byte("welcome " + device),
			Created: created.Add(-age), RatchetTree: tree}
	}
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA)}, Events: []store.Event{ev(roomA, 1, "")}})
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 2, "")}, Welcomes: []store.Welcome{
		w(aliceLaptop, alice, 2, tree, 40*24*time.Hour), w(alicePhone, alice, 2, tree, 0), w(bobLaptop, bob, 2, tree, 0)}})
	later := append([]byte("a later epoch's tree "), tree[:1000]...)
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 3, "")}, Welcomes: []store.Welcome{w(bobPhone, bob, 3, later, 0)}})
	check := func(when, device string, want ...[]byte) {
		t.Helper()
		got, err := s.Welcomes(ctx, device)
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s: welcomes of %s: %d, %v; want %d", when, device, len(got), err, len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i].RatchetTree, want[i]) {
				t.Fatalf("%s: welcome %d of %s: tree of %d bytes, want %d", when, i, device, len(got[i].RatchetTree), len(want[i]))
			}
		}
		// A tree over NATS's max payload, in chunks: read alone, whole.
		sameWelcomeReads(t, s, when, device)
	}
	for _, d := range []string{aliceLaptop, alicePhone, bobLaptop} {
		check("stored", d, tree)
	}
	check("stored", bobPhone, later)
	// alice's membership ends: bob's Welcome still names the tree.
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 4, "")}, DropWelcomes: []store.RoomUser{{Room: roomA, User: alice}}})
	check("alice dropped", alicePhone)
	check("alice dropped", bobLaptop, tree)
	s = reopen(t, s, o)
	check("reopened", bobLaptop, tree)
	if n, err := s.DeleteWelcomesBefore(ctx, created.Add(time.Millisecond)); err != nil || n != 2 {
		t.Fatalf("DeleteWelcomesBefore: %d, %v; want 2", n, err)
	}
	check("swept", bobLaptop)
	check("swept", bobPhone)
}

// testKeyPackageOwner: an uploaded KeyPackage's ref names its device,
// still after the KeyPackage was claimed; not after the device is removed.
func testKeyPackageOwner(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	put(t, s, dev(alice, aliceLaptop), kps("a", 1, 2, false))
	put(t, s, dev(bob, bobLaptop), kps("b", 1, 1, false))
	if _, err := s.KeyPackageOwner(ctx, []byte("ref:nope")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown ref: %v, want ErrNotFound", err)
	}
	claim(t, s, alice, 1) // takes a-0
	s = reopen(t, s, o)
	for ref, want := range map[string]store.Device{"ref:a-0": dev(alice, aliceLaptop), "ref:a-1": dev(alice, aliceLaptop), "ref:b-0": dev(bob, bobLaptop)} {
		d, err := s.KeyPackageOwner(ctx, []byte(ref))
		if err != nil || d.URI != want.URI || d.User != want.User {
			t.Fatalf("owner of %s: %+v, %v; want %s", ref, d, err, want.URI)
		}
	}
	if err := s.RemoveDevice(ctx, alice, aliceLaptop); err != nil {
		t.Fatal(err)
	}
	if _, err := s.KeyPackageOwner(ctx, []byte("ref:a-0")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ref of a removed device: %v, want ErrNotFound", err)
	}
}

// testGroupTreeChunks: a group's tree chunks are upserted by index with the
// batch (only the changed ones travel), several changes in one batch apply
// in order, a shrunk width drops the chunks past it, a failing batch stores
// none, and LoadRooms returns them all in order after a reopen.
func testGroupTreeChunks(t *testing.T, o Opener) {
	s := open(t, o)
	chunk := func(i uint32, v string) store.TreeChunk {
		return store.TreeChunk{Index: i, Data: []byte(fmt.Sprintf("chunk %d %s", i, v))}
	}
	want := func(s store.Store, width uint32, chunks ...store.TreeChunk) {
		t.Helper()
		g := groupOf(s, t, roomA)
		if g == nil || g.TreeWidth != width || len(g.TreeChunks) != len(chunks) {
			t.Fatalf("group %+v, want width %d and %d chunks", g, width, len(chunks))
		}
		for i, c := range chunks {
			if g.TreeChunks[i].Index != c.Index || !bytes.Equal(g.TreeChunks[i].Data, c.Data) {
				t.Fatalf("chunk %d: %d %q, want %d %q", i, g.TreeChunks[i].Index, g.TreeChunks[i].Data, c.Index, c.Data)
			}
		}
	}
	gr := func(epoch uint64, width uint32, chunks ...store.TreeChunk) store.Group {
		return store.Group{Room: roomA, Suite: 1, Epoch: epoch, State: []byte("s"), GroupInfo: []byte("gi"), TreeWidth: width, TreeChunks: chunks}
	}
	// 255 nodes: 4 chunks.
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA)}, Events: []store.Event{ev(roomA, 1, "")},
		Groups: []store.Group{gr(0, 255, chunk(0, "a"), chunk(1, "a"), chunk(2, "a"), chunk(3, "a"))}})
	want(s, 255, chunk(0, "a"), chunk(1, "a"), chunk(2, "a"), chunk(3, "a"))
	// Two commits in one batch, each with its changed chunks.
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 2, ""), ev(roomA, 3, "")},
		Groups: []store.Group{gr(1, 255, chunk(1, "b"), chunk(3, "b")), gr(2, 255, chunk(3, "c"))}})
	want(s, 255, chunk(0, "a"), chunk(1, "b"), chunk(2, "a"), chunk(3, "c"))
	// A failing batch changes no chunk.
	err := s.AppendBatch(context.Background(), store.Batch{Events: []store.Event{ev(roomA, 9, "")},
		Groups: []store.Group{gr(3, 255, chunk(0, "lost"))}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("gap: %v, want ErrConflict", err)
	}
	// The tree shrinks to 127 nodes (2 chunks), then grows back to 255:
	// the regrown chunks are the ones written then, not the old ones.
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 4, "")}, Groups: []store.Group{gr(3, 127, chunk(1, "d"))}})
	want(s, 127, chunk(0, "a"), chunk(1, "d"))
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 5, "")}, Groups: []store.Group{gr(4, 255, chunk(2, "e"), chunk(3, "e"))}})
	s = reopen(t, s, o)
	want(s, 255, chunk(0, "a"), chunk(1, "d"), chunk(2, "e"), chunk(3, "e"))
	// A row without chunks (width 0) leaves the tree to State/GroupInfo.
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 6, "")}, Groups: []store.Group{gr(5, 0)}})
	want(s, 0)
}
