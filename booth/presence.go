package booth

// Presence of visitors. The relay keeps no presence: a client announces
// it, and a signal reaches only who is subscribed at that moment. So the
// booth announces for its visitors: online once a visitor has joined (and
// again, for everyone there, whenever someone arrives, so the newcomer sees
// who is in), offline when a visitor's SSH session ends, before their
// session closes.

import (
	"context"
	"time"

	"mimichat/session"
)

// present is one connected visitor's session and rooms.
type present struct {
	s     *session.Session
	rooms []string
}

func announce(p present, value string) {
	for _, r := range p.rooms {
		_ = p.s.Presence(r, value) // best effort, as the client's own
	}
}

// arrive registers p and announces everyone connected, p included, as
// online.
func (b *Booth) arrive(p present) {
	b.mu.Lock()
	b.present[p.s] = p
	all := make([]present, 0, len(b.present))
	for _, q := range b.present {
		all = append(all, q)
	}
	b.mu.Unlock()
	for _, q := range all {
		announce(q, "online")
	}
}

// leave unregisters p and announces it offline, waiting (briefly) until
// the relay has taken the signals: a request answered on the same
// connection comes after them.
func (b *Booth) leave(p present) {
	b.mu.Lock()
	delete(b.present, p.s)
	b.mu.Unlock()
	announce(p, "offline")
	if len(p.rooms) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = p.s.RoomInfo(ctx, p.rooms[0])
	}
}
