package relay

import (
	"fmt"

	"mimichat/proto"
)

// loadRooms reads every room's state from the database.
func (s *Store) loadRooms() (map[string]*room, error) {
	rooms := map[string]*room{}
	rows, err := s.w.Query(`SELECT uri, name, topic, avatar, history, join_policy, receipts FROM rooms`)
	if err != nil {
		return nil, fmt.Errorf("relay: load rooms: %w", err)
	}
	for rows.Next() {
		var uri string
		r := newRoom("")
		if err := rows.Scan(&uri, &r.name, &r.topic, &r.avatar, &r.history, &r.join, &r.receipt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("relay: load rooms: %w", err)
		}
		r.uri = uri
		rooms[uri] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("relay: load rooms: %w", err)
	}

	rows, err = s.w.Query(`SELECT room, user, role, state, join_seq FROM members`)
	if err != nil {
		return nil, fmt.Errorf("relay: load members: %w", err)
	}
	for rows.Next() {
		var uri, user string
		m := &member{}
		if err := rows.Scan(&uri, &user, &m.role, &m.state, &m.joinSeq); err != nil {
			rows.Close()
			return nil, fmt.Errorf("relay: load members: %w", err)
		}
		if r := rooms[uri]; r != nil {
			r.members[user] = m
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("relay: load members: %w", err)
	}

	rows, err = s.w.Query(`SELECT room, max(seq), max(ts) FROM events GROUP BY room`)
	if err != nil {
		return nil, fmt.Errorf("relay: load heads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uri string
		var head uint64
		var ts int64
		if err := rows.Scan(&uri, &head, &ts); err != nil {
			return nil, fmt.Errorf("relay: load heads: %w", err)
		}
		if r := rooms[uri]; r != nil {
			r.head, r.lastTS = head, ts
		}
	}
	return rooms, rows.Err()
}

// membersOf lists a room's members with a state other than none.
func (r *room) memberList() []proto.Member {
	out := make([]proto.Member, 0, len(r.members))
	for u, m := range r.members {
		if m.state != proto.StateNone {
			out = append(out, proto.Member{User: u, Role: m.role, State: m.state})
		}
	}
	return out
}
