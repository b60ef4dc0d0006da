package content

import (
	"errors"
	"testing"
)

func readReceipts(tl *Timeline) (on bool) {
	tl.Read(func(v View) { on = v.ReadReceipts() })
	return on
}

func TestTimelineReadReceiptsPolicy(t *testing.T) {
	cases := []struct {
		name   string
		policy Optionality // configured ReadReceipts
		texts  []string    // EventReadReceipts in hub order
		want   bool
	}{
		{"never set", PolicyOptional, nil, true},
		{"off", PolicyOptional, []string{ReceiptsOff}, false},
		{"off then on", PolicyOptional, []string{ReceiptsOff, ReceiptsOn}, true},
		{"on then off", PolicyOptional, []string{ReceiptsOn, ReceiptsOff}, false},
		{"configured forbidden", PolicyForbidden, nil, false},
		{"configured forbidden, room turns on", PolicyForbidden, []string{ReceiptsOn}, true},
		{"configured required, on keeps it", PolicyRequired, []string{ReceiptsOn}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := DefaultRoomPolicy()
			pol.ReadReceipts = c.policy
			r := newTLRoom(t, TimelineOptions{Policy: pol})
			r.send(alice, tlText("hello"))
			for _, text := range c.texts {
				r.event(RoomEvent{Kind: EventReadReceipts, Actor: alice, Text: text})
			}
			if got := readReceipts(r.tl); got != c.want {
				t.Fatalf("ReadReceipts() = %v, want %v", got, c.want)
			}
		})
	}
}

// A policy event that arrives late (scrollback) does not undo a newer one.
func TestTimelineReadReceiptsLateEvent(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	late := RoomEvent{Seq: 2, HubTime: 1_002_000, Kind: EventReadReceipts, Actor: alice, Text: ReceiptsOn}
	r.seq = 5
	r.event(RoomEvent{Kind: EventReadReceipts, Actor: alice, Text: ReceiptsOff}) // seq 6
	if err := r.tl.ApplyEvent(late); err != nil {
		t.Fatal(err)
	}
	if readReceipts(r.tl) {
		t.Fatal("a late 'on' at seq 2 overrode 'off' at seq 6")
	}
	// A late event newer than the policy in force but older than other
	// entries still applies.
	r.send(bob, tlText("x")) // seq 7
	if err := r.tl.ApplyEvent(RoomEvent{Seq: 7, Kind: EventReadReceipts, Actor: alice, Text: ReceiptsOn}); err != nil {
		t.Fatal(err)
	}
	if !readReceipts(r.tl) {
		t.Fatal("'on' at seq 7 did not replace 'off' at seq 6")
	}
	// Both policy events show as system lines, in hub order.
	var seqs []uint64
	r.tl.Read(func(v View) {
		for i := 0; i < v.Len(); i++ {
			if it := v.At(i); it.Kind == ItemEvent && it.Event.Kind == EventReadReceipts {
				seqs = append(seqs, it.Seq)
			}
		}
	})
	if len(seqs) != 3 || seqs[0] != 2 || seqs[1] != 6 || seqs[2] != 7 {
		t.Fatalf("policy rows at seqs %v, want [2 6 7]", seqs)
	}
}

func TestTimelineReadReceiptsBadValue(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	err := r.tl.ApplyEvent(RoomEvent{Seq: 1, Kind: EventReadReceipts, Actor: alice, Text: "maybe"})
	var re *RefusalError
	if !errors.As(err, &re) || re.Refusal.Reason != RefuseBadEvent {
		t.Fatalf("err = %v, want a bad-event refusal", err)
	}
	if !readReceipts(r.tl) {
		t.Fatal("a refused policy event changed the policy")
	}
	r.tl.Read(func(v View) {
		if v.Len() != 0 || v.RefusedTotal() != 1 {
			t.Errorf("rows %d, refused %d; want 0 and 1", v.Len(), v.RefusedTotal())
		}
	})
	if EventReadReceipts.String() != "receipts" {
		t.Fatalf("String() = %q", EventReadReceipts.String())
	}
}

// Once the room turns read receipts off, reports of "read" are not
// recorded; delivery notifications still are.
func TestTimelineReadReceiptsOffDropsReads(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	a := r.send(alice, tlText("a"))
	r.send(bob, tlReceipt(t, StatusEntry{ID: a, Status: StatusRead}))
	r.event(RoomEvent{Kind: EventReadReceipts, Actor: alice, Text: ReceiptsOff})
	r.send(carol, tlReceipt(t, StatusEntry{ID: a, Status: StatusRead}))
	r.send(mod, tlReceipt(t, StatusEntry{ID: a, Status: StatusDelivered}))
	got := r.tl.Receipts(a)
	if len(got) != 2 || got[0].Member != bob || got[0].Status != StatusRead || got[1].Member != mod {
		t.Fatalf("receipts = %+v", got)
	}
}
