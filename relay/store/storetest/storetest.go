package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"mimichat/relay/store"
)

// Opener opens the backend under test at one storage location. Each call
// of the function given to Run makes a fresh, empty location; calling the
// Opener again after Close reopens the same one (the durability checks).
type Opener func() (store.Store, error)

// Run runs the conformance suite. fresh is called once per subtest.
func Run(t *testing.T, fresh func(t *testing.T) Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Domain", testDomain},
		{"Users", testUsers},
		{"TokensAndRemoval", testTokensAndRemoval},
		{"DeviceTokens", testDeviceTokens},
		{"DeviceTokensRace", testDeviceTokensRace},
		{"Retention", testRetention},
		{"RoomExpiry", testRoomExpiry},
		{"AppendAndRead", testAppendAndRead},
		{"ContiguousSeqs", testContiguousSeqs},
		{"Dedupe", testDedupe},
		{"AllOrNothing", testAllOrNothing},
		{"RoomsAndMembers", testRoomsAndMembers},
		{"Durability", testDurability},
		{"Blobs", testBlobs},
		{"ConcurrentReaders", testConcurrentReaders},
		{"KeyPackagesSingleUse", testKeyPackagesSingleUse},
		{"KeyPackagesOutcomes", testKeyPackagesOutcomes},
		{"Devices", testDevices},
		{"ConcurrentClaims", testConcurrentClaims},
		{"Groups", testGroups},
		{"GroupTreeChunks", testGroupTreeChunks},
		{"Welcomes", testWelcomes},
		{"WelcomeLargeTree", testWelcomeLargeTree},
		{"WelcomeReads", testWelcomeReads},
		{"WelcomeReadsAlone", testWelcomeReadsAlone},
		{"KeyPackageOwner", testKeyPackageOwner},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

func open(t *testing.T, o Opener) store.Store {
	t.Helper()
	s, err := o()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	c := &closeOnce{Store: s, closed: &closed}
	if e, ok := s.(store.EventExpirer); ok {
		// The wrapper must keep the optional interface, or the tests of
		// stores implementing it skip (testRoomExpiry always did).
		return &closeOnceExpirer{closeOnce: c, EventExpirer: e}
	}
	return c
}

// closeOnce lets a test close a store early without the cleanup closing it
// again.
type closeOnce struct {
	store.Store
	closed *bool
}

func (c *closeOnce) Close() error {
	*c.closed = true
	return c.Store.Close()
}

type closeOnceExpirer struct {
	*closeOnce
	store.EventExpirer
}

// reopen closes s and opens the same location again.
func reopen(t *testing.T, s store.Store, o Opener) store.Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return open(t, o)
}

const (
	roomA = "mimi://example.com/r/a"
	roomB = "mimi://example.com/r/b"
	alice = "mimi://example.com/u/alice"
	bob   = "mimi://example.com/u/bob"
)

func room(uri string) store.Room {
	return store.Room{URI: uri, History: "shared", JoinPolicy: "invite", Receipts: "on"}
}

func key(s string) []byte {
	k := store.SubmitKey([]byte(s))
	return k[:]
}

// ev builds event seq of room; key names a message's content ("" for a
// room operation).
func ev(room string, seq uint64, content string) store.Event {
	e := store.Event{Room: room, Seq: seq, TS: 1_700_000_000_000 + int64(seq), Frame: []byte(fmt.Sprintf("frame %s #%d %s", room, seq, content))}
	if content != "" {
		e.Key = key(content)
	}
	return e
}

func appendOK(t *testing.T, s store.Store, b store.Batch) {
	t.Helper()
	if err := s.AppendBatch(context.Background(), b); err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
}

func sameEvents(t *testing.T, what string, got, want []store.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Room != w.Room || g.Seq != w.Seq || g.TS != w.TS || !bytes.Equal(g.Key, w.Key) || g.Ends != w.Ends || !bytes.Equal(g.Frame, w.Frame) {
			t.Fatalf("%s: event %d = %+v, want %+v", what, i, g, w)
		}
	}
}

