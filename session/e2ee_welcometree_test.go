package session

import (
	"errors"
	"sync"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// welcomeWatch watches (or rewrites) the welcome_list frames a tamper
// proxy carries to one session.
type welcomeWatch struct {
	mu   sync.Mutex
	seen []proto.PendingWelcome // entries as the relay sent them
}

// carolThroughProxy opens carol's session through a tamper proxy whose
// welcome_list entries go through rewrite (nil: unchanged).
func carolThroughProxy(t *testing.T, r *testRelay, w *welcomeWatch, rewrite func(*proto.PendingWelcome)) *Session {
	t.Helper()
	proxy := startTamperProxy(t, r.url(), func(f proto.Frame, raw []byte) [][]byte {
		wl, ok := f.(*proto.WelcomeList)
		if !ok {
			return [][]byte{raw}
		}
		w.mu.Lock()
		w.seen = append(w.seen, wl.Welcomes...)
		w.mu.Unlock()
		if rewrite == nil {
			return [][]byte{raw}
		}
		for i := range wl.Welcomes {
			rewrite(&wl.Welcomes[i])
		}
		return [][]byte{encodeFrame(t, wl)}
	})
	dir := t.TempDir()
	uri, tok := r.deviceToken("carol", dir)
	carol, err := Open(Options{Relay: proxy.url(), User: uri, Token: tok, DataDir: dir,
		Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}, RoomsPoll: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { carol.Close() })
	online(t, carol)
	return carol
}

// movedOnRoom makes alice's room with bob, invites carol, and moves the
// room on two more epochs (bob kicked, dave invited) with a message before
// and after, before carol looks at her Welcome. It returns the room and
// the epoch the room is at.
func movedOnRoom(t *testing.T, r *testRelay, carol *Session) (room string, at uint64) {
	t.Helper()
	alice, bob, dave := r.client("alice", ""), r.client("bob", ""), r.client("dave", "")
	for _, s := range []*Session{alice, bob, dave} {
		online(t, s)
	}
	room = newRoom(t, alice, bob)
	if _, err := alice.Invite(ctx10(t), room, carol.User()); err != nil {
		t.Fatal(err)
	}
	sendText(t, alice, room, "after the invite")
	if _, err := alice.Kick(ctx10(t), room, bob.User(), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Invite(ctx10(t), room, dave.User()); err != nil {
		t.Fatal(err)
	}
	sendText(t, alice, room, "two epochs on")
	_, at, _ = alice.EpochAuthenticator(room)
	return room, at
}

// TestJoinWelcomeTreeApart: through a real relay, alice (protocol 8)
// invites carol with a Welcome that leaves the ratchet tree out; the room
// moves on two epochs before carol joins; carol joins at the Welcome's
// epoch with the tree the relay kept beside it, catches up and reads what
// was sent since her invite.
func TestJoinWelcomeTreeApart(t *testing.T) {
	r := startRelay(t)
	var w welcomeWatch
	carol := carolThroughProxy(t, r, &w, nil)
	cc := collect(carol)
	room, at := movedOnRoom(t, r, carol)

	// What the relay listed, checked with carol's KeyPackage before she
	// uses it: the Welcome alone does not join; with the kept tree it
	// joins at its own epoch, two or more before the room's.
	rid := carol.rid()
	c, err := carol.live()
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.request(ctx10(t), rid, &proto.Welcomes{RID: rid, Device: carol.Device()})
	if err != nil {
		t.Fatal(err)
	}
	list := f.(*proto.WelcomeList)
	if len(list.Welcomes) != 1 || list.Welcomes[0].Room != room || list.Welcomes[0].RatchetTree == nil {
		t.Fatalf("welcome_list: %+v", list.Welcomes)
	}
	pw := list.Welcomes[0]
	refs, err := mls.WelcomeRecipients(pw.Welcome)
	if err != nil || len(refs) != 1 {
		t.Fatalf("recipients: %v %v", refs, err)
	}
	kpb, ok := carol.KeyPackageBundle(refs[0])
	if !ok {
		t.Fatal("carol holds no bundle for her Welcome")
	}
	if _, err := mls.JoinFromWelcome(pw.Welcome, kpb, mls.JoinOptions{}); !errors.Is(err, mls.ErrWelcome) {
		t.Fatalf("join from the Welcome alone: %v, want ErrWelcome (the tree is left out)", err)
	}
	g, err := mls.JoinFromWelcome(pw.Welcome, kpb, mls.JoinOptions{RatchetTree: pw.RatchetTree})
	if err != nil {
		t.Fatal(err)
	}
	if g.Epoch()+2 > at {
		t.Fatalf("the Welcome's epoch %d, the room's %d: not two epochs on", g.Epoch(), at)
	}

	if _, err := carol.Join(ctx10(t), room); err != nil {
		t.Fatal(err)
	}
	waitText(t, cc, room, "after the invite")
	waitText(t, cc, room, "two epochs on")
	if _, e, ok := carol.EpochAuthenticator(room); !ok || e < at {
		t.Fatalf("carol at epoch %d (%v), the room at %d", e, ok, at)
	}
}

// TestJoinRefusesWrongWelcomeTree: a relay that lists another tree beside
// the Welcome (here the room's current one, a valid tree of the wrong
// epoch) is refused: Join fails with ErrWelcomeTree (mls.ErrInvalidTree
// inside), carol holds no state of the room and keeps her KeyPackage.
func TestJoinRefusesWrongWelcomeTree(t *testing.T) {
	r := startRelay(t)
	var w welcomeWatch
	var (
		mu    sync.Mutex
		other []byte
	)
	carol := carolThroughProxy(t, r, &w, func(e *proto.PendingWelcome) {
		mu.Lock()
		defer mu.Unlock()
		if e.RatchetTree != nil {
			e.RatchetTree = other
		}
	})
	room, _ := movedOnRoom(t, r, carol)
	info, err := carol.fetchGroupInfo(ctx10(t), mustLive(t, carol), room)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	other = info.RatchetTree
	mu.Unlock()
	if other == nil {
		t.Fatal("get_group_info answered no tree")
	}
	_, err = carol.Join(ctx10(t), room)
	if !errors.Is(err, ErrWelcomeTree) || !errors.Is(err, mls.ErrInvalidTree) {
		t.Fatalf("join with a substituted tree: %v, want ErrWelcomeTree and mls.ErrInvalidTree", err)
	}
	if _, _, ok := carol.EpochAuthenticator(room); ok {
		t.Fatal("carol holds state of the room after refusing its tree")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.seen) == 0 {
		t.Fatal("no welcome_list went through the proxy")
	}
	refs, err := mls.WelcomeRecipients(w.seen[len(w.seen)-1].Welcome)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := carol.KeyPackageBundle(refs[0]); !ok {
		t.Fatal("carol's KeyPackage was used up by a refused Welcome")
	}
}

func mustLive(t *testing.T, s *Session) *conn {
	t.Helper()
	c, err := s.live()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
