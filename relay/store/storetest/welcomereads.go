package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"mimichat/relay/store"
)

// sameWelcomeReads checks that WelcomeEntries, WelcomeData and WelcomeTree
// agree with Welcomes for device: the same Welcomes in the same order, the
// same sizes and the same bytes, nil trees where Welcomes has none.
func sameWelcomeReads(t *testing.T, s store.Store, when, device string) {
	t.Helper()
	ctx := context.Background()
	ws, err := s.Welcomes(ctx, device)
	if err != nil {
		t.Fatalf("%s: Welcomes of %s: %v", when, device, err)
	}
	es, err := s.WelcomeEntries(ctx, device)
	if err != nil || len(es) != len(ws) {
		t.Fatalf("%s: WelcomeEntries of %s: %d, %v; Welcomes has %d", when, device, len(es), err, len(ws))
	}
	for i, w := range ws {
		want := store.WelcomeEntry{Room: w.Room, Seq: w.Seq, Size: len(w.Data), TreeSize: len(w.RatchetTree)}
		if es[i] != want {
			t.Fatalf("%s: entry %d of %s: %+v, Welcomes has %+v", when, i, device, es[i], want)
		}
		data, err := s.WelcomeData(ctx, device, w.Room, w.Seq)
		if err != nil || !bytes.Equal(data, w.Data) {
			t.Fatalf("%s: WelcomeData of %s #%d for %s: %d bytes, %v; want %d", when, w.Room, w.Seq, device, len(data), err, len(w.Data))
		}
		tree, err := s.WelcomeTree(ctx, device, w.Room, w.Seq)
		if err != nil || !bytes.Equal(tree, w.RatchetTree) || (w.RatchetTree == nil) != (tree == nil) {
			t.Fatalf("%s: WelcomeTree of %s #%d for %s: %d bytes (nil %v), %v; want %d (nil %v)", when, w.Room, w.Seq, device,
				len(tree), tree == nil, err, len(w.RatchetTree), w.RatchetTree == nil)
		}
	}
}

// welcomeNotFound checks that neither WelcomeData nor WelcomeTree finds a
// Welcome of device from room's invite seq.
func welcomeNotFound(t *testing.T, s store.Store, when, device, room string, seq uint64) {
	t.Helper()
	ctx := context.Background()
	if data, err := s.WelcomeData(ctx, device, room, seq); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: WelcomeData of %s #%d for %s: %d bytes, %v; want ErrNotFound", when, room, seq, device, len(data), err)
	}
	if tree, err := s.WelcomeTree(ctx, device, room, seq); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: WelcomeTree of %s #%d for %s: %d bytes, %v; want ErrNotFound", when, room, seq, device, len(tree), err)
	}
}

// testWelcomeReads: the one Welcome a page or part answers from is read by
// device, room and seq, with or without its tree, agreeing with Welcomes;
// one not stored for that device (another device's, another seq's, an
// unknown device's, one whose membership ended) is ErrNotFound; a Welcome
// whose invite keeps a tree for other devices but not for it has none.
func testWelcomeReads(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	created := kpNow.Truncate(time.Millisecond)
	w := func(device, user, room string, seq uint64, tree []byte) store.Welcome {
		return store.Welcome{Device: device, User: user, Room: room, Seq: seq, Data: []byte(fmt.Sprintf("welcome %s %s #%d", device, room, seq)),
			Created: created, RatchetTree: tree}
	}
	treeA2 := bytes.Repeat([]byte("tree of a #2 "), 100)
	treeA3 := bytes.Repeat([]byte("tree of a #3 "), 300)
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA), room(roomB)}, Events: []store.Event{ev(roomA, 1, ""), ev(roomB, 1, "")}})
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 2, ""), ev(roomB, 2, "")}, Welcomes: []store.Welcome{
		w(aliceLaptop, alice, roomA, 2, treeA2), w(alicePhone, alice, roomA, 2, nil), w(bobLaptop, bob, roomA, 2, treeA2),
		w(aliceLaptop, alice, roomB, 2, nil)}})
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 3, "")}, Welcomes: []store.Welcome{w(aliceLaptop, alice, roomA, 3, treeA3)}})

	devices := []string{aliceLaptop, alicePhone, bobLaptop}
	for _, d := range devices {
		sameWelcomeReads(t, s, "stored", d)
	}
	if tree, err := s.WelcomeTree(ctx, aliceLaptop, roomA, 3); err != nil || !bytes.Equal(tree, treeA3) {
		t.Fatalf("the tree of a #3: %d bytes, %v; want %d", len(tree), err, len(treeA3))
	}
	// The invite keeps a tree for the laptops' Welcomes, not the phone's.
	if tree, err := s.WelcomeTree(ctx, alicePhone, roomA, 2); err != nil || tree != nil {
		t.Fatalf("the phone's Welcome without a tree: %d bytes, %v; want nil", len(tree), err)
	}
	if data, err := s.WelcomeData(ctx, alicePhone, roomA, 2); err != nil || !bytes.Equal(data, w(alicePhone, alice, roomA, 2, nil).Data) {
		t.Fatalf("the phone's Welcome: %q, %v", data, err)
	}
	if es, err := s.WelcomeEntries(ctx, "mimi://example.com/d/carol/x"); err != nil || len(es) != 0 {
		t.Fatalf("entries of an unknown device: %+v, %v", es, err)
	}
	for _, tc := range []struct {
		name, device, room string
		seq                uint64
	}{
		{"another seq", aliceLaptop, roomA, 9},
		{"another device's", alicePhone, roomB, 2},
		{"an unknown device", "mimi://example.com/d/carol/x", roomA, 2},
		{"an unknown room", aliceLaptop, "mimi://example.com/r/none", 2},
	} {
		welcomeNotFound(t, s, tc.name, tc.device, tc.room, tc.seq)
	}

	// alice's membership of room A ends: her Welcomes for A go, bob's stays
	// with the tree they shared.
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 4, "")}, DropWelcomes: []store.RoomUser{{Room: roomA, User: alice}}})
	welcomeNotFound(t, s, "dropped", aliceLaptop, roomA, 2)
	welcomeNotFound(t, s, "dropped", aliceLaptop, roomA, 3)
	welcomeNotFound(t, s, "dropped", alicePhone, roomA, 2)
	if tree, err := s.WelcomeTree(ctx, bobLaptop, roomA, 2); err != nil || !bytes.Equal(tree, treeA2) {
		t.Fatalf("bob's tree after alice's drop: %d bytes, %v; want %d", len(tree), err, len(treeA2))
	}
	s = reopen(t, s, o)
	for _, d := range devices {
		sameWelcomeReads(t, s, "reopened", d)
	}
}

