package session

import (
	"fmt"
	"sort"
	"time"

	"mimichat/proto"
)

// maxHeld bounds the out-of-order entries kept per room while a gap is
// being filled; beyond it they are dropped and fetched again by the fill.
const maxHeld = 4096

// fillRetry is how long a gap-fill request may stay unanswered before it is
// sent again.
const fillRetry = 5 * time.Second

// roomSync is a room's cached state plus what one connection knows of it.
type roomSync struct {
	Room
	subscribed bool // on the live connection
	// subscribing: in a subscribeAll on the live connection, answer awaited
	subscribing bool
	batch       []Entry          // contiguous entries accepted, not yet committed
	held        map[uint64]Entry // arrived early: seq > Cursor+1
	fillAt      time.Time        // when the outstanding gap fill was sent; zero if none
	receipts    string           // read-receipt policy from the room list or the log; "" unknown
	known       known            // the seq each shown field is known as of (roomlist.go)
	// stateAsked is Session.listsAsked when State was last set other than
	// by a room list: a list asked before then may not have the room.
	stateAsked uint64
	// endedSeq is the seq of the last entry applied that ended this
	// user's membership (a kick, a ban, a leave). The relay ends a
	// subscription right after that entry, so a subscription from before
	// it has ended too (endSubscriptionLocked).
	endedSeq uint64
}

// resetConn forgets what died with the connection; held entries and fills
// would be stale, the resubscription replays them.
func (r *roomSync) resetConn() {
	r.subscribed = false
	r.subscribing = false
	r.held = nil
	r.fillAt = time.Time{}
}

func sortRooms(rs []Room) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
}

// acceptLocked takes one event in: a duplicate is dropped, the next seq is
// batched (with any held entries it unblocks), a later seq is held and the
// gap requested.
func (s *Session) acceptLocked(c *conn, e Entry) {
	r, _ := s.roomLocked(e.Room, proto.StateJoined)
	switch {
	case e.Seq <= r.Cursor:
		return // duplicate (replay overlap, or our own echo)
	case e.Seq > r.Cursor+1:
		if r.held == nil {
			r.held = map[uint64]Entry{}
		}
		if len(r.held) < maxHeld {
			r.held[e.Seq] = e
		}
		s.requestFillLocked(c, r, e.Seq)
		return
	}
	s.openEntryLocked(&e)
	r.batch = append(r.batch, e)
	r.Cursor = e.Seq
	for {
		next, ok := r.held[r.Cursor+1]
		if !ok {
			break
		}
		delete(r.held, next.Seq)
		s.openEntryLocked(&next)
		r.batch = append(r.batch, next)
		r.Cursor = next.Seq
	}
	if len(r.held) == 0 {
		r.fillAt = time.Time{}
	}
}

// requestFillLocked asks for the entries between the cursor and seq, at
// most one request per room at a time.
func (s *Session) requestFillLocked(c *conn, r *roomSync, seq uint64) {
	if !r.fillAt.IsZero() && time.Since(r.fillAt) < fillRetry {
		return
	}
	before := min(seq, r.Cursor+1+proto.MaxHistoryLimit)
	s.nextRID++
	rid := s.nextRID
	c.mu.Lock()
	c.fills[rid] = r.ID
	c.mu.Unlock()
	if err := c.send(&proto.History{RID: rid, Room: r.ID, Before: before, Limit: before - r.Cursor - 1}); err != nil {
		c.mu.Lock()
		delete(c.fills, rid)
		c.mu.Unlock()
		return
	}
	r.fillAt = time.Now()
}

// fillDoneLocked feeds a gap-fill page through acceptLocked and asks for
// more if the gap is still open.
func (s *Session) fillDoneLocked(c *conn, room string, page *proto.HistoryPage) {
	r, ok := s.rooms[room]
	if !ok {
		return
	}
	r.fillAt = time.Time{}
	for i := range page.Events {
		s.acceptLocked(c, entryFromProto(&page.Events[i]))
	}
	if lowest, ok := lowestHeld(r.held); ok && lowest > r.Cursor+1 {
		if len(page.Events) == 0 {
			// The relay has nothing for the gap (history not visible):
			// skip to what we hold rather than wait for ever.
			s.q.push(ErrorEvent{fmt.Errorf("session: %s: entries %d..%d are not available", room, r.Cursor+1, lowest-1)})
			s.flushLocked(c)
			r.Cursor, r.Low = lowest-1, lowest
			if err := s.store.SaveRoom(r.Room); err != nil {
				s.q.push(ErrorEvent{err})
			}
			s.acceptLocked(c, r.held[lowest])
			return
		}
		s.requestFillLocked(c, r, lowest)
	}
}

func lowestHeld(held map[uint64]Entry) (uint64, bool) {
	var low uint64
	for seq := range held {
		if low == 0 || seq < low {
			low = seq
		}
	}
	return low, low != 0
}

