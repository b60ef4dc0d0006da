package history

import (
	"errors"
	"fmt"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// The local history cache (session.Store) as source of exports and target
// of imports, through its exported API only.

const storePage = 2048

// ItemFromEntry converts a cached entry; ok is false for room operations
// the timeline has no counterpart for (history and join policy).
func ItemFromEntry(e *session.Entry) (Item, bool) {
	it := Item{Seq: e.Seq, Time: e.Time.UnixMilli(), Sender: e.Sender}
	if e.IsMessage() {
		it.ID, it.Raw = e.ID, e.Raw
		return it, true
	}
	ev, ok := e.TimelineEvent()
	if !ok {
		return it, false
	}
	it.Event = &ev
	return it, true
}

// EntryFromItem is the inverse of ItemFromEntry for room (seq given).
func EntryFromItem(room string, seq uint64, it *Item) session.Entry {
	e := session.Entry{Room: room, Seq: seq, Time: time.UnixMilli(it.Time).UTC(), Sender: it.Sender}
	if ev := it.Event; ev != nil {
		op, _ := session.OpKind(ev.Kind)
		e.Kind, e.Sender, e.Target, e.Role, e.Value = op, ev.Actor, ev.Target, session.ProtoRole(ev.Role), ev.Text
		if ev.Kind == content.EventJoin && ev.Actor != ev.Target {
			// Joined by another member: the closest hub operation is an invite
			// accepted at once; the timeline shows a join either way.
			e.Kind, e.Sender = proto.KindJoin, ev.Target
		}
		return e
	}
	env := it.Envelope()
	e.Kind, e.ID, e.Raw = proto.KindMessage, it.ID, env.Raw
	return e
}

// ScanStore calls fn for every cached item of room in hub order, one page
// of the cache in memory at a time.
func ScanStore(st *session.Store, room string, fn func(*Item) error) error {
	var after uint64
	for {
		page, err := st.After(room, after, storePage)
		if err != nil {
			return err
		}
		for i := range page {
			if it, ok := ItemFromEntry(&page[i]); ok {
				if err := fn(&it); err != nil {
					return err
				}
			}
			after = page[i].Seq
		}
		if len(page) < storePage {
			return nil
		}
	}
}

// ImportResult says what an import into the cache did.
type ImportResult struct {
	Room       string
	Added      []session.Entry // committed, oldest first
	Imported   int             // entries written (Added holds them, except for a streamed import)
	Duplicates int             // already cached (same message ID)
	NewRoom    bool            // the room was not cached: a local room was made
}

// ErrNoRoomBelow is returned when the cached run has no sequence numbers
// left below it for the imported entries.
var ErrNoRoomBelow = errors.New("history: the cached run starts too low to take the imported entries below it")

// ImportIntoStore merges items into room's cache in one transaction, so a
// failed import changes nothing. Messages the cache already has (by ID) are
// skipped. Into a cached room, the new entries go below its run (they are
// history older than what the cache holds), numbered Low-n..Low-1 in file
// order; a room not cached becomes a local room numbered from 1.
func ImportIntoStore(st *session.Store, h *History, items []Item, room string) (*ImportResult, error) {
	if room == "" {
		room = h.Room.ID
	}
	res := &ImportResult{Room: room}
	cached, ok, err := st.Room(room)
	if err != nil {
		return res, err
	}
	seen := map[content.MessageID]bool{}
	events := map[content.RoomEvent]bool{} // cached room events, by value without seq
	if ok {
		err := ScanStore(st, room, func(it *Item) error {
			if it.Event != nil {
				events[eventKey(it.Event)] = true
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	var keep []*Item
	for i := range items {
		it := &items[i]
		if it.Event == nil {
			if seen[it.ID] {
				res.Duplicates++
				continue
			}
			seen[it.ID] = true
			if ok {
				if _, dup, err := st.EntryByID(room, it.ID); err != nil {
					return res, err
				} else if dup {
					res.Duplicates++
					continue
				}
			}
		} else if k := eventKey(it.Event); events[k] {
			res.Duplicates++ // the cached run has this hub operation
			continue
		} else {
			events[k] = true
		}
		keep = append(keep, it)
	}
	if len(keep) == 0 {
		return res, nil
	}
	entries := make([]session.Entry, len(keep))
	if !ok {
		res.NewRoom = true
		for i, it := range keep {
			entries[i] = EntryFromItem(room, uint64(i+1), it)
		}
		r := session.Room{ID: room, Name: h.Room.Name, Topic: h.Room.Subject, State: proto.StateNone}
		if _, err := st.Commit(r, entries); err != nil {
			return res, fmt.Errorf("history: import into %s: %w", room, err)
		}
		res.Added, res.Imported = entries, len(entries)
		return res, nil
	}
	n := uint64(len(keep))
	if cached.Low <= n {
		return res, fmt.Errorf("%w: %d entries, %d free below seq %d", ErrNoRoomBelow, n, cached.Low-1, cached.Low)
	}
	first := cached.Low - n
	for i, it := range keep {
		entries[i] = EntryFromItem(room, first+uint64(i), it)
	}
	if _, err := st.CommitOlder(room, entries); err != nil {
		return res, fmt.Errorf("history: import into %s: %w", room, err)
	}
	res.Added, res.Imported = entries, len(entries)
	return res, nil
}

// eventKey identifies a room event across renumbering and formats: who did
// what to whom, and when (the hub's millisecond). Role and text are left out:
// vCon and CPIM do not carry every role (the creator's owner role, an
// invite's role), and two different operations by the same member on the
// same target in the same millisecond do not happen. The cache maps a join
// by another member to a self join, so the key does too.
func eventKey(ev *content.RoomEvent) content.RoomEvent {
	k := content.RoomEvent{Kind: ev.Kind, Actor: ev.Actor, Target: ev.Target, HubTime: ev.HubTime}
	if k.Kind == content.EventJoin {
		k.Actor = k.Target
	}
	return k
}