// allocatedBy is how many bytes of Go heap n calls of f allocate, per call.
func allocatedBy(t *testing.T, n int, f func() error) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}

// testWelcomeReadsAlone: reading one Welcome, its tree, or the device's
// entries costs the same whether the device has 1 or 200 other Welcomes
// with trees of their own. Welcomes reads every tree (about 12.5 MiB of
// them here); measured in bytes allocated, which a read of the others'
// trees or bytes would grow by megabytes, whatever the machine's load.
func testWelcomeReadsAlone(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	const treeBytes = 64 << 10
	const others = 200
	created := kpNow.Truncate(time.Millisecond)
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA)}, Events: []store.Event{ev(roomA, 1, "")}})
	seq := uint64(1)
	// addWelcomes stores n more Welcomes of aliceLaptop, each from an
	// invite of its own with a tree of its own.
	addWelcomes := func(n int) {
		for n > 0 {
			var b store.Batch
			for range min(n, 20) {
				seq++
				tree := bytes.Repeat([]byte{byte(seq)}, treeBytes)
				b.Events = append(b.Events, ev(roomA, seq, ""))
				b.Welcomes = append(b.Welcomes, store.Welcome{Device: aliceLaptop, User: alice, Room: roomA, Seq: seq,
					Data: bytes.Repeat([]byte{byte(seq)}, 500), Created: created, RatchetTree: tree})
				n--
			}
			appendOK(t, s, b)
		}
	}
	addWelcomes(2) // the one read (seq 2) and 1 other
	const target = 2
	type cost struct{ data, tree, entries, welcomes uint64 }
	measure := func() cost {
		const calls = 10
		return cost{
			data: allocatedBy(t, calls, func() error { _, err := s.WelcomeData(ctx, aliceLaptop, roomA, target); return err }),
			tree: allocatedBy(t, calls, func() error { _, err := s.WelcomeTree(ctx, aliceLaptop, roomA, target); return err }),
			entries: allocatedBy(t, calls, func() error {
				_, err := s.WelcomeEntries(ctx, aliceLaptop)
				return err
			}),
			welcomes: allocatedBy(t, 2, func() error {
				_, err := s.Welcomes(ctx, aliceLaptop)
				return err
			}),
		}
	}
	one := measure()
	addWelcomes(others - 1)
	many := measure()
	t.Logf("bytes allocated a call with 1 other Welcome / with %d: WelcomeData %d / %d, WelcomeTree %d / %d, WelcomeEntries %d / %d, Welcomes %d / %d",
		others, one.data, many.data, one.tree, many.tree, one.entries, many.entries, one.welcomes, many.welcomes)
	// A read that touched the others' trees would allocate at least
	// others × treeBytes (12.5 MiB); their Welcomes' bytes, 100 KB and
	// each record's read.
	const slack = 64 << 10
	if many.data > 2*one.data+slack {
		t.Errorf("WelcomeData allocates %d bytes with %d other Welcomes, %d with 1: it grows with the others", many.data, others, one.data)
	}
	if many.tree > 2*one.tree+slack {
		t.Errorf("WelcomeTree allocates %d bytes with %d other Welcomes, %d with 1: it grows with the others", many.tree, others, one.tree)
	}
	// The entries grow with their number (each record is read), never
	// with their trees, which Welcomes reads.
	if many.entries+others*treeBytes/2 > many.welcomes {
		t.Errorf("WelcomeEntries of %d Welcomes allocates %d bytes, Welcomes %d: it reads their trees (%d bytes each)",
			others+1, many.entries, many.welcomes, treeBytes)
	}
}
