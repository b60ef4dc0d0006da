package content

import (
	"sync"
	"testing"
)

func TestTimelineAbsoluteExpiry(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	m := tlText("VPN going down")
	m.Expires = &Expiration{Time: 2000}
	id := r.send(alice, m)
	m2 := tlText("later")
	m2.Expires = &Expiration{Time: 3000}
	id2 := r.send(alice, m2)
	reply := r.send(bob, tlReply(id, "ok"))
	if at, ok := r.tl.NextExpiry(); !ok || at != 2_000_000 {
		t.Fatalf("NextExpiry = %d %v", at, ok)
	}
	if at, ok := r.tl.ExpiresAt(id2); !ok || at != 3_000_000 {
		t.Fatalf("ExpiresAt = %d %v", at, ok)
	}
	if n := r.tl.Expire(1_999_999); n != 0 {
		t.Fatalf("expired %d early", n)
	}
	if n := r.tl.Expire(2_000_000); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	it := r.tl.At(0)
	if !it.Expired || len(it.Body.Content) != 0 {
		t.Fatalf("expired row = %+v", it)
	}
	if p := r.tl.Parent(reply); p.State != ParentExpired || p.Text != "" {
		t.Fatalf("parent = %+v", p)
	}
	// An edit that arrives after expiry does not bring the content back.
	e := tlEdit(id, "edited late")
	e.Expires = m.Expires
	r.send(alice, e)
	if it := r.tl.At(0); len(it.Body.Content) != 0 || it.Versions != 2 {
		t.Fatalf("edited expired row = %+v", it)
	}
	for _, v := range r.tl.Versions(id) {
		if len(v.Body.Content) != 0 {
			t.Fatalf("expired message keeps a version body %q", v.Body.Content)
		}
	}
	if at, ok := r.tl.NextExpiry(); !ok || at != 3_000_000 {
		t.Fatalf("next = %d %v", at, ok)
	}
	r.tl.Expire(5_000_000)
	if _, ok := r.tl.NextExpiry(); ok {
		t.Fatal("nothing left to expire")
	}
}

// Relative expiry counts from when the local user read the message.
func TestTimelineRelativeExpiry(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{LocalUser: alice})
	m := tlText("self-destructs")
	m.Expires = &Expiration{Relative: true, Time: 30}
	other := r.send(bob, m)
	plain := r.send(bob, tlText("stays"))
	mine := tlText("mine too")
	mine.Expires = &Expiration{Relative: true, Time: 10}
	own := r.send(alice, mine)

	// Own message: read when the hub accepted it.
	ownHub := r.tl.At(2).HubTime
	if at, ok := r.tl.ExpiresAt(own); !ok || at != ownHub+10_000 {
		t.Fatalf("own ExpiresAt = %d %v", at, ok)
	}
	if _, ok := r.tl.ExpiresAt(other); ok {
		t.Fatal("unread relative message has an expiry time")
	}
	if err := r.tl.MarkRead(plain, 50_000_000); err != nil { // reading a later message reads this one too
		t.Fatal(err)
	}
	if at, ok := r.tl.ExpiresAt(other); !ok || at != 50_030_000 {
		t.Fatalf("ExpiresAt after read = %d %v", at, ok)
	}
	if n := r.tl.Expire(50_029_999); n != 1 { // only the own one (hub time + 10 s) is due
		t.Fatalf("expired %d", n)
	}
	if n := r.tl.Expire(50_030_000); n != 1 || !r.tl.At(0).Expired {
		t.Fatalf("expired %d, row %+v", n, r.tl.At(0))
	}
	var unknown MessageID
	if err := r.tl.MarkRead(unknown, 1); err == nil {
		t.Fatal("MarkRead of an unknown ID succeeded")
	}
}

func TestTimelineUnreadAndMentions(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{LocalUser: alice})
	r.send(bob, tlText("one"))
	r.send(alice, tlText("my own message does not count"))
	men := r.send(bob, tlText("ping [@Alice](mimi://example.com/u/alice)"))
	htmlID := r.send(carol, &Message{Body: tlPart(Render, "text/html", `<a href="mimi://example.com/u/alice">@A</a>`)})
	r.send(carol, tlText("mimi://example.com/u/alice-smith is someone else"))
	last := r.send(carol, tlText("two"))
	if u, m := r.tl.Unread(), r.tl.Mentions(); u != 5 || m != 2 {
		t.Fatalf("unread %d mentions %d, want 5 2", u, m)
	}
	// Editing a mention in and deleting one adjust the counters.
	r.send(bob, tlText("<mimi://example.com/u/alice>")) // autolink
	r.send(bob, tlEdit(men, "never mind"))
	if u, m := r.tl.Unread(), r.tl.Mentions(); u != 6 || m != 2 {
		t.Fatalf("after edit: unread %d mentions %d, want 6 2", u, m)
	}
	r.send(carol, tlDelete(last))
	if u := r.tl.Unread(); u != 5 {
		t.Fatalf("after delete: unread %d", u)
	}
	r.send(carol, tlDelete(htmlID))
	if it := r.tl.At(3); it.ID != htmlID || it.Mention || !it.Deleted || r.tl.Mentions() != 1 || r.tl.Unread() != 4 {
		t.Fatalf("deleted mention: %+v, mentions %d unread %d", it, r.tl.Mentions(), r.tl.Unread())
	}
	if err := r.tl.MarkRead(men, 1); err != nil {
		t.Fatal(err)
	}
	if u, m, mk := r.tl.Unread(), r.tl.Mentions(), r.tl.ReadMarker(); u != 2 || m != 1 || mk != 3 {
		t.Fatalf("after MarkRead: unread %d mentions %d marker %d", u, m, mk)
	}
	if it := r.tl.At(0); it.Unread || it.Mention {
		t.Fatalf("row 0 = %+v", it)
	}
}

