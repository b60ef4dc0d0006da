package session

import (
	"bytes"
	"errors"
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
	if _, ok, err := st.LoadGroup(testRoom); ok || err != nil {
		t.Fatalf("empty store has a group: %v %v", ok, err)
	}
	r := Room{ID: testRoom}
	es := msgEntries(testRoom, 1, 3)
	es[1].Raw, es[1].Undecryptable = nil, "this device was removed from the room before it was sent"
	// A batch that does not continue the run is refused, and its group
	// state with it.
	if _, err := st.CommitGroup(r, msgEntries(testRoom, 2, 3), []byte("state-1")); !errors.Is(err, ErrGap) {
		t.Fatalf("commit of a gap: %v, want ErrGap", err)
	}
	if _, ok, _ := st.LoadGroup(testRoom); ok {
		t.Fatal("a refused batch saved its group state")
	}
	if _, err := st.CommitGroup(r, es, []byte("state-2")); err != nil {
		t.Fatal(err)
	}
	got, ok, err := st.LoadGroup(testRoom)
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
	if got, _, _ := st.LoadGroup(testRoom); string(got) != "state-2" {
		t.Fatalf("group state %q after a batch without one", got)
	}

	// Outbox: ciphertext and group state in one transaction; the row's
	// ciphertext is replaced by a re-encryption and goes with the row.
	it := msgEntry(testRoom, 9)
	items, err := st.EnqueueAllGroups([]OutboxItem{{Room: testRoom, ID: it.ID, Raw: it.Raw, Wire: []byte("cipher-1"),
		Created: time.Now()}}, map[string][]byte{testRoom: []byte("state-3")})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(items[0].Wire, []byte("cipher-1")) || !bytes.Equal(items[0].submitted(), []byte("cipher-1")) {
		t.Fatalf("stored wire %q", items[0].Wire)
	}
	if got, _, _ := st.LoadGroup(testRoom); string(got) != "state-3" {
		t.Fatalf("group state %q after the enqueue", got)
	}
	if err := st.SetWire(items[0], []byte("cipher-2"), testRoom, []byte("state-4")); err != nil {
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

// TestRoomGroupRoundTrip: a saved group comes back at the same epoch with
// its rosters, which name the sender of a past epoch's leaf.
func TestRoomGroupRoundTrip(t *testing.T) {
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
	b, err := rg.save()
	if err != nil {
		t.Fatal(err)
	}
	back, err := loadRoomGroup(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.g.Epoch() != 0 || !back.g.PublicHandshake || !bytes.Equal(back.g.EpochAuthenticator(), g.EpochAuthenticator()) {
		t.Fatal("the loaded group differs")
	}
	if u, ok := back.senderUser(0, 0); !ok || u != "mimi://example.com/u/alice" {
		t.Fatalf("leaf 0 of epoch 0 is %q %v", u, ok)
	}
	if _, ok := back.senderUser(0, 1); ok {
		t.Fatal("an empty leaf has a sender")
	}
	if _, err := loadRoomGroup([]byte("{")); err == nil {
		t.Fatal("a damaged record loaded")
	}
}
