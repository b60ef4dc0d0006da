package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"mimichat/mls"
)

// TestGroupStateTravelsWithItsEntries: the group state is stored only with
// the entries (or outbox row) whose processing changed it: a commit that
// fails leaves neither, one that succeeds both; an undecryptable entry
// keeps its reason; an outbox row's ciphertext goes with the row.
func TestGroupStateTravelsWithItsEntries(t *testing.T) {
	st := openTestStore(t)
	if _, _, ok, err := st.LoadGroup(testRoom); ok || err != nil {
		t.Fatalf("empty store has a group: %v %v", ok, err)
	}
	r := Room{ID: testRoom}
	es := msgEntries(testRoom, 1, 3)
	es[1].Raw, es[1].Undecryptable = nil, "this device was removed from the room before it was sent"
	// A batch that does not continue the run is refused, and its group
	// state with it.
	if _, err := st.CommitGroup(r, msgEntries(testRoom, 2, 3), &GroupSave{Record: []byte("state-1")}); !errors.Is(err, ErrGap) {
		t.Fatalf("commit of a gap: %v, want ErrGap", err)
	}
	if _, _, ok, _ := st.LoadGroup(testRoom); ok {
		t.Fatal("a refused batch saved its group state")
	}
	if _, err := st.CommitGroup(r, es, &GroupSave{Record: []byte("state-2")}); err != nil {
		t.Fatal(err)
	}
	got, _, ok, err := st.LoadGroup(testRoom)
	if err != nil || !ok || string(got) != "state-2" {
		t.Fatalf("group state %q %v %v, want state-2", got, ok, err)
	}
	back, err := st.Recent(testRoom, 10)
	if err != nil {
		t.Fatal(err)
	}
	if back[1].Undecryptable != es[1].Undecryptable || back[1].Value != "" || back[0].Undecryptable != "" {
		t.Fatalf("undecryptable reasons read back as %q, %q", back[0].Undecryptable, back[1].Undecryptable)
	}
	// A nil state leaves the stored one.
	if _, err := st.CommitGroup(r, msgEntries(testRoom, 4, 4), nil); err != nil {
		t.Fatal(err)
	}
	if got, _, _, _ := st.LoadGroup(testRoom); string(got) != "state-2" {
		t.Fatalf("group state %q after a batch without one", got)
	}

	// Outbox: ciphertext and group state in one transaction; the row's
	// ciphertext is replaced by a re-encryption and goes with the row.
	it := msgEntry(testRoom, 9)
	items, err := st.EnqueueAllGroups([]OutboxItem{{Room: testRoom, ID: it.ID, Raw: it.Raw, Wire: []byte("cipher-1"),
		Created: time.Now()}}, map[string]*GroupSave{testRoom: &GroupSave{Record: []byte("state-3")}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(items[0].Wire, []byte("cipher-1")) || !bytes.Equal(items[0].submitted(), []byte("cipher-1")) {
		t.Fatalf("stored wire %q", items[0].Wire)
	}
	if got, _, _, _ := st.LoadGroup(testRoom); string(got) != "state-3" {
		t.Fatalf("group state %q after the enqueue", got)
	}
	if err := st.SetWire(items[0], []byte("cipher-2"), testRoom, &GroupSave{Record: []byte("state-4")}); err != nil {
		t.Fatal(err)
	}
	row, err := st.OutboxItem(it.ID)
	if err != nil || string(row.Wire) != "cipher-2" || string(row.Raw) != string(it.Raw) {
		t.Fatalf("row after re-encryption: wire %q raw %q (%v)", row.Wire, row.Raw, err)
	}
	if err := st.MarkFailed(it.ID, "x"); err != nil {
		t.Fatal(err)
	}
	if err := st.Discard(it.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.db.QueryRow(`SELECT count(*) FROM outbox_wire`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d ciphertexts left after the row was discarded (%v)", n, err)
	}
	// A plaintext room's row submits its raw bytes.
	if p := (OutboxItem{Raw: []byte("plain")}); string(p.submitted()) != "plain" {
		t.Fatal("a row without ciphertext does not submit its raw bytes")
	}
}

// deviceKP is a KeyPackage of user's device dev.
func deviceKP(t *testing.T, user, dev string) []byte {
	t.Helper()
	cred, err := mls.NewDeviceCredential(user, dev)
	if err != nil {
		t.Fatal(err)
	}
	id, err := mls.NewDeviceIdentity(DeviceSuite, cred)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := mls.NewKeyPackage(id)
	if err != nil {
		t.Fatal(err)
	}
	return kp.KeyPackage
}

// TestRoomGroupRoundTrip: a group saved through the cache (its tree by
// chunks, the past epochs' rosters as differences from the current one)
// comes back at the same epoch with the rosters that name each past
// epoch's senders; after a commit, a save rewrites a few chunks, not the
// tree; a record from before the chunks (whole tree, full rosters) loads.
func TestRoomGroupRoundTrip(t *testing.T) {
	st := openTestStore(t)
	cred, err := mls.NewDeviceCredential("mimi://example.com/u/alice", "laptop")
	if err != nil {
		t.Fatal(err)
	}
	id, err := mls.NewDeviceIdentity(DeviceSuite, cred)
	if err != nil {
		t.Fatal(err)
	}
	g, err := mls.NewGroup(id, []byte(testRoom), nil)
	if err != nil {
		t.Fatal(err)
	}
	rg := newRoomGroup(g)
	commit := func(opts mls.CommitOptions) {
		t.Helper()
		if _, err := rg.g.Commit(opts); err != nil {
			t.Fatal(err)
		}
		if err := rg.g.MergePendingCommit(); err != nil {
			t.Fatal(err)
		}
		rg.noteRoster()
	}
	save := func(r *roomGroup) (chunks int) {
		t.Helper()
		gs, err := r.save(st.TreeVersions(testRoom))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SaveGroup(testRoom, gs); err != nil {
			t.Fatal(err)
		}
		return len(gs.Chunks)
	}
	load := func() *roomGroup {
		t.Helper()
		b, chunks, ok, err := st.LoadGroup(testRoom)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		back, chunked, err := loadRoomGroup(b, chunks)
		if err != nil {
			t.Fatal(err)
		}
		if chunked {
			_, vers := back.g.TreeVersions()
			st.SetTreeVersions(testRoom, vers)
		}
		return back
	}
	// epoch 1: 200 devices of bob; epoch 2: carol's; epoch 3: bob's
	// device at leaf 1 removed
	adds := make([][]byte, 200)
	for i := range adds {
		adds[i] = deviceKP(t, "mimi://example.com/u/bob", "d"+strconv.Itoa(i))
	}
	commit(mls.CommitOptions{Add: adds})
	commit(mls.CommitOptions{Add: [][]byte{deviceKP(t, "mimi://example.com/u/carol", "phone")}})
	if n := save(rg); n < 2 {
		t.Fatalf("the first save wrote %d chunks", n)
	}
	commit(mls.CommitOptions{Remove: []uint32{1}})
	if n, _ := rg.g.TreeVersions(); n < 400 {
		t.Fatalf("tree of %d nodes", n)
	}
	_, vers := rg.g.TreeVersions()
	if n := save(rg); n == 0 || n > len(vers)/2 {
		t.Fatalf("a save after one commit rewrote %d of %d chunks", n, len(vers))
	}
	back := load()
	if back.g.Epoch() != 3 || !back.g.PublicHandshake || !bytes.Equal(back.g.EpochAuthenticator(), rg.g.EpochAuthenticator()) {
		t.Fatal("the loaded group differs")
	}
	for _, c := range []struct {
		epoch uint64
		leaf  uint32
		user  string // "": no sender
	}{
		{0, 0, "mimi://example.com/u/alice"}, {0, 1, ""},
		{1, 1, "mimi://example.com/u/bob"}, {1, 201, ""},
		{2, 1, "mimi://example.com/u/bob"}, {2, 201, "mimi://example.com/u/carol"},
		{3, 1, ""}, {3, 2, "mimi://example.com/u/bob"}, {3, 201, "mimi://example.com/u/carol"},
	} {
		if _, kept := rg.rosters[c.epoch]; !kept {
			continue // older than the kept epochs
		}
		u, ok := back.senderUser(c.epoch, c.leaf)
		if want, _ := rg.senderUser(c.epoch, c.leaf); u != want || ok != (c.user != "") || (ok && u != c.user) {
			t.Errorf("epoch %d leaf %d: loaded %q %v, saved %q, want %q", c.epoch, c.leaf, u, ok, want, c.user)
		}
	}
	// the loaded group saves incrementally too, and loads again
	commit2 := back.g
	if _, err := commit2.Commit(mls.CommitOptions{Add: [][]byte{deviceKP(t, "mimi://example.com/u/dave", "pc")}}); err != nil {
		t.Fatal(err)
	}
	if err := commit2.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	back.noteRoster()
	if n := save(back); n == 0 || n > len(vers)/2 {
		t.Fatalf("a save after loading and one commit rewrote %d of %d chunks", n, len(vers))
	}
	if again := load(); !bytes.Equal(again.g.EpochAuthenticator(), back.g.EpochAuthenticator()) {
		t.Fatal("the group saved after loading differs")
	}

	// a record from before the chunks: the whole tree in State, every
	// kept epoch's roster in full
	whole, err := rg.g.Save()
	if err != nil {
		t.Fatal(err)
	}
	old, err := json.Marshal(groupRecord{State: whole, Rosters: rg.rosters})
	if err != nil {
		t.Fatal(err)
	}
	legacy, chunked, err := loadRoomGroup(old, nil)
	if err != nil || chunked {
		t.Fatal(err, chunked)
	}
	if u, ok := legacy.senderUser(2, 201); !ok || u != "mimi://example.com/u/carol" || !bytes.Equal(legacy.g.EpochAuthenticator(), rg.g.EpochAuthenticator()) {
		t.Fatalf("the old record loads as %q %v", u, ok)
	}
	if _, _, err := loadRoomGroup([]byte("{"), nil); err == nil {
		t.Fatal("a damaged record loaded")
	}
}
