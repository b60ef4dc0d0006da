package content

import (
	"crypto/sha256"
	"testing"
)

// FuzzTimeline reads the input as a program of room operations (messages,
// replies, reactions, edits, deletes, unlikes, receipts, raw bytes for the
// decoder, room events, reads, expiry, and sequence numbers that go
// backwards) and checks that the timeline never panics and its counters and
// order stay consistent.
func FuzzTimeline(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 0, 3, 0, 0, 4, 1, 0, 2, 2, 1})
	f.Add([]byte{2, 0, 1, 0, 1, 0, 3, 1, 0, 5, 1, 1, 6, 2, 0, 9, 0, 0})
	f.Add([]byte{7, 8, 0x87, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf6})
	f.Add([]byte{0, 0, 0, 12, 1, 0, 8, 3, 1, 10, 0, 0, 11, 0, 0, 3, 2, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		users := []string{alice, bob, carol, mod}
		r := newTLRoom(t, TimelineOptions{LocalUser: alice, MaxHeld: 8, MaxRefusals: 8, Decode: Decode})
		var ids []MessageID
		next := func() byte {
			if len(prog) == 0 {
				return 0
			}
			b := prog[0]
			prog = prog[1:]
			return b
		}
		target := func(b byte) MessageID {
			if len(ids) == 0 || b == 255 {
				return MessageID{1, b}
			}
			return ids[int(b)%len(ids)]
		}
		for steps := 0; len(prog) > 0 && steps < 200; steps++ {
			op, u, tb := next(), users[next()%4], next()
			var m *Message
			switch op % 13 {
			case 0:
				m = tlText("hi [@A](" + alice + ")")
			case 1:
				m = tlReply(target(tb), "re")
			case 2:
				m = tlReact(target(tb), "👍")
			case 3:
				m = tlEdit(target(tb), "edit")
			case 4:
				m = tlDelete(target(tb))
			case 5:
				m = tlUnlike(target(tb), target(tb+1))
			case 6:
				m = tlReceipt(t, StatusEntry{ID: target(tb), Status: Status(tb % 8)})
			case 7: // raw bytes for the decoder
				n := int(tb) % 64
				if n > len(prog) {
					n = len(prog)
				}
				raw := append([]byte(nil), prog[:n]...)
				prog = prog[n:]
				r.seq++
				r.tl.Apply(Envelope{Seq: r.seq, Sender: u, ID: MessageID(append([]byte{1}, sha256.New().Sum(raw)[:31]...)), Raw: raw})
				continue
			case 8:
				m = tlReacts(target(tb), "🥳", "x y")
			case 9:
				r.tl.MarkRead(target(tb), int64(tb)*1000)
				continue
			case 10:
				r.tl.Expire(int64(tb) * 1_000_000)
				continue
			case 11:
				r.event(RoomEvent{Kind: RoomEventKind(1 + tb%10), Actor: u, Target: users[tb%4], Role: MemberRole(tb % 6)})
				continue
			case 12:
				m = tlText("expiring")
				m.Expires = &Expiration{Relative: tb%2 == 0, Time: uint32(tb)}
			}
			e := r.env(u, m)
			if tb%7 == 3 && e.Seq > 5 { // arrive out of order
				e.Seq -= uint64(tb % 5)
			}
			r.tl.Apply(e)
			ids = append(ids, e.ID)
		}
		checkTimelineInvariants(t, r.tl)
	})
}

func checkTimelineInvariants(t *testing.T, tl *Timeline) {
	t.Helper()
	u, m := tl.Unread(), tl.Mentions()
	if u < 0 || m < 0 || m > u {
		t.Fatalf("unread %d mentions %d", u, m)
	}
	tl.Read(func(v View) {
		var last uint64
		unread := 0
		for i := 0; i < v.Len(); i++ {
			it := v.At(i)
			if it.Seq < last {
				t.Fatalf("row %d seq %d after %d", i, it.Seq, last)
			}
			last = it.Seq
			if it.Kind == ItemEvent {
				continue
			}
			if it.Unread {
				unread++
			}
			if len(v.Versions(it.ID)) != it.Versions {
				t.Fatalf("row %d: %d versions listed, item says %d", i, len(v.Versions(it.ID)), it.Versions)
			}
			if j, ok := v.Index(it.Current); !ok || j != i {
				t.Fatalf("Index(current of row %d) = %d %v", i, j, ok)
			}
			v.Reactions(it.ID)
			v.Receipts(it.ID)
			v.Parent(it.ID)
			if it.Deleted && len(it.Body.Content) != 0 {
				t.Fatalf("row %d deleted but shows content", i)
			}
		}
		if unread != u {
			t.Fatalf("rows marked unread %d, counter %d", unread, u)
		}
	})
}
