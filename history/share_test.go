package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/session"
)

// A moderator shares the history with a member who joined late: the offer
// travels as a message, the member's client finds it, and merging it gives
// the member the room as the moderator sees it, below its own cached run.
func TestShareHistoryOffer(t *testing.T) {
	now := t0.Add(2 * time.Hour).UnixMilli()
	items := everyKind(t).items
	b := &content.Builder{Sender: alice, Room: roomURI}
	msg, rep, err := BuildOffer(b, Room{ID: roomURI}, SliceSource(items), ExportOptions{Now: now}, "mimi://example.com/u/dave", 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := msg.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := content.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	offer, ok := OfferOf(got)
	if !ok || offer.For != "mimi://example.com/u/dave" {
		t.Fatalf("offer %v %q", ok, offer.For)
	}
	if _, ok := OfferOf(items[8].Msg); ok {
		t.Fatal("an ordinary message is not an offer")
	}
	// Dave's cache: he joined at hub seq 500 and has the last 3 entries.
	st := openStore(t)
	if err := st.SaveRoom(session.Room{ID: roomURI, Low: 500, Cursor: 499}); err != nil {
		t.Fatal(err)
	}
	tail := items[len(items)-3:]
	var es []session.Entry
	for i := range tail {
		es = append(es, EntryFromItem(roomURI, uint64(500+i), &tail[i]))
	}
	if _, err := st.Commit(session.Room{ID: roomURI}, es); err != nil {
		t.Fatal(err)
	}
	irep, res, err := ImportOffer(st, offer, roomURI)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 3 || len(res.Added) != rep.Items-3 {
		t.Fatalf("added %d, duplicates %d of %d (%s)", len(res.Added), res.Duplicates, rep.Items, irep)
	}
	c := carries{events: true, deletedBy: true, multiSemantics: true, topics: true}
	ref := openStore(t) // the moderator's cache, as the reference (the cache keeps no actor for joins)
	cachedRoom(t, ref, items)
	want := snapshot(storeTimeline(t, ref, roomURI, now), c)
	if got := snapshot(storeTimeline(t, st, roomURI, now), c); got != want {
		t.Errorf("merged history differs\n--- want\n%s--- got\n%s", want, got)
	}
	// Merging again changes nothing.
	_, res, err = ImportOffer(st, offer, roomURI)
	if err != nil || len(res.Added) != 0 {
		t.Fatalf("second merge: %v, added %d", err, len(res.Added))
	}
	if _, _, err := ImportOffer(st, offer, "mimi://example.com/r/other"); err == nil {
		t.Error("an offer for another room was merged")
	}
}

func TestShareHistoryTooLarge(t *testing.T) {
	items := everyKind(t).items
	b := &content.Builder{Sender: alice, Room: roomURI}
	_, _, err := BuildOffer(b, Room{ID: roomURI}, SliceSource(items), ExportOptions{Now: t0.UnixMilli()}, "", 512)
	if !errors.Is(err, ErrOfferTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

// Sharing a cache's history back into the same cache adds nothing: room
// events match although the vCon does not carry every role (the creator's
// owner role, an invite's role).
func TestShareOfferIntoSameCache(t *testing.T) {
	now := t0.Add(2 * time.Hour).UnixMilli()
	items := everyKind(t).items
	ev0 := content.RoomEvent{Seq: 1, HubTime: t0.UnixMilli() - 1000, Kind: content.EventJoin, Actor: alice, Target: alice, Role: content.RoleOwner}
	ev1 := content.RoomEvent{Seq: 2, HubTime: t0.UnixMilli() - 900, Kind: content.EventInvite, Actor: alice, Target: "mimi://example.com/u/dave", Role: content.RoleMember}
	items = append([]Item{{Seq: 1, Time: ev0.HubTime, Sender: alice, Event: &ev0}, {Seq: 2, Time: ev1.HubTime, Sender: alice, Event: &ev1}}, items...)
	for i := range items {
		items[i].Seq = uint64(i + 1)
	}
	st := openStore(t)
	cachedRoom(t, st, items)
	b := &content.Builder{Sender: alice, Room: roomURI}
	src := func(fn func(*Item) error) error { return ScanStore(st, roomURI, fn) }
	msg, _, err := BuildOffer(b, Room{ID: roomURI}, src, ExportOptions{Now: now}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	offer, ok := OfferOf(msg)
	if !ok {
		t.Fatal("no offer")
	}
	_, res, err := ImportOffer(st, offer, roomURI)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 0 {
		t.Fatalf("added %d entries to the cache they came from", len(res.Added))
	}
}

// A room whose read-receipt policy changed still exports; vCon has no
// event for the policy, so the report says it was not carried.
func TestExportReadReceiptPolicyIsReported(t *testing.T) {
	items := everyKind(t).items
	ev := content.RoomEvent{HubTime: t0.UnixMilli(), Kind: content.EventReadReceipts, Actor: alice, Text: content.ReceiptsOff}
	items = append(items, Item{Seq: uint64(len(items) + 1), Time: ev.HubTime, Sender: alice, Event: &ev})
	for _, f := range []Format{FormatVCon, FormatCPIM} {
		var buf bytes.Buffer
		rep, err := Export(&buf, Room{ID: roomURI}, SliceSource(items), ExportOptions{Format: f, Now: t0.Add(time.Hour).UnixMilli()})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if rep.Lossless() {
			t.Errorf("%s: the policy change was dropped silently", f)
		}
	}
}

// An offer larger than the relay's content limit is sealed and uploaded;
// the receiver fetches, checks and decrypts it, and bytes changed on the
// server are refused.
func TestShareOfferExternal(t *testing.T) {
	now := t0.Add(2 * time.Hour)
	items := everyKind(t).items
	var mu sync.Mutex
	blobs := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		b, ok := blobs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	upload := func(_ context.Context, name string, ct []byte) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		p := fmt.Sprintf("/blob/%d", len(blobs))
		blobs[p] = append([]byte(nil), ct...)
		return srv.URL + p, nil
	}
	b := &content.Builder{Sender: alice, Room: roomURI}
	msg, rep, err := ShareOffer(context.Background(), b, Room{ID: roomURI}, SliceSource(items),
		ExportOptions{Now: now.UnixMilli(), Since: 1}, "mimi://example.com/u/dave", 512, upload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := msg.Encode()
	if err != nil || len(raw) > 2048 {
		t.Fatalf("offer message: %d bytes, %v", len(raw), err)
	}
	got, _ := content.Decode(raw)
	offer, ok := OfferOf(got)
	if !ok || offer.External == nil || offer.VCon != nil || offer.Messages != rep.Messages || offer.Since.IsZero() {
		t.Fatalf("offer %+v", offer)
	}
	if _, _, err := ImportOffer(openStore(t), offer, roomURI); err == nil {
		t.Fatal("an unfetched offer was imported")
	}
	tampered := offer
	if err := FetchOffer(context.Background(), srv.Client(), &offer, now); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	if _, res, err := ImportOffer(st, offer, roomURI); err != nil || len(res.Added) != rep.Items {
		t.Fatalf("import: %v, added %v of %d", err, res, rep.Items)
	}
	mu.Lock()
	for k := range blobs {
		blobs[k][len(blobs[k])/2] ^= 1
	}
	mu.Unlock()
	if err := FetchOffer(context.Background(), srv.Client(), &tampered, now); !errors.Is(err, content.ErrHashMismatch) {
		t.Fatalf("tampered blob: %v", err)
	}
}

// FuzzOfferOf: offers are read from any message the network delivers; no
// input may panic, and an inline offer always has its vCon bytes.
func FuzzOfferOf(f *testing.F) {
	b := &content.Builder{Sender: alice, Room: roomURI}
	for _, ct := range []string{OfferMediaType + `; for="mimi://example.com/u/dave"; messages="3"; since="2026-11-01T00:00:00Z"`,
		"application/vcon", OfferMediaType + "; messages=-1; since=x", "text/plain"} {
		body, _ := content.MultiBody(content.ProcessAll, content.TextPart("x"), content.SinglePart(content.Attachment, ct, []byte("vcon")))
		m, _ := b.Message(body)
		raw, _ := m.Encode()
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := content.Decode(raw)
		if err != nil {
			return
		}
		o, ok := OfferOf(m)
		if ok && o.External == nil && o.VCon == nil {
			t.Fatalf("inline offer without content: %+v", o)
		}
		if ok && o.Messages < -1 {
			t.Fatalf("messages %d", o.Messages)
		}
	})
}