func testDomain(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	if d, err := s.Domain(ctx); err != nil || d != "" {
		t.Fatalf("fresh Domain = %q, %v; want empty", d, err)
	}
	if err := s.SetDomain(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDomain(ctx, "example.com"); err != nil {
		t.Fatalf("setting the same domain again: %v", err)
	}
	if err := s.SetDomain(ctx, "other.org"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second domain: %v, want ErrConflict", err)
	}
	s = reopen(t, s, o)
	if d, err := s.Domain(ctx); err != nil || d != "example.com" {
		t.Fatalf("after reopen Domain = %q, %v", d, err)
	}
}

func testUsers(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	created := time.Unix(1_700_000_000, 0).UTC()
	hash := func(tok string) []byte { h := sha256.Sum256([]byte(tok)); return h[:] }
	users := []store.User{
		{Name: "carol", URI: "mimi://example.com/u/carol", Created: created},
		{Name: "alice", URI: alice, Created: created.Add(time.Second)},
		{Name: "bob", URI: bob, Created: created.Add(2 * time.Second)},
	}
	for _, u := range users {
		if err := s.AddUser(ctx, u, hash("token of "+u.Name)); err != nil {
			t.Fatalf("AddUser %s: %v", u.Name, err)
		}
	}
	for _, tt := range []struct {
		name string
		u    store.User
		hash []byte
	}{
		{"taken name", store.User{Name: "alice", URI: "mimi://example.com/u/alice2", Created: created}, hash("fresh 1")},
		{"taken uri", store.User{Name: "alice2", URI: alice, Created: created}, hash("fresh 2")},
		{"taken token", store.User{Name: "dave", URI: "mimi://example.com/u/dave", Created: created}, hash("token of bob")},
	} {
		if err := s.AddUser(ctx, tt.u, tt.hash); !errors.Is(err, store.ErrExists) {
			t.Fatalf("%s: %v, want ErrExists", tt.name, err)
		}
	}
	check := func(s store.Store) {
		t.Helper()
		got, err := s.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(users)
		slices.SortFunc(want, func(a, b store.User) int { return strings.Compare(a.Name, b.Name) })
		if len(got) != len(want) {
			t.Fatalf("Users = %+v", got)
		}
		for i := range got {
			if got[i].Name != want[i].Name || got[i].URI != want[i].URI || !got[i].Created.Equal(want[i].Created) {
				t.Fatalf("Users[%d] = %+v, want %+v", i, got[i], want[i])
			}
		}
		if u, err := s.UserByToken(ctx, hash("token of bob")); err != nil || u.URI != bob || u.Name != "bob" {
			t.Fatalf("UserByToken = %+v, %v", u, err)
		}
		if _, err := s.UserByToken(ctx, hash("no such token")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown token: %v, want ErrNotFound", err)
		}
		if u, err := s.UserByURI(ctx, alice); err != nil || u.Name != "alice" || !u.Created.Equal(users[1].Created) {
			t.Fatalf("UserByURI = %+v, %v", u, err)
		}
		if _, err := s.UserByURI(ctx, "mimi://example.com/u/nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown uri: %v, want ErrNotFound", err)
		}
	}
	check(s)
	check(reopen(t, s, o))
}

