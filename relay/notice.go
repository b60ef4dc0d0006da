package relay

import (
	"sync"

	"mimichat/proto"
)

// Notices push a user's own membership changes (invited, kicked, banned,
// unbanned, role changed, joined or left elsewhere) to every live connection
// of that user, subscribed to the room or not: an invitation shows at once
// instead of at the client's next room-list poll.

// userConns indexes live connections by user, for notices.
type userConns struct {
	mu    sync.RWMutex
	users map[string]map[*conn]struct{}
}

func (u *userConns) add(c *conn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.users == nil {
		u.users = map[string]map[*conn]struct{}{}
	}
	set := u.users[c.user]
	if set == nil {
		set = map[*conn]struct{}{}
		u.users[c.user] = set
	}
	set[c] = struct{}{}
}

func (u *userConns) remove(c *conn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	set := u.users[c.user]
	delete(set, c)
	if len(set) == 0 {
		delete(u.users, c.user)
	}
}

// notice is one encoded notice frame for one user, sent after its batch is
// durable.
type notice struct {
	user   string
	device string // an mls_welcome: only to connections whose hello named this device
	frame  []byte
}

// welcomeNotice is the mls_welcome push of a Welcome stored for device.
func welcomeNotice(room string, seq uint64, user, device string, welcome []byte) (notice, bool) {
	frame, err := proto.Encode(&proto.MLSWelcome{Room: room, Seq: seq, Device: device, Welcome: welcome})
	if err != nil {
		return notice{}, false
	}
	return notice{user: user, device: device, frame: frame}, true
}

// noticeFor returns the notice an applied operation owes, if any: to the
// target of invite, kick, ban, unban and role, and to the actor of join and
// leave (its other connections). m is the user's membership after the op.
func noticeFor(ev *proto.Event, op proto.Kind, actor string, m *member) (notice, bool) {
	user := ev.Target
	switch op {
	case proto.KindInvite, proto.KindKick, proto.KindBan, proto.KindUnban, proto.KindRole:
	case proto.KindJoin, proto.KindLeave:
		user = actor
	default:
		return notice{}, false
	}
	if user == "" || m == nil {
		return notice{}, false
	}
	f := &proto.Notice{Room: ev.Room, Seq: ev.Seq, Kind: op, From: actor, State: m.state}
	if m.state != proto.StateNone {
		f.Role = m.role
	}
	frame, err := proto.Encode(f)
	if err != nil {
		return notice{}, false
	}
	return notice{user: user, frame: frame}, true
}

// deliver queues n on every live connection of its user that speaks a
// protocol version with notices (2 and later).
func (u *userConns) deliver(n notice) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	for c := range u.users[n.user] {
		switch {
		case n.device != "":
			if c.v >= e2eeVersion && c.named == n.device {
				c.enqueue(outItem{kind: itemFrame, data: n.frame})
			}
		case c.v >= 2:
			c.enqueue(outItem{kind: itemFrame, data: n.frame})
		}
	}
}
