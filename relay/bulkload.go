package relay

import (
	"context"
	"fmt"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// BulkRoom is one plaintext room for BulkLoad: created by Owner, joined by
// Members (by invitation) and holding Messages.
type BulkRoom struct {
	URI      string
	Name     string
	Owner    string   // user URI
	Members  []string // user URIs besides the owner
	Messages []BulkMessage
}

// BulkMessage is one message of a BulkRoom: From (the owner or a member),
// its MIMI content bytes and the message ID the sender would have claimed.
type BulkMessage struct {
	From    string
	ID      []byte
	Content []byte
}

// bulkBatchEvents is about how many events one BulkLoad transaction stores.
const bulkBatchEvents = 50_000

// BulkLoad writes rooms with their members and logs straight into a relay's
// data directory, many rooms per transaction, as the writer would have
// stored them one request at a time: a create, name, invite and join for
// each member, then the messages, one millisecond apart from start. It is
// for seeding a relay before it starts (benchmarks and tests of users in
// thousands of rooms, which would otherwise spend minutes creating them);
// no relay may be running on the store.
func (s *Store) BulkLoad(ctx context.Context, rooms []BulkRoom, start time.Time) error {
	var b store.Batch
	flush := func() error {
		if len(b.Events) == 0 {
			return nil
		}
		err := s.db.AppendBatch(ctx, b)
		b = store.Batch{}
		return err
	}
	for _, br := range rooms {
		if err := s.bulkRoom(&b, br, start); err != nil {
			return err
		}
		if len(b.Events) >= bulkBatchEvents {
			if err := flush(); err != nil {
				return fmt.Errorf("relay: bulk load: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("relay: bulk load: %w", err)
	}
	return nil
}

// bulkRoom appends one room's rows and events to b.
func (s *Store) bulkRoom(b *store.Batch, br BulkRoom, start time.Time) error {
	var seq uint64
	ts := start.UnixMilli()
	add := func(ev *proto.Event, key []byte) error {
		seq++
		ts++
		ev.Room, ev.Seq, ev.TS = br.URI, seq, ts
		frame, err := proto.Encode(ev)
		if err != nil {
			return fmt.Errorf("relay: bulk load %s: %w", br.URI, err)
		}
		b.Events = append(b.Events, store.Event{Room: br.URI, Seq: seq, TS: ts, Key: key, Frame: frame})
		return nil
	}
	b.Rooms = append(b.Rooms, store.Room{URI: br.URI, Name: br.Name, History: proto.HistoryShared,
		JoinPolicy: proto.JoinInvite, Receipts: proto.ReceiptsOn})
	if err := add(&proto.Event{Sender: br.Owner, Kind: proto.KindCreate, Role: proto.RoleOwner}, nil); err != nil {
		return err
	}
	b.Members = append(b.Members, store.Member{Room: br.URI, User: br.Owner, Role: string(proto.RoleOwner),
		State: string(proto.StateJoined), JoinSeq: 1})
	if br.Name != "" {
		if err := add(&proto.Event{Sender: br.Owner, Kind: proto.KindName, Value: br.Name}, nil); err != nil {
			return err
		}
	}
	joined := map[string]bool{br.Owner: true}
	for _, m := range br.Members {
		if err := add(&proto.Event{Sender: br.Owner, Kind: proto.KindInvite, Target: m, Role: proto.RoleMember}, nil); err != nil {
			return err
		}
		if err := add(&proto.Event{Sender: m, Kind: proto.KindJoin, Role: proto.RoleMember}, nil); err != nil {
			return err
		}
		b.Members = append(b.Members, store.Member{Room: br.URI, User: m, Role: string(proto.RoleMember),
			State: string(proto.StateJoined), JoinSeq: seq})
		joined[m] = true
	}
	for i, m := range br.Messages {
		if !joined[m.From] {
			return fmt.Errorf("relay: bulk load %s: message %d is from %s, not a member", br.URI, i, m.From)
		}
		key := store.SubmitKey(m.Content)
		if err := add(&proto.Event{Sender: m.From, Kind: proto.KindMessage, ID: m.ID, Content: m.Content}, key[:]); err != nil {
			return err
		}
	}
	return nil
}