func testAppendAndRead(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	if h, err := s.Head(ctx, roomA); err != nil || h != (store.Stamp{}) {
		t.Fatalf("Head of an unknown room = %+v, %v; want zero", h, err)
	}
	var a, b []store.Event
	batch := store.Batch{Rooms: []store.Room{room(roomA), room(roomB)}}
	for seq := uint64(1); seq <= 10; seq++ {
		ea, eb := ev(roomA, seq, fmt.Sprintf("a%d", seq)), ev(roomB, seq, "")
		if seq == 1 {
			ea.Key, eb.Ends = nil, bob
		}
		a, b = append(a, ea), append(b, eb)
		batch.Events = append(batch.Events, ea, eb) // interleaved rooms
	}
	appendOK(t, s, batch)
	more := []store.Event{ev(roomA, 11, "a11"), ev(roomA, 12, "")}
	more[1].TS = more[0].TS // equal timestamps are fine
	appendOK(t, s, store.Batch{Events: more})
	a = append(a, more...)

	if h, err := s.Head(ctx, roomA); err != nil || h != (store.Stamp{Seq: 12, TS: a[11].TS}) {
		t.Fatalf("Head = %+v, %v", h, err)
	}
	for _, tt := range []struct {
		after uint64
		limit int
		want  []store.Event
	}{
		{0, 100, a}, {0, 3, a[:3]}, {4, 2, a[4:6]}, {11, 5, a[11:]}, {12, 5, nil}, {40, 5, nil},
	} {
		got, err := s.EventsAfter(ctx, roomA, tt.after, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, fmt.Sprintf("EventsAfter(%d, %d)", tt.after, tt.limit), got, tt.want)
	}
	got, err := s.EventsAfter(ctx, roomB, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, "EventsAfter room b", got, b)
	for _, tt := range []struct {
		from, before uint64
		limit        int
		want         []store.Event
		more         bool
	}{
		{1, 13, 100, a, false},
		{1, 13, 5, a[7:], true},
		{1, 8, 3, a[4:7], true},
		{5, 8, 3, a[4:7], false},
		{1, 4, 3, a[:3], false},
		{6, 6, 3, nil, false},
		{1, 1 << 62, 2, a[10:], true},
	} {
		got, more, err := s.EventsBefore(ctx, roomA, tt.from, tt.before, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("EventsBefore(%d, %d, %d)", tt.from, tt.before, tt.limit)
		sameEvents(t, what, got, tt.want)
		if more != tt.more {
			t.Fatalf("%s: more = %v, want %v", what, more, tt.more)
		}
	}
	if got, err := s.EventsAfter(ctx, "mimi://example.com/r/none", 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("EventsAfter of an unknown room = %v, %v", got, err)
	}
}

func testContiguousSeqs(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA)}, Events: []store.Event{ev(roomA, 1, ""), ev(roomA, 2, "m2")}})
	late := ev(roomA, 3, "late")
	late.TS = ev(roomA, 2, "").TS - 1
	for _, tt := range []struct {
		name string
		b    store.Batch
		want error
	}{
		{"gap", store.Batch{Events: []store.Event{ev(roomA, 4, "m4")}}, store.ErrConflict},
		{"seq taken", store.Batch{Events: []store.Event{ev(roomA, 2, "other")}}, store.ErrConflict},
		{"gap inside the batch", store.Batch{Events: []store.Event{ev(roomA, 3, "m3"), ev(roomA, 5, "m5")}}, store.ErrConflict},
		{"repeat inside the batch", store.Batch{Events: []store.Event{ev(roomA, 3, "m3"), ev(roomA, 3, "m3b")}}, store.ErrConflict},
		{"time goes back", store.Batch{Events: []store.Event{late}}, store.ErrConflict},
		{"new room not at 1", store.Batch{Rooms: []store.Room{room(roomB)}, Events: []store.Event{ev(roomB, 2, "")}}, store.ErrConflict},
		{"unknown room", store.Batch{Events: []store.Event{ev(roomB, 1, "")}}, store.ErrNotFound},
		{"member of an unknown room", store.Batch{Members: []store.Member{{Room: roomB, User: alice, Role: "owner", State: "joined", JoinSeq: 1}}}, store.ErrNotFound},
	} {
		if err := s.AppendBatch(ctx, tt.b); !errors.Is(err, tt.want) {
			t.Fatalf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if h, err := s.Head(ctx, roomA); err != nil || h.Seq != 2 {
		t.Fatalf("after refused batches Head = %+v, %v; want seq 2", h, err)
	}
	if rooms, err := s.LoadRooms(ctx); err != nil || len(rooms) != 1 {
		t.Fatalf("after refused batches rooms = %+v, %v; want only room a", rooms, err)
	}
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 3, "m3")}})
}