// flushLocked commits every room's batch, in one transaction, and emits
// them.
func (s *Session) flushLocked(c *conn) {
	var (
		rooms   []*roomSync
		befores []Room
		batches []RoomBatch
	)
	for _, r := range s.rooms {
		if len(r.batch) == 0 {
			continue
		}
		batch := r.batch
		r.batch = nil
		before, ended := r.Room, r.endedSeq
		r.applyEntries(s.opts.User, s.listsAsked, batch)
		if r.endedSeq != ended {
			s.endSubscriptionLocked(c, r)
		}
		rooms, befores = append(rooms, r), append(befores, before)
		batches = append(batches, RoomBatch{Room: r.Room, Entries: batch, Group: s.dirtyGroupLocked(r.ID)})
	}
	if len(batches) == 0 {
		return
	}
	stored, err := s.store.CommitRooms(batches)
	if err != nil {
		// The cache refused: reload its truth and start this connection
		// over, so nothing is emitted that is not stored.
		s.q.push(ErrorEvent{err})
		for _, r := range rooms {
			delete(s.groups, r.ID)
			if fresh, ok, err2 := s.store.Room(r.ID); err2 == nil && ok {
				r.Room = fresh
			}
		}
		c.fail(err)
		return
	}
	for i, r := range rooms {
		r.Room = stored[i]
		if rg := s.groups[r.ID]; rg != nil {
			rg.dirty = false
		}
		s.q.push(EntriesEvent{Room: r.ID, Entries: batches[i].Entries})
		if roomMeta(befores[i]) != roomMeta(r.Room) {
			s.q.push(RoomEvent{Room: r.Room})
		}
	}
}

// endSubscriptionLocked notes that the relay ended r's subscription on c
// at an entry that ended this user's membership, and asks for the room
// list: when the user is in the room again (a join that raced the
// removal, answered before this session applied it), the list's refresh
// subscribes again from the cursor, past the removal. Before, the session
// kept the room as subscribed and got nothing more of it.
func (s *Session) endSubscriptionLocked(c *conn, r *roomSync) {
	r.subscribed = false
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

// roomMeta is the part of a Room whose change is worth a RoomEvent.
func roomMeta(r Room) [5]string {
	return [5]string{r.ID, r.Name, r.Topic, string(r.Role), string(r.State)}
}

// applyEntries updates a room's metadata from the operations in entries,
// noting the seq each field is then known as of; asked is
// Session.listsAsked.
func (r *roomSync) applyEntries(self string, asked uint64, entries []Entry) {
	setState := func(st proto.State, seq uint64) {
		r.State, r.known.state, r.stateAsked = st, seq, asked
	}
	setRole := func(role proto.Role, seq uint64) {
		r.Role, r.known.role = role, seq
	}
	for i := range entries {
		e := &entries[i]
		switch e.Kind {
		case proto.KindCreate:
			if e.Sender == self {
				setRole(proto.RoleOwner, e.Seq)
				setState(proto.StateJoined, e.Seq)
			}
		case proto.KindName:
			r.Name, r.known.name = e.Value, e.Seq
		case proto.KindTopic:
			r.Topic, r.known.topic = e.Value, e.Seq
		case proto.KindReceipts:
			r.receipts, r.known.receipts = e.Value, e.Seq
		case proto.KindJoin:
			if e.Sender == self {
				setState(proto.StateJoined, e.Seq)
				if e.Role != "" {
					setRole(e.Role, e.Seq)
				} else if r.Role == "" {
					setRole(proto.RoleMember, e.Seq)
				}
			}
		case proto.KindLeave:
			if e.Sender == self {
				setState(proto.StateNone, e.Seq)
				r.endedSeq = e.Seq
			}
		case proto.KindKick, proto.KindUnban:
			if e.Target == self {
				setState(proto.StateNone, e.Seq)
				if e.Kind == proto.KindKick {
					r.endedSeq = e.Seq
				}
			}
		case proto.KindBan:
			if e.Target == self {
				setState(proto.StateBanned, e.Seq)
				r.endedSeq = e.Seq
			}
		case proto.KindInvite:
			if e.Target == self && r.State != proto.StateJoined {
				setState(proto.StateInvited, e.Seq)
			}
		case proto.KindRole:
			if e.Target == self {
				setRole(e.Role, e.Seq)
			}
		}
	}
}

// subscribedLocked records a subscription's bounds. When the first readable
// seq lies past the cached run (history visible only from the user's join),
// the run restarts there.
func (s *Session) subscribedLocked(f *proto.Subscribed) {
	r, _ := s.subscriptionLocked(f.Room, f.LastSeq, f.FirstSeq)
	if err := s.store.SaveRoom(r); err != nil {
		s.q.push(ErrorEvent{err})
	}
}

// subscriptionLocked applies a subscription's head and first readable seq
// to room and returns it, and whether it changed (for the caller to save).
func (s *Session) subscriptionLocked(room string, head, first uint64) (Room, bool) {
	r, ok := s.roomLocked(room, proto.StateJoined)
	before := r.Room
	if head < r.Cursor {
		// The relay's log is shorter than our cache: its data was reset.
		// Its seqs now name other entries, so the run restarts at its head
		// (the rows above are overwritten as new entries arrive).
		s.q.push(ErrorEvent{fmt.Errorf("session: %s: the relay's log ends at %d but the cache holds %d: restarting the room's cache", room, head, r.Cursor)})
		r.Cursor, r.Low, r.Head = head, head+1, head
		r.known = known{} // seqs of the old log: a list of the new one is newer
	}
	r.Head = max(r.Head, head)
	if first > r.Cursor+1 {
		r.Cursor, r.Low = first-1, first
	}
	return r.Room, !ok || r.Room != before
}
