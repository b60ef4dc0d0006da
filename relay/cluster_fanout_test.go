package relay

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// TestFanAnnouncementCodec: an announcement decodes to the events encoded
// (none, one, several, with and without a membership end) with its
// state-changed flag, an announcement without the flag (an older node's)
// reads as changing the state, and every other truncation, trailing byte
// or impossible count is refused with errBadFan, never a panic.
func TestFanAnnouncementCodec(t *testing.T) {
	evs := []store.Event{
		{Seq: 7, TS: 1700000000000, Frame: []byte("frame seven")},
		{Seq: 8, TS: 1700000000001, Ends: "mimi://example.com/u/bob", Frame: []byte{0, 1, 2}},
		{Seq: 9, TS: -1, Frame: nil},
	}
	for _, tc := range []struct {
		name    string
		evs     []store.Event
		changed bool
	}{{"none", nil, false}, {"one", evs[:1], false}, {"several", evs, false}, {"one/state", evs[:1], true}, {"several/state", evs, true}} {
		t.Run(tc.name, func(t *testing.T) {
			data := encodeFan("_INBOX.origin", tc.evs, tc.changed)
			origin, got, err := decodeFan(data)
			if err != nil {
				t.Fatal(err)
			}
			if origin != "_INBOX.origin" || len(got) != len(tc.evs) {
				t.Fatalf("origin %q, %d events; want %d", origin, len(got), len(tc.evs))
			}
			for i, e := range tc.evs {
				g := got[i]
				if g.seq != e.Seq || g.ts != e.TS || g.ends != e.Ends || !bytes.Equal(g.frame, e.Frame) || g.state != tc.changed {
					t.Fatalf("event %d: got %+v, want %+v (state changed %v)", i, g, e, tc.changed)
				}
			}
			_, old, err := decodeFan(data[:len(data)-1])
			if err != nil || len(old) != len(tc.evs) {
				t.Fatalf("without the flag: %d events, %v; want %d", len(old), err, len(tc.evs))
			}
			for i, g := range old {
				if !g.state {
					t.Fatalf("event %d without the flag: state unchanged, want changed (unknown)", i)
				}
			}
			for n := range len(data) - 1 {
				if _, _, err := decodeFan(data[:n]); !errors.Is(err, errBadFan) {
					t.Fatalf("cut to %d of %d bytes: %v, want errBadFan", n, len(data), err)
				}
			}
			if _, _, err := decodeFan(append(bytes.Clone(data), 0)); !errors.Is(err, errBadFan) {
				t.Fatalf("trailing byte: %v, want errBadFan", err)
			}
		})
	}
	// A count larger than the bytes left.
	bad := []byte{1, 'x', 0xff, 0xff, 0x03, 0}
	if _, _, err := decodeFan(bad); !errors.Is(err, errBadFan) {
		t.Fatalf("impossible count: %v, want errBadFan", err)
	}
}

// TestClusterFanoutAfterLostAnnouncement: a node that missed announcements
// (core NATS drops messages for a slow node or across a cut route; here
// its subscription to the room's fan subject is taken away meanwhile)
// sees the gap at the next announcement and reads the missed events from
// the store: its subscriber gets every event once, in seq order, the
// missed ones included.
func TestClusterFanoutAfterLostAnnouncement(t *testing.T) {
	nodes, alice, bob, room := roomAcrossNodes(t, "gap")
	var last uint64 // the room's head: the last post's seq
	post := func(text string) { last = alice.post(room, text).Seq }
	upTo := func(to uint64, timeout time.Duration) []*proto.Event { return eventsUpTo(bob, room, to, timeout) }
	for i := range 3 {
		post(fmt.Sprintf("heard %d", i))
	}
	if evs := upTo(last, 10*time.Second); len(evs) != int(last) {
		t.Fatalf("bob got %d events before the loss, want %d", len(evs), last)
	}
	cl := nodes[1].hub.cl
	unfollow(t, cl, room)
	missedFrom := last + 1
	for i := range 4 {
		post(fmt.Sprintf("missed %d", i))
	}
	cl.follow(room)
	// The renewed interest reaches alice's node through the routes a moment
	// later: post until an announcement arrives (bounded).
	var got []*proto.Event
	for try := 0; (len(got) == 0 || got[len(got)-1].Seq < last) && try < 10; try++ {
		post(fmt.Sprintf("after %d", try))
		got = append(got, upTo(last, time.Second)...)
	}
	if want := int(last - missedFrom + 1); len(got) != want {
		t.Fatalf("bob got %d events after the loss, want %d", len(got), want)
	}
	for i, e := range got {
		if e.Seq != missedFrom+uint64(i) {
			t.Fatalf("event %d after the loss has seq %d, want %d", i, e.Seq, missedFrom+uint64(i))
		}
	}
	if extra := bob.events(room, 1, 300*time.Millisecond); len(extra) != 0 {
		t.Fatalf("bob got seq %d once more", extra[0].Seq)
	}
}

