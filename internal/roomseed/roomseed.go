package roomseed

import (
	"context"
	"fmt"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/relay"
)

// Options say what to seed.
type Options struct {
	Domain   string // default "example.com"
	User     string // the user in every room (a member), default "me"
	Owner    string // the owner of every room, default "owner"
	Rooms    int
	Messages int // per room, from the owner and the user in turn
	// Start is the first event's time (events are 1 ms apart within a
	// room); default an hour ago.
	Start time.Time
}

// Seeded is what Seed wrote.
type Seeded struct {
	User, Owner           string // user URIs
	UserToken, OwnerToken string
	Rooms                 []string // room URIs, in order
	// Head is every room's last seq: create, name, invite, join, then the
	// messages.
	Head uint64
}

// templates is how many distinct message bodies each sender has; rooms
// reuse them (a message's ID is computed with its room, so IDs differ).
const templates = 64

// Seed creates the users and rooms in the relay data directory dir (which
// no relay may be serving) and returns their names and tokens.
func Seed(dir string, o Options) (Seeded, error) {
	if o.Domain == "" {
		o.Domain = "example.com"
	}
	if o.User == "" {
		o.User = "me"
	}
	if o.Owner == "" {
		o.Owner = "owner"
	}
	if o.Start.IsZero() {
		o.Start = time.Now().Add(-time.Hour)
	}
	st, err := relay.OpenStore(dir)
	if err != nil {
		return Seeded{}, err
	}
	defer st.Close()
	if _, err := st.Domain(o.Domain); err != nil {
		return Seeded{}, err
	}
	u, userTok, err := st.AddUser(o.Domain, o.User)
	if err != nil {
		return Seeded{}, fmt.Errorf("roomseed: %w", err)
	}
	ow, ownerTok, err := st.AddUser(o.Domain, o.Owner)
	if err != nil {
		return Seeded{}, fmt.Errorf("roomseed: %w", err)
	}
	senders := []string{ow.URI, u.URI}
	bodies := make([][][]byte, len(senders))
	for si, sender := range senders {
		for i := range templates {
			b := content.Builder{Sender: sender, Room: proto.RoomURI(o.Domain, "any")}
			m, err := b.Markdown(fmt.Sprintf("Message %d from %s, with **bold**, `code` and a sentence long enough to wrap now and then on a narrow terminal.", i, sender))
			if err != nil {
				return Seeded{}, fmt.Errorf("roomseed: %w", err)
			}
			raw, err := m.Encode()
			if err != nil {
				return Seeded{}, fmt.Errorf("roomseed: %w", err)
			}
			bodies[si] = append(bodies[si], raw)
		}
	}
	out := Seeded{User: u.URI, Owner: ow.URI, UserToken: userTok, OwnerToken: ownerTok, Head: uint64(4 + o.Messages)}
	const chunk = 500 // rooms per BulkLoad call: bounds the memory of one call
	for first := 0; first < o.Rooms; first += chunk {
		var rooms []relay.BulkRoom
		for i := first; i < min(first+chunk, o.Rooms); i++ {
			uri := proto.RoomURI(o.Domain, fmt.Sprintf("room-%05d", i))
			out.Rooms = append(out.Rooms, uri)
			br := relay.BulkRoom{URI: uri, Name: fmt.Sprintf("Room %d", i), Owner: ow.URI, Members: []string{u.URI}}
			for j := range o.Messages {
				si := j % len(senders)
				// Rooms reuse bodies, but a room never holds the same
				// bytes twice (the relay dedupes them per room).
				raw := bodies[si][(j/len(senders))%templates]
				if j/len(senders) >= templates {
					return Seeded{}, fmt.Errorf("roomseed: at most %d messages per room", 2*templates)
				}
				id, err := content.ComputeID(senders[si], uri, raw)
				if err != nil {
					return Seeded{}, fmt.Errorf("roomseed: %w", err)
				}
				br.Messages = append(br.Messages, relay.BulkMessage{From: senders[si], ID: id[:], Content: raw})
			}
			rooms = append(rooms, br)
		}
		if err := st.BulkLoad(context.Background(), rooms, o.Start); err != nil {
			return Seeded{}, err
		}
	}
	return out, nil
}
