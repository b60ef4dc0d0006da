package session

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"mimichat/relay"
)

// damageEvent rewrites the stored frame of room's event seq in a stopped
// relay's database so that it no longer decodes (its ts becomes a string),
// as a damaged row would be replayed.
func damageEvent(t *testing.T, dir, room string, seq uint64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, relay.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var frame []byte
	if err := db.QueryRow(`SELECT frame FROM events WHERE room=? AND seq=?`, room, seq).Scan(&frame); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := cbor.Unmarshal(frame, &m); err != nil {
		t.Fatal(err)
	}
	m["ts"] = "damaged"
	bad, err := cbor.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET frame=? WHERE room=? AND seq=?`, bad, room, seq); err != nil {
		t.Fatal(err)
	}
}

// TestUndecodableEventIsSkippedAndReported: a relay that replays one
// damaged event makes the session report it (an ErrorEvent naming the room
// and seq) and go on with the events after it, on the same connection,
// instead of failing the connection and reconnecting for ever.
func TestUndecodableEventIsSkippedAndReported(t *testing.T) {
	r := startRelay(t)
	alice := r.client("alice", "")
	ca := collect(alice)
	online(t, alice)
	// A plaintext room: the fresh cache below is a new device, which in an
	// encrypted room joins by external commit and starts its log there
	// instead of replaying the damaged event (whether it meets the damaged
	// event then depends on timing).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := alice.CreateRoom(ctx, CreateRoomOptions{Name: "Test room", Plaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	room := res.Room
	for _, text := range []string{"one", "two", "three"} {
		sendText(t, alice, room, text)
	}
	ca.waitFor(t, "three messages", 10*time.Second, func() bool { return len(messages(ca.entries[room])) == 3 })
	ca.mu.Lock()
	bad := messages(ca.entries[room])[1].Seq
	last := ca.lastSeq(room)
	ca.mu.Unlock()
	r.stop()
	damageEvent(t, r.dir, room, bad)
	r.start()

	// A fresh cache replays the whole log, the damaged event with it.
	fresh := r.client("alice", "")
	cf := collect(fresh)
	online(t, fresh)
	cf.waitFor(t, "the events after the damaged one", 10*time.Second, func() bool { return cf.lastSeq(room) == last })
	sendText(t, fresh, room, "four")
	cf.waitFor(t, "a message sent after it", 10*time.Second, func() bool { return cf.lastSeq(room) == last+1 })

	cf.mu.Lock()
	defer cf.mu.Unlock()
	reported := false
	for _, err := range cf.errs {
		if strings.Contains(err.Error(), room) && strings.Contains(err.Error(), fmt.Sprintf("event %d ", bad)) {
			reported = true
		}
	}
	if !reported {
		t.Fatalf("no ErrorEvent names %s and seq %d: %v", room, bad, cf.errs)
	}
	for _, e := range cf.entries[room] {
		if e.Seq == bad {
			t.Fatalf("the damaged event %d was delivered", bad)
		}
	}
	online := 0
	for _, st := range cf.states {
		if st == Online {
			online++
		}
	}
	if online != 1 {
		t.Fatalf("connection states %v: want one connection, no reconnect", cf.states)
	}
}
