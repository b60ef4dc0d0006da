package relay

import (
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/proto"
)

// Subscribing, alone or in batches. Every subscription queues one replay
// marker; a marker takes one of the connection's replay tokens until the
// writer has replayed it, so a client subscribing to thousands of rooms is
// paced by its own reading (the reader waits for a token, TCP pushes back)
// instead of filling the send queue with markers and answers and being cut
// off as a slow reader. The send queue has room for the markers and answers
// of every token besides SendQueue, so they never count against it.

// replayTokens bounds the replay markers (single or batched) a connection
// may have queued or in progress at once.
const replayTokens = 32

// batchRoomsPerSubscribe is how many rooms of a subscribe_rooms frame count
// as one subscribe against the user's subscribe budget: a batch's replays
// are paced by the writer, so it costs the relay far less than as many
// single subscribes.
const batchRoomsPerSubscribe = 100

// versionBatchSubscribe is the first protocol version with subscribe_rooms.
const versionBatchSubscribe = 6

// replayFrom is one room of a batched replay marker: replay after seq.
type replayFrom struct {
	room string
	seq  uint64
}

// takeReplayToken waits for a replay token; false if the connection ended.
func (c *conn) takeReplayToken() bool {
	select {
	case c.replays <- struct{}{}:
		return true
	case <-c.done:
		return false
	}
}

// releaseReplayToken gives back a token taken by takeReplayToken.
func (c *conn) releaseReplayToken() {
	select {
	case <-c.replays:
	default:
	}
}

// subscribeOne handles a subscribe frame.
func (c *conn) subscribeOne(f *proto.Subscribe) *refusal {
	if ref := c.needE2EEVersion(f.Room); ref != nil {
		return ref
	}
	if wait, ok := c.srv.limits.subscribe(c.user, time.Now(), 1); !ok {
		return rateLimited(wait, "more than %g subscribes per second", c.srv.cfg.SubscribeRate)
	}
	if !c.takeReplayToken() {
		return nil
	}
	ref := c.srv.hub.subscribe(c, f)
	if ref != nil {
		c.releaseReplayToken()
	}
	return ref
}

// subscribeRooms handles a subscribe_rooms frame (version 6): every room is
// registered (or refused) as a subscribe would, one subscribed_rooms answer
// and one replay marker are queued for the whole frame.
func (c *conn) subscribeRooms(f *proto.SubscribeRooms) *refusal {
	if c.v < versionBatchSubscribe {
		return refuse(proto.CodeUnknownType, "%s needs protocol version %d; the connection speaks %d", f.FrameType(), versionBatchSubscribe, c.v)
	}
	cost := (len(f.Rooms) + batchRoomsPerSubscribe - 1) / batchRoomsPerSubscribe
	if wait, ok := c.srv.limits.subscribe(c.user, time.Now(), cost); !ok {
		return rateLimited(wait, "more than %g subscribes per second (each %d rooms of a batch count as one)", c.srv.cfg.SubscribeRate, batchRoomsPerSubscribe)
	}
	if !c.takeReplayToken() {
		return nil
	}
	answer := &proto.SubscribedRooms{RID: f.RID}
	replays := make([]replayFrom, 0, len(f.Rooms))
	uris := make([]string, len(f.Rooms))
	for i, rc := range f.Rooms {
		uris[i] = rc.Room
	}
	heads := c.srv.hub.freshBatch(uris) // nil outside a cluster
	for _, rc := range f.Rooms {
		sub, from, ref := c.srv.hub.register(c, rc.Room, rc.Since, heads)
		if ref != nil {
			answer.Refused = append(answer.Refused, proto.RoomRefused{Room: rc.Room, Code: ref.code, Field: ref.field, Reason: ref.reason})
			continue
		}
		answer.Rooms = append(answer.Rooms, sub)
		replays = append(replays, replayFrom{room: sub.Room, seq: from})
	}
	// The answer travels with the marker, so it is written just before
	// the replays it announces (writeSubscribedRooms).
	if !c.enqueue(outItem{kind: itemReplayRooms, answer: answer, rooms: replays, reserved: true}) {
		c.releaseReplayToken()
	}
	return nil
}

// writeSubscribedRooms writes a batch's answer with each room's head as of
// now: a room this connection was already subscribed to may have had live
// events written since its registration, and the head must not be below
// them (a client takes a head below its cursor for a relay that lost data).
func (c *conn) writeSubscribedRooms(answer *proto.SubscribedRooms) error {
	for i := range answer.Rooms {
		if r := c.srv.hub.room(answer.Rooms[i].Room); r != nil {
			r.mu.RLock()
			answer.Rooms[i].LastSeq = max(answer.Rooms[i].LastSeq, r.head)
			r.mu.RUnlock()
		}
	}
	data, err := proto.Encode(answer)
	if err != nil {
		return fmt.Errorf("encode subscribed_rooms: %w", err)
	}
	return c.ws.WriteMessage(websocket.BinaryMessage, data)
}

// register subscribes c to room after since, as subscribe does, without
// queueing anything: it returns the subscription's bounds and the seq the
// replay starts after. Live events of the room may be queued from now on;
// the writer drops them until the replay marker gives the room a cursor,
// and the replay reads them from the store. heads, in a cluster, are the
// log's heads of the batch's rooms read by freshBatch, which has caught
// this node's state up with them; nil: the room is made fresh on its own
// (roomFresh).
func (h *hub) register(c *conn, uri string, since uint64, heads map[string]uint64) (proto.RoomSubscribed, uint64, *refusal) {
	if ref := c.needE2EEVersion(uri); ref != nil {
		return proto.RoomSubscribed{}, 0, ref
	}
	var r *room
	if heads != nil {
		r = h.room(uri)
	} else {
		r = h.roomFresh(uri)
	}
	if r == nil {
		return proto.RoomSubscribed{}, 0, refuse(proto.CodeNoSuchRoom, "no room %s", uri)
	}
	if h.cl != nil {
		h.cl.follow(r.uri)
		r.mu.RLock()
		behind := since > r.head
		r.mu.RUnlock()
		if behind { // the client comes from a node that saw more
			h.cl.catchUp(r.uri)
		}
		h.awaitCursor(r, since)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	first, ref := r.readAccess(c.user)
	if ref != nil {
		return proto.RoomSubscribed{}, 0, ref
	}
	if ref := h.cursorBehindState(r, since); ref != nil {
		return proto.RoomSubscribed{}, 0, ref
	}
	if since > r.head {
		// A cursor from the future (a relay whose data was reset): events
		// would silently be skipped until the log caught up.
		return proto.RoomSubscribed{}, 0, &refusal{code: proto.CodeBadField, reason: fmt.Sprintf("since %d is beyond the room's last seq %d", since, r.head), field: "since"}
	}
	r.subs[c] = struct{}{}
	c.track(r)
	from := since
	if first > 0 && from < first-1 {
		from = first - 1
	}
	return proto.RoomSubscribed{Room: r.uri, LastSeq: r.head, FirstSeq: first}, from, nil
}
