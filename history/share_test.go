package history

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"mimichat/content"
)

func TestShareHistoryTooLarge(t *testing.T) {
	items := everyKind(t).items
	b := &content.Builder{Sender: alice, Room: roomURI}
	_, _, err := BuildOffer(b, Room{ID: roomURI}, SliceSource(items), ExportOptions{Now: t0.UnixMilli()}, "", 512)
	if !errors.Is(err, ErrOfferTooLarge) {
		t.Fatalf("err = %v", err)
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
