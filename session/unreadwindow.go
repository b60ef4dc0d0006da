package session

import "fmt"

// Reading what a room list needs of every room at once, for a client that
// builds a room's timeline only when the room is opened: a user in
// thousands of rooms would otherwise pay one query, and one timeline, per
// room at start-up.

// unreadWindowWhere selects, per room, the cached messages after its read
// mark within the newest window entries of its cached run.
const unreadWindowWhere = `FROM entries e JOIN rooms r ON r.room = e.room LEFT JOIN read_marks m ON m.room = e.room
	WHERE e.kind = 'message' AND e.seq >= r.low AND e.seq > COALESCE(m.seq, 0) AND e.seq > r.cursor - ?`

// CountUnreadWindow returns how many entries UnreadWindow would read: the
// cached messages after each room's read mark among its newest window
// entries, over all rooms.
func (s *Store) CountUnreadWindow(window int) (int, error) {
	if _, err := s.db.Exec(readMarksTable); err != nil {
		return 0, fmt.Errorf("session: unread window: %w", err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) `+unreadWindowWhere, window).Scan(&n); err != nil {
		return 0, fmt.Errorf("session: unread window: %w", err)
	}
	return n, nil
}

// UnreadWindow reads, in one query, every room's cached messages after its
// read mark among its newest window entries, and calls fn once per room
// that has any, in seq order. Only one room's entries are held at a time.
func (s *Store) UnreadWindow(window int, fn func(room string, es []Entry)) error {
	if _, err := s.db.Exec(readMarksTable); err != nil {
		return fmt.Errorf("session: unread window: %w", err)
	}
	var room []Entry
	err := s.queryEach(`SELECT `+entryCols+` `+unreadWindowWhere+` ORDER BY e.room, e.seq`, func(e Entry) {
		if len(room) > 0 && room[0].Room != e.Room {
			fn(room[0].Room, room)
			room = nil
		}
		room = append(room, e)
	}, window)
	if err != nil {
		return err
	}
	if len(room) > 0 {
		fn(room[0].Room, room)
	}
	return nil
}