func testDedupe(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a1, a2 := ev(roomA, 2, "hello"), ev(roomA, 3, "world")
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA), room(roomB)}, Events: []store.Event{ev(roomA, 1, ""), a1, a2, ev(roomB, 1, "")}})
	for _, tt := range []struct {
		name string
		b    store.Batch
	}{
		{"stored key", store.Batch{Events: []store.Event{ev(roomA, 4, "hello")}}},
		{"key twice in the batch", store.Batch{Events: []store.Event{ev(roomA, 4, "new"), ev(roomA, 5, "new")}}},
	} {
		if err := s.AppendBatch(ctx, tt.b); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("%s: %v, want ErrDuplicate", tt.name, err)
		}
	}
	// Keys are per room: the same bytes in another room are a new message.
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomB, 2, "hello")}})

	got, err := s.Submitted(ctx, roomA, [][]byte{key("world"), key("nope"), key("hello"), key("world")})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Stamp{{Seq: 3, TS: a2.TS}, {}, {Seq: 2, TS: a1.TS}, {Seq: 3, TS: a2.TS}}
	if !slices.Equal(got, want) {
		t.Fatalf("Submitted = %+v, want %+v", got, want)
	}
	if got, err := s.Submitted(ctx, roomB, [][]byte{key("hello"), key("world")}); err != nil || got[0].Seq != 2 || got[1].Seq != 0 {
		t.Fatalf("Submitted in room b = %+v, %v", got, err)
	}
	if got, err := s.Submitted(ctx, "mimi://example.com/r/none", [][]byte{key("hello")}); err != nil || got[0].Seq != 0 {
		t.Fatalf("Submitted in an unknown room = %+v, %v", got, err)
	}
	if got, err := s.Submitted(ctx, roomA, nil); err != nil || len(got) != 0 {
		t.Fatalf("Submitted of no keys = %+v, %v", got, err)
	}
	// Many keys at once (a full group commit).
	var keys [][]byte
	var evs []store.Event
	for i := range 600 {
		e := ev(roomA, uint64(4+i), fmt.Sprintf("bulk %d", i))
		evs, keys = append(evs, e), append(keys, e.Key)
	}
	appendOK(t, s, store.Batch{Events: evs})
	got, err = s.Submitted(ctx, roomA, keys)
	if err != nil || len(got) != len(keys) {
		t.Fatalf("Submitted of %d keys: %d, %v", len(keys), len(got), err)
	}
	for i, st := range got {
		if st.Seq != uint64(4+i) {
			t.Fatalf("key %d found at %+v", i, st)
		}
	}
}

func testAllOrNothing(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA)}, Members: []store.Member{{Room: roomA, User: alice, Role: "owner", State: "joined", JoinSeq: 1}},
		Events: []store.Event{ev(roomA, 1, "")}})
	renamed := room(roomA)
	renamed.Name = "renamed"
	bad := store.Batch{
		Rooms:   []store.Room{renamed, room(roomB)},
		Members: []store.Member{{Room: roomA, User: bob, Role: "member", State: "invited"}},
		Events:  []store.Event{ev(roomA, 2, "fine"), ev(roomB, 1, ""), ev(roomA, 2, "clash")},
	}
	if err := s.AppendBatch(ctx, bad); err == nil {
		t.Fatal("a batch with a taken seq was stored")
	}
	rooms, err := s.LoadRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 1 || rooms[0].Name != "" || len(rooms[0].Members) != 1 || rooms[0].Last.Seq != 1 {
		t.Fatalf("a refused batch left %+v", rooms)
	}
	if got, _ := s.Submitted(ctx, roomA, [][]byte{key("fine")}); got[0].Seq != 0 {
		t.Fatal("a refused batch's message is stored")
	}
	// Empty batches are fine.
	appendOK(t, s, store.Batch{})
}

