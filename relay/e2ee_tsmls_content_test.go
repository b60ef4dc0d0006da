package relay

import (
	"bytes"
	"context"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// tsSession is a mimichat client (session) of the interop room and the
// entries it delivered.
type tsSession struct {
	s       *session.Session
	mu      sync.Mutex
	entries []session.Entry
}

func openTSSession(t *testing.T, s *Server, name string) *tsSession {
	t.Helper()
	tok := addUser(t, s.Store(), name)
	sess, err := session.Open(session.Options{Relay: "ws://" + s.Addr() + "/v1", User: proto.UserURI("example.com", name),
		Token: tok, DataDir: t.TempDir(), Backoff: session.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		RoomsPoll: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	ts := &tsSession{s: sess}
	go func() {
		for ev := range sess.Events() {
			if ev, ok := ev.(session.EntriesEvent); ok {
				ts.mu.Lock()
				ts.entries = append(ts.entries, ev.Entries...)
				ts.mu.Unlock()
			}
		}
	}()
	sess.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sess.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	return ts
}

// messageFrom waits for the room's message entry from sender.
func (ts *tsSession) messageFrom(t *testing.T, room, sender string) session.Entry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ts.mu.Lock()
		for _, e := range ts.entries {
			if e.Room == room && e.Kind == proto.KindMessage && e.Sender == sender {
				ts.mu.Unlock()
				return e
			}
		}
		ts.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: no message from %s in %s", ts.s.User(), sender, room)
	return session.Entry{}
}

// TestE2EETSMLSMemberSendsMIMIContent: a ts-mls member invited by a
// mimichat client (through the relay's directory and Welcome routing) sends
// a MIMI -08 content message whose CBOR the Node driver builds from the
// draft's CDDL (not mimichat's encoder), with the -08 message ID it
// computes; both mimichat clients decrypt it, compute the same ID, and
// their timelines show it as a normal message from that member.
func TestE2EETSMLSMemberSendsMIMIContent(t *testing.T) {
	tsm := startTSMember(t)
	s := startRelay(t, Config{RatePerSec: -1})
	alice, bob := openTSSession(t, s, "alice"), openTSSession(t, s, "bob")
	tessUser := proto.UserURI("example.com", "tess")
	tessDev := "mimi://example.com/d/tess/node"
	kp := tsm.bytes(tsm.call(map[string]any{"op": "init", "suite": "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "name": tessDev, "lastResort": true}), "keyPackage")
	tess := dialDevice(t, s.Addr(), addUser(t, s.Store(), "tess"), tessDev)
	if _, ef := tess.upload(tessDev, [][]byte{kp}); ef != nil {
		t.Fatalf("uploading the ts-mls KeyPackage: %s: %s", ef.Code, ef.Reason)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := alice.s.CreateRoom(ctx, session.CreateRoomOptions{Name: "Interop"})
	if err != nil {
		t.Fatal(err)
	}
	room := res.Room
	if _, err := alice.s.Invite(ctx, room, bob.s.User()); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.s.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	inv, err := alice.s.Invite(ctx, room, tessUser) // claims tess's KeyPackage, routes the Welcome
	if err != nil {
		t.Fatal(err)
	}
	w := expect[*proto.MLSWelcome](tess)
	if w.Device != tessDev || w.Seq != inv.Seq {
		t.Fatalf("mls_welcome %+v, invite at %d", w, inv.Seq)
	}
	tsm.call(map[string]any{"op": "join", "welcome": hex.EncodeToString(w.Welcome)})
	tess.subscribe(room, w.Seq)
	tess.mustOp(room, proto.KindJoin, "")
	// Every member is in the invite's epoch: the same authenticator.
	st := tsm.call(map[string]any{"op": "status", "label": "mimi", "context": "00", "length": 32})
	for _, m := range []*tsSession{alice, bob} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			auth, epoch, ok := m.s.EpochAuthenticator(room)
			if ok && float64(epoch) == st["epoch"] && hex.EncodeToString(auth) == st["epochAuthenticator"] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s at epoch %d (%v), ts-mls at %v", m.s.User(), epoch, ok, st["epoch"])
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	const text = "hello from **ts-mls**"
	r := tsm.call(map[string]any{"op": "sendMimi", "text": text, "sender": tessUser, "room": room})
	ct, body, wantID := tsm.bytes(r, "message"), tsm.bytes(r, "content"), tsm.bytes(r, "id")
	tess.send(&proto.Submit{RID: tess.nextRID(), Room: room, ID: wantID, Content: ct})
	expect[*proto.Ack](tess)
	for _, m := range []*tsSession{alice, bob} {
		e := m.messageFrom(t, room, tessUser)
		if e.Undecryptable != "" {
			t.Fatalf("%s: ts-mls's message: %s", m.s.User(), e.Undecryptable)
		}
		if !bytes.Equal(e.Raw, body) || !bytes.Equal(e.ID[:], wantID) {
			t.Fatalf("%s: decrypted %x with ID %x; ts-mls sent %x with ID %x", m.s.User(), e.Raw, e.ID, body, wantID)
		}
		tl := content.NewTimeline(content.TimelineOptions{})
		if err := session.Feed(tl, []session.Entry{e}); err != nil {
			t.Fatal(err)
		}
		var (
			item    content.Item
			refused int
			n       int
		)
		tl.Read(func(v content.View) { n, refused = v.Len(), v.RefusedTotal(); item, _ = v.Get(e.ID) })
		if n != 1 || refused != 0 || item.Kind != content.ItemMessage || item.Sender != tessUser || item.Deleted {
			t.Fatalf("%s: timeline of %d items, %d refused, item %+v", m.s.User(), n, refused, item)
		}
		if got := content.PlainText(mustDecode(t, e.Raw)); got != "hello from ts-mls" && got != text {
			t.Fatalf("%s shows %q, want %q", m.s.User(), got, text)
		}
		if item.Body.ContentType != "text/markdown;variant=GFM-MIMI" || string(item.Body.Content) != text {
			t.Fatalf("%s: body %q %q", m.s.User(), item.Body.ContentType, item.Body.Content)
		}
	}
}

func mustDecode(t *testing.T, raw []byte) *content.Message {
	t.Helper()
	m, err := content.Decode(raw)
	if err != nil {
		t.Fatalf("decoding ts-mls's content: %v", err)
	}
	return m
}
