package cache

import (
	"errors"
	"fmt"

	"mimichat/content"
	"mimichat/history"
	"mimichat/proto"
	"mimichat/session"
)

// ImportResult says what an import into the cache did.
type ImportResult struct {
	Room       string
	Added      []session.Entry // committed, oldest first
	Imported   int             // entries written (Added holds them, except for a streamed import)
	Duplicates int             // already cached (same message ID)
	NewRoom    bool            // the room was not cached: a local room was made
	// Counted: below a cached run, the file was counted ahead and its
	// entries written while it was read (session.ImportTx.ExpectBelow).
	Counted bool
}

// ErrNoRoomBelow is returned when the cached run has no sequence numbers
// left below it for the imported entries.
var ErrNoRoomBelow = errors.New("history cache: the cached run starts too low to take the imported entries below it")

// Import merges items into room's cache in one transaction, so a
// failed import changes nothing. Messages the cache already has (by ID) are
// skipped. Into a cached room, the new entries go below its run (they are
// history older than what the cache holds), numbered Low-n..Low-1 in file
// order; a room not cached becomes a local room numbered from 1.
func Import(st *session.Store, h *history.History, items []history.Item, room string) (*ImportResult, error) {
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
		err := Scan(st, room, func(it *history.Item) error {
			if it.Event != nil {
				events[eventKey(it.Event)] = true
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	var keep []*history.Item
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
		if ok {
			return res, saveProfile(st, room, h) // the names may be new
		}
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
			return res, fmt.Errorf("history cache: import into %s: %w", room, err)
		}
		res.Added, res.Imported = entries, len(entries)
		return res, saveProfile(st, room, h)
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
		return res, fmt.Errorf("history cache: import into %s: %w", room, err)
	}
	res.Added, res.Imported = entries, len(entries)
	return res, saveProfile(st, room, h)
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
