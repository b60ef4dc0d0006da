package relay

import (
	"context"
	"sort"
	"time"

	"mimichat/relay/store"
)

// A safety net under the announcements: core NATS may drop one, and a gap
// is only noticed when a later announcement of the room arrives, so a lost
// last event of a burst (a commit at a failover, say) stayed unseen by this
// node's subscribers until the room's next event. Every pollInterval the
// node reads the log's head of up to pollRoomsPerTick rooms its clients
// follow (round robin, outside the writer) and asks the writer to catch up
// with a room whose head moved since it last looked.
const (
	pollInterval     = 2 * time.Second
	pollRoomsPerTick = 64
)

func (l *clusterLink) poll(db store.Store) {
	defer close(l.pollDone)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	seen := map[string]uint64{}
	next := 0
	for {
		select {
		case <-l.stopPoll:
			return
		case <-t.C:
		}
		l.mu.Lock()
		rooms := make([]string, 0, len(l.follows))
		for r := range l.follows {
			rooms = append(rooms, r)
		}
		l.mu.Unlock()
		if len(rooms) == 0 {
			continue
		}
		sort.Strings(rooms)
		moved := false
		for i := 0; i < min(len(rooms), pollRoomsPerTick); i++ {
			uri := rooms[(next+i)%len(rooms)]
			ctx, cancel := context.WithTimeout(context.Background(), pollInterval)
			st, err := db.Head(ctx, uri)
			cancel()
			if err != nil {
				continue // an election, or the room is new: the next tick
			}
			if prev, ok := seen[uri]; !ok || st.Seq > prev {
				seen[uri] = st.Seq
				l.mu.Lock()
				l.rooms[uri] = true
				l.mu.Unlock()
				moved = true
			}
		}
		next = (next + pollRoomsPerTick) % len(rooms)
		if moved {
			l.kick()
		}
	}
}