func testRoomsAndMembers(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	if rooms, err := s.LoadRooms(ctx); err != nil || len(rooms) != 0 {
		t.Fatalf("fresh LoadRooms = %+v, %v", rooms, err)
	}
	a := room(roomA)
	appendOK(t, s, store.Batch{Rooms: []store.Room{a, room(roomB)},
		Members: []store.Member{{Room: roomA, User: alice, Role: "owner", State: "joined", JoinSeq: 1}, {Room: roomB, User: bob, Role: "owner", State: "joined", JoinSeq: 1}},
		Events:  []store.Event{ev(roomA, 1, "")}})
	// Later upserts in one batch win, in order.
	a1, a2 := a, a
	a1.Name, a1.Topic = "first", "t1"
	a2.Name, a2.Topic, a2.Avatar, a2.History, a2.JoinPolicy, a2.Receipts = "Second", "t2", "https://example.com/a.png", "joined", "open", "off"
	appendOK(t, s, store.Batch{Rooms: []store.Room{a1, a2},
		Members: []store.Member{
			{Room: roomA, User: bob, Role: "member", State: "invited"},
			{Room: roomA, User: bob, Role: "moderator", State: "joined", JoinSeq: 3},
			{Room: roomA, User: alice, Role: "owner", State: "joined", JoinSeq: 1},
		},
		Events: []store.Event{ev(roomA, 2, ""), ev(roomA, 3, "")}})
	check := func(s store.Store) {
		t.Helper()
		rooms, err := s.LoadRooms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rooms) != 2 {
			t.Fatalf("LoadRooms = %+v", rooms)
		}
		slices.SortFunc(rooms, func(x, y store.RoomState) int { return strings.Compare(x.URI, y.URI) })
		ra, rb := rooms[0], rooms[1]
		if ra.Room != a2 || ra.Last != (store.Stamp{Seq: 3, TS: ev(roomA, 3, "").TS}) {
			t.Fatalf("room a = %+v, want %+v at seq 3", ra, a2)
		}
		if rb.Room != room(roomB) || rb.Last != (store.Stamp{}) {
			t.Fatalf("room b = %+v", rb)
		}
		ms := slices.Clone(ra.Members)
		slices.SortFunc(ms, func(x, y store.Member) int { return strings.Compare(x.User, y.User) })
		want := []store.Member{
			{Room: roomA, User: alice, Role: "owner", State: "joined", JoinSeq: 1},
			{Room: roomA, User: bob, Role: "moderator", State: "joined", JoinSeq: 3},
		}
		if !slices.Equal(ms, want) {
			t.Fatalf("members of a = %+v, want %+v", ms, want)
		}
		if len(rb.Members) != 1 || rb.Members[0].User != bob {
			t.Fatalf("members of b = %+v", rb.Members)
		}
	}
	check(s)
	check(reopen(t, s, o))
}

func testDurability(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	var want []store.Event
	for batch := range 5 {
		b := store.Batch{}
		if batch == 0 {
			b.Rooms = []store.Room{room(roomA)}
		}
		for i := range 20 {
			seq := uint64(batch*20 + i + 1)
			e := ev(roomA, seq, fmt.Sprintf("m%d", seq))
			if seq%7 == 0 {
				e.Ends = alice
			}
			b.Events = append(b.Events, e)
		}
		appendOK(t, s, b)
		want = append(want, b.Events...)
	}
	if err := s.AddBlob(ctx, store.Blob{ID: "blob1", Uploader: alice, Size: 5, SHA256: key("blob"), Created: time.UnixMilli(1_700_000_000_123)}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, o)
	got, err := s.EventsAfter(ctx, roomA, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, "after reopen", got, want)
	if h, err := s.Head(ctx, roomA); err != nil || h.Seq != 100 {
		t.Fatalf("Head after reopen = %+v, %v", h, err)
	}
	if st, err := s.Submitted(ctx, roomA, [][]byte{key("m42")}); err != nil || st[0].Seq != 42 {
		t.Fatalf("key after reopen at %+v, %v", st, err)
	}
	if b, err := s.Blob(ctx, "blob1"); err != nil || b.Size != 5 {
		t.Fatalf("blob after reopen = %+v, %v", b, err)
	}
	// The log continues where it was.
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 101, "m101")}})
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{ev(roomA, 102, "m42")}}); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a key from before the reopen: %v, want ErrDuplicate", err)
	}
}

