package content

import "testing"

func TestTimelineStatusPolicy(t *testing.T) {
	pol := DefaultRoomPolicy()
	pol.ReadReceipts = PolicyForbidden
	r := newTLRoom(t, TimelineOptions{Policy: pol})
	a := r.send(alice, tlText("a"))
	r.send(bob, tlReceipt(t, StatusEntry{ID: a, Status: StatusDelivered}, StatusEntry{ID: a, Status: StatusRead}))
	rs := r.tl.Receipts(a)
	if len(rs) != 1 || rs[0].Status != StatusDelivered {
		t.Fatalf("receipts = %+v", rs)
	}
	refs := r.tl.Refused()
	if len(refs) != 1 || refs[0].Reason != RefuseForbiddenStatus {
		t.Fatalf("refused = %+v", refs)
	}
}

func TestTimelineExpiryPolicy(t *testing.T) {
	abs := func(sec uint32) *Expiration { return &Expiration{Time: sec} }
	rel := func(sec uint32) *Expiration { return &Expiration{Relative: true, Time: sec} }
	// Hub time of the first message in a fresh room is 1001 s (see tlRoom.env).
	const sent = 1001
	cases := []struct {
		name   string
		policy ExpiryPolicy
		exp    *Expiration
		want   int64 // ExpiresAt in ms after reading at 0 (relative) or absolute; -1 = never
	}{
		{"no policy, absolute", ExpiryPolicy{}, abs(5000), 5_000_000},
		{"no policy, none", ExpiryPolicy{}, nil, -1},
		{"forbidden ignores the hint", ExpiryPolicy{Mode: PolicyForbidden}, abs(5000), -1},
		{"required gives the default", ExpiryPolicy{Mode: PolicyRequired, Min: 10, Max: 100, Default: 60}, nil, 60_000},
		{"clamped up to min", ExpiryPolicy{Mode: PolicyOptional, Min: 30, Max: 100}, rel(5), 30_000},
		{"clamped down to max", ExpiryPolicy{Mode: PolicyOptional, Min: 30, Max: 100}, rel(500), 100_000},
		{"absolute clamped to max", ExpiryPolicy{Mode: PolicyOptional, Min: 30, Max: 100}, abs(sent + 1000), (sent + 100) * 1000},
		{"in range unchanged", ExpiryPolicy{Mode: PolicyRequired, Min: 30, Max: 100}, rel(50), 50_000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := DefaultRoomPolicy()
			pol.Expiry = c.policy
			r := newTLRoom(t, TimelineOptions{Policy: pol, LocalUser: carol})
			m := tlText("x")
			m.Expires = c.exp
			id := r.send(alice, m)
			if err := r.tl.MarkRead(id, 1); err != nil { // read at 1 ms
				t.Fatal(err)
			}
			at, ok := r.tl.ExpiresAt(id)
			if c.want < 0 {
				if ok {
					t.Fatalf("expires at %d, want never", at)
				}
				return
			}
			if c.exp == nil || c.exp.Relative {
				at-- // relative: counted from the read at 1 ms
			}
			if !ok || at != c.want {
				t.Fatalf("ExpiresAt = %d %v, want %d", at, ok, c.want)
			}
			// An edit that repeats the original expiry is not a change.
			e := tlEdit(id, "y")
			e.Expires = c.exp
			r.send(alice, e)
		})
	}
}