// TestClusterFanoutLostLastAnnouncement: the announcements of a room's last
// events are lost and nothing is posted after them, so no later
// announcement reveals the gap; the node's poll of the log's head still
// brings them to its subscriber, in order, within a few poll intervals.
func TestClusterFanoutLostLastAnnouncement(t *testing.T) {
	nodes, alice, bob, room := roomAcrossNodes(t, "quiet")
	var last uint64
	for i := range 2 {
		last = alice.post(room, fmt.Sprintf("heard %d", i)).Seq
	}
	if evs := eventsUpTo(bob, room, last, 10*time.Second); len(evs) == 0 || evs[len(evs)-1].Seq < last {
		t.Fatalf("bob got %d events before the loss, want up to %d", len(evs), last)
	}
	cl := nodes[1].hub.cl
	unfollow(t, cl, room)
	missedFrom := last + 1
	for i := range 3 {
		last = alice.post(room, fmt.Sprintf("missed %d", i)).Seq
	}
	cl.follow(room) // nothing is posted after this
	start := time.Now()
	for want := missedFrom; want <= last; want++ {
		evs := bob.events(room, 1, 4*pollInterval)
		if len(evs) == 0 {
			t.Fatalf("bob never got seq %d (waited %v): the lost announcements were never made up for", want, time.Since(start).Round(time.Millisecond))
		}
		if evs[0].Seq != want {
			t.Fatalf("bob got seq %d, want %d", evs[0].Seq, want)
		}
	}
	t.Logf("the missed events arrived %v after the room was followed again", time.Since(start).Round(time.Millisecond))
	if extra := bob.events(room, 1, 300*time.Millisecond); len(extra) != 0 {
		t.Fatalf("bob got seq %d once more", extra[0].Seq)
	}
}

// roomAcrossNodes starts a 3-node cluster with alice on node 0 owning an
// open room slug, which bob on node 1 has joined and subscribed to.
func roomAcrossNodes(t *testing.T, slug string) ([]*Server, *client, *client, string) {
	t.Helper()
	nodes := startCluster(t, 3)
	alice := dial(t, nodes[0].Addr(), addUser(t, nodes[0].Store(), "alice"))
	bob := dial(t, nodes[1].Addr(), addUser(t, nodes[0].Store(), "bob"))
	room := alice.createRoom(slug, proto.CreateRoom{Join: proto.JoinOpen})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, ef := bob.op(room, proto.KindJoin, ""); ef == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("bob cannot join through his node: %+v", ef)
		}
		time.Sleep(50 * time.Millisecond)
	}
	bob.subscribe(room, 0)
	return nodes, alice, bob, room
}

// eventsUpTo collects c's events of room until seq to, or until none comes
// within timeout.
func eventsUpTo(c *client, room string, to uint64, timeout time.Duration) []*proto.Event {
	var out []*proto.Event
	for len(out) == 0 || out[len(out)-1].Seq < to {
		evs := c.events(room, 1, timeout)
		if len(evs) == 0 {
			break
		}
		out = append(out, evs...)
	}
	return out
}

// unfollow makes the node of cl stop hearing room's announcements, as if
// they were lost, until cl.follow(room).
func unfollow(t *testing.T, cl *clusterLink, room string) {
	t.Helper()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if err := cl.follows[room].Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	delete(cl.follows, room)
}