func testBlobs(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	base := time.UnixMilli(1_700_000_000_000)
	blobs := []store.Blob{
		{ID: "b1", Uploader: alice, Size: 100, SHA256: key("1"), Created: base},
		{ID: "b2", Uploader: alice, Size: 250, SHA256: key("2"), Created: base.Add(time.Hour)},
		{ID: "b3", Uploader: bob, Size: 7, SHA256: key("3"), Created: base.Add(2 * time.Hour)},
	}
	for _, b := range blobs {
		if err := s.AddBlob(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddBlob(ctx, store.Blob{ID: "b1", Uploader: bob, Size: 1, SHA256: key("x"), Created: base}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("taken blob id: %v, want ErrExists", err)
	}
	for _, want := range blobs {
		got, err := s.Blob(ctx, want.ID)
		if err != nil || got.ID != want.ID || got.Uploader != want.Uploader || got.Size != want.Size || !bytes.Equal(got.SHA256, want.SHA256) || !got.Created.Equal(want.Created) {
			t.Fatalf("Blob(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
	if _, err := s.Blob(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown blob: %v, want ErrNotFound", err)
	}
	for _, tt := range []struct {
		user   string
		since  time.Time
		bytes  int64
		oldest time.Time
	}{
		{alice, time.Time{}, 350, base},
		{alice, base.Add(-time.Millisecond), 350, base},
		{alice, base, 250, base.Add(time.Hour)}, // after since, not at it
		{alice, base.Add(time.Hour), 0, time.Time{}},
		{bob, time.Time{}, 7, base.Add(2 * time.Hour)},
		{"mimi://example.com/u/nobody", time.Time{}, 0, time.Time{}},
	} {
		n, oldest, err := s.BlobUsage(ctx, tt.user, tt.since)
		if err != nil || n != tt.bytes || !oldest.Equal(tt.oldest) {
			t.Fatalf("BlobUsage(%s, %v) = %d, %v, %v; want %d, %v", tt.user, tt.since, n, oldest, err, tt.bytes, tt.oldest)
		}
	}
}

// testConcurrentReaders: reads run while the writer appends, and each read
// sees a prefix of the log with no gap.
func testConcurrentReaders(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	appendOK(t, s, store.Batch{Rooms: []store.Room{room(roomA)}})
	const batches, per = 40, 10
	done := make(chan error, 1)
	go func() {
		for b := range batches {
			var evs []store.Event
			for i := range per {
				seq := uint64(b*per + i + 1)
				evs = append(evs, ev(roomA, seq, fmt.Sprintf("c%d", seq)))
			}
			if err := s.AppendBatch(ctx, store.Batch{Events: evs}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		got, err := s.EventsAfter(ctx, roomA, 0, batches*per)
		if err != nil {
			t.Fatal(err)
		}
		if len(got)%per != 0 {
			t.Fatalf("a reader saw %d events: part of a batch", len(got))
		}
		for i, e := range got {
			if e.Seq != uint64(i+1) {
				t.Fatalf("a reader saw seq %d at %d", e.Seq, i)
			}
		}
		if len(got) == batches*per {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// testTokensAndRemoval: a new token hash replaces the old one at once (the
// old one finds nobody), a hash another user holds is ErrExists, a removed
// user is gone by name, URI and token, and unknown names are ErrNotFound;
// all of it durable.
func testTokensAndRemoval(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	hash := func(tok string) []byte { h := sha256.Sum256([]byte(tok)); return h[:] }
	created := time.Unix(1_700_000_000, 0).UTC()
	for _, u := range []store.User{{Name: "alice", URI: alice, Created: created}, {Name: "bob", URI: bob, Created: created}} {
		if err := s.AddUser(ctx, u, hash("old "+u.Name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetTokenHash(ctx, "alice", hash("new alice")); err != nil {
		t.Fatalf("SetTokenHash: %v", err)
	}
	if err := s.SetTokenHash(ctx, "alice", hash("old bob")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("SetTokenHash to bob's hash: %v, want ErrExists", err)
	}
	if err := s.SetTokenHash(ctx, "nobody", hash("x")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetTokenHash of an unknown user: %v, want ErrNotFound", err)
	}
	if err := s.RemoveUser(ctx, "bob"); err != nil {
		t.Fatalf("RemoveUser: %v", err)
	}
	if err := s.RemoveUser(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second RemoveUser: %v, want ErrNotFound", err)
	}
	s = reopen(t, s, o)
	if _, err := s.UserByToken(ctx, hash("old alice")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old token after rotation: %v, want ErrNotFound", err)
	}
	if u, err := s.UserByToken(ctx, hash("new alice")); err != nil || u.URI != alice {
		t.Fatalf("new token: %+v, %v", u, err)
	}
	for _, err := range []error{
		func() error { _, err := s.UserByToken(ctx, hash("old bob")); return err }(),
		func() error { _, err := s.UserByURI(ctx, bob); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removed user still found: %v", err)
		}
	}
	if us, err := s.Users(ctx); err != nil || len(us) != 1 || us[0].Name != "alice" {
		t.Fatalf("Users after removal: %+v, %v", us, err)
	}
}

// testRoomExpiry (stores implementing store.EventExpirer): a room's events
// older than the cut go, its last one too, and only that room's; its head
// stays (Head, LoadRooms, and the next append continue its seqs), also
// after a reopen; the room's expiry policy is kept with the room.
func testRoomExpiry(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	if _, ok := s.(store.EventExpirer); !ok {
		t.Skip("the store does not implement store.EventExpirer")
	}
	ra, rb := room(roomA), room(roomB)
	ra.Expiry = 3600
	batch := store.Batch{Rooms: []store.Room{ra, rb}}
	for seq := uint64(1); seq <= 2500; seq++ {
		batch.Events = append(batch.Events, ev(roomA, seq, fmt.Sprintf("a%d", seq)), ev(roomB, seq, fmt.Sprintf("b%d", seq)))
	}
	appendOK(t, s, batch)
	expire := func(room string, ts int64) int64 {
		t.Helper()
		n, err := s.(store.EventExpirer).ExpireRoomEvents(ctx, room, ts)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := expire(roomA, 1_700_000_000_000+2001); n != 2000 {
		t.Fatalf("expired %d events of roomA, want 2000", n)
	}
	if n := expire(roomA, 1_700_000_000_000+2001); n != 0 {
		t.Fatalf("a second pass expired %d, want 0", n)
	}
	if evs, err := s.EventsAfter(ctx, roomA, 0, 10); err != nil || len(evs) == 0 || evs[0].Seq != 2001 {
		t.Fatalf("roomA after expiry starts at %v, %v; want 2001", evs, err)
	}
	if n := expire(roomA, 1_800_000_000_000); n != 500 {
		t.Fatalf("expired %d more events of roomA, want its last 500", n)
	}
	s = reopen(t, s, o)
	if evs, err := s.EventsAfter(ctx, roomA, 0, 10); err != nil || len(evs) != 0 {
		t.Fatalf("roomA after expiring everything: %d events, %v; want none", len(evs), err)
	}
	if h, err := s.Head(ctx, roomA); err != nil || h.Seq != 2500 || h.TS != 1_700_000_000_000+2500 {
		t.Fatalf("roomA head after its log expired: %+v, %v; want seq 2500", h, err)
	}
	rooms, err := s.LoadRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		switch r.URI {
		case roomA:
			if r.Last.Seq != 2500 || r.Expiry != 3600 {
				t.Fatalf("LoadRooms roomA: last %+v, expiry %d; want seq 2500, 3600", r.Last, r.Expiry)
			}
		case roomB:
			if r.Last.Seq != 2500 || r.Expiry != 0 {
				t.Fatalf("LoadRooms roomB: last %+v, expiry %d; want seq 2500, 0", r.Last, r.Expiry)
			}
		}
	}
	if evs, _ := s.EventsAfter(ctx, roomB, 0, 3000); len(evs) != 2500 {
		t.Fatalf("roomB kept %d events, want all 2500", len(evs))
	}
	// The log continues after the kept head; a wrong seq is still refused.
	if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{ev(roomA, 2502, "")}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("append #2502 after an expired head of 2500: %v, want ErrConflict", err)
	}
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomA, 2501, "")}})
	if h, _ := s.Head(ctx, roomA); h.Seq != 2501 {
		t.Fatalf("roomA head %d after the next append, want 2501", h.Seq)
	}
}

// testRetention: old events go except each room's last (its head, so seqs
// continue), reads start at the first kept event, the next seq still
// appends, and old blobs' rows go with their IDs returned; durable.
func testRetention(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	batch := store.Batch{Rooms: []store.Room{room(roomA), room(roomB)}}
	for seq := uint64(1); seq <= 2500; seq++ {
		batch.Events = append(batch.Events, ev(roomA, seq, fmt.Sprintf("a%d", seq)))
	}
	for seq := uint64(1); seq <= 3; seq++ {
		batch.Events = append(batch.Events, ev(roomB, seq, ""))
	}
	appendOK(t, s, batch)
	// ev's TS is 1_700_000_000_000 + seq: cut below seq 2001 of roomA,
	// and every event of roomB (whose last must stay).
	n, err := s.DeleteEventsBefore(ctx, 1_700_000_000_000+2001)
	if err != nil || n != 2000+2 {
		t.Fatalf("DeleteEventsBefore = %d, %v; want %d", n, err, 2002)
	}
	s = reopen(t, s, o)
	if evs, err := s.EventsAfter(ctx, roomA, 0, 10); err != nil || len(evs) == 0 || evs[0].Seq != 2001 {
		t.Fatalf("roomA after retention starts at %v, %v; want 2001", evs, err)
	}
	if evs, err := s.EventsAfter(ctx, roomB, 0, 10); err != nil || len(evs) != 1 || evs[0].Seq != 3 {
		t.Fatalf("roomB after retention: %v, %v; want only its last event, 3", evs, err)
	}
	if h, _ := s.Head(ctx, roomB); h.Seq != 3 {
		t.Fatalf("roomB head %d after retention, want 3", h.Seq)
	}
	appendOK(t, s, store.Batch{Events: []store.Event{ev(roomB, 4, "")}})

	old, recent := time.UnixMilli(1_700_000_000_000), time.UnixMilli(1_800_000_000_000)
	for i, c := range []time.Time{old, old, recent} {
		if err := s.AddBlob(ctx, store.Blob{ID: fmt.Sprintf("blob%d", i), Uploader: alice, Size: 1, SHA256: key("x"), Created: c}); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.DeleteBlobsBefore(ctx, recent)
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, []string{"blob0", "blob1"}) {
		t.Fatalf("DeleteBlobsBefore = %v, %v", ids, err)
	}
	s = reopen(t, s, o)
	if _, err := s.Blob(ctx, "blob0"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted blob: %v", err)
	}
	if _, err := s.Blob(ctx, "blob2"); err != nil {
		t.Fatalf("kept blob: %v", err)
	}
}