func TestTimelineReceipts(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	a := r.send(alice, tlText("a"))
	e := r.send(alice, tlEdit(a, "a2"))
	b := r.send(alice, tlText("b"))
	r.send(bob, tlReceipt(t, StatusEntry{ID: a, Status: StatusDelivered}, StatusEntry{ID: b, Status: StatusDelivered}))
	late := r.env(bob, tlReceipt(t, StatusEntry{ID: a, Status: StatusUnread})) // applied below, out of order
	r.send(bob, tlReceipt(t, StatusEntry{ID: e, Status: StatusRead}))          // names the edit: counts for the message
	r.send(carol, tlReceipt(t, StatusEntry{ID: a, Status: StatusRead}))
	// A report with a lower sequence number arriving now does not undo the newer one.
	late.Seq = 5 // before bob's "read" report (seq 6)
	if _, err := r.tl.Apply(late); err != nil {
		t.Fatal(err)
	}
	rs := r.tl.Receipts(a)
	if len(rs) != 2 || rs[0].Member != bob || rs[0].Status != StatusRead || rs[1].Member != carol || rs[1].Status != StatusRead {
		t.Fatalf("receipts = %+v", rs)
	}
	var n int
	r.tl.Read(func(v View) { n = v.ReceiptCount(a, StatusRead) })
	if n != 2 {
		t.Fatalf("read count = %d", n)
	}
	// Later report wins: bob marks a unread again.
	r.send(bob, tlReceipt(t, StatusEntry{ID: a, Status: StatusUnread}))
	if rs := r.tl.Receipts(a); rs[0].Status != StatusUnread {
		t.Fatalf("receipts = %+v", rs)
	}
	if rs := r.tl.Receipts(b); len(rs) != 1 || rs[0].Status != StatusDelivered {
		t.Fatalf("b receipts = %+v", rs)
	}
	// Receipts are not rows.
	if r.tl.Len() != 2 {
		t.Fatalf("Len = %d", r.tl.Len())
	}
}

func TestTimelineKnocks(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	b := Builder{Sender: bob}
	k, err := b.Knock("Bob")
	if err != nil {
		t.Fatal(err)
	}
	r.send(bob, k)
	r.send(bob, tlText("not a knock"))
	// A knock is a message: it can be reacted to and deleted by its sender.
	r.send(alice, tlReact(r.tl.At(0).ID, "👋"))
	r.send(bob, tlDelete(r.tl.At(0).ID))
	if it := r.tl.At(0); !it.Deleted || it.Reactions != 1 {
		t.Fatalf("knock after reaction and delete: %+v", it)
	}
	k2, _ := b.Knock("Bob again")
	r.send(bob, k2)
	var knocks int
	var after []Item
	r.tl.Read(func(v View) { knocks, after = v.Knocks(), v.KnocksAfter(1) })
	if it := r.tl.At(0); it.Kind != ItemKnock || knocks != 2 || r.tl.At(1).Kind != ItemMessage {
		t.Fatalf("row %+v, knocks %d", it, knocks)
	}
	if len(after) != 1 || after[0].Seq != 5 || after[0].Kind != ItemKnock {
		t.Fatalf("KnocksAfter(1) = %+v", after)
	}
}

// One writer, several readers (run with -race): every read sees a
// consistent state, and Version never goes backwards.
func TestTimelineConcurrentReaders(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	var envs []Envelope
	first := r.env(alice, tlText("root"))
	envs = append(envs, first)
	for i := range 300 {
		switch i % 3 {
		case 0:
			envs = append(envs, r.env(bob, tlText("msg")))
		case 1:
			envs = append(envs, r.env(carol, tlReact(first.ID, "👍")))
		default:
			envs = append(envs, r.env(alice, tlEdit(first.ID, "root edited")))
		}
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last uint64
			for {
				select {
				case <-done:
					return
				default:
				}
				r.tl.Read(func(v View) {
					if v.Version() < last {
						t.Error("Version went backwards")
					}
					last = v.Version()
					for i := 0; i < v.Len(); i++ {
						if v.At(i).Seq == 0 {
							t.Error("row without seq")
						}
					}
					if v.Len() > 0 {
						v.Reactions(v.At(0).ID)
					}
				})
			}
		}()
	}
	for _, e := range envs {
		if _, err := r.tl.Apply(e); err != nil {
			t.Error(err)
		}
	}
	close(done)
	wg.Wait()
	if r.tl.Len() != 101 {
		t.Fatalf("Len = %d", r.tl.Len())
	}
}
