package cache

import (
	"fmt"

	"mimichat/history"
	"mimichat/session"
)

// A history's room description, avatar and mood and its members' display
// names, roles and thumbprints have no place among the cache's entries (the
// relay's operations do not carry them): they go to the store's room
// profile (session.RoomProfile, MemberProfile), merged into what earlier
// imports left, and come back for the UI and for exports (Room).

// profileOf converts a history's room and members to the store's profile.
func profileOf(h *history.History) (session.RoomProfile, []session.MemberProfile) {
	var p session.RoomProfile
	if h == nil {
		return p, nil
	}
	p.Avatar, p.Mood = h.Room.Avatar, h.Room.Mood
	for _, d := range h.Room.Description {
		p.Description = append(p.Description, session.RoomDescription{Type: d.Type, Lang: d.Lang, Content: d.Content})
	}
	ms := make([]session.MemberProfile, 0, len(h.Members))
	for _, m := range h.Members {
		if m.URI == "" || m.URI == h.Room.ID {
			continue
		}
		ms = append(ms, session.MemberProfile{User: m.URI, Name: m.Name, Role: m.Role, Thumbprints: m.Thumbprints})
	}
	return p, ms
}

// Room is a cached room as an export names it: its name and topic, the
// profile imports left (description, avatar, mood), and the members they
// named (display names, roles, thumbprints) for history.ExportOptions.Members.
// ok is false when the room is not cached.
func Room(st *session.Store, id string) (room history.Room, members []history.Member, ok bool, err error) {
	r, ok, err := st.Room(id)
	if err != nil || !ok {
		return history.Room{ID: id}, nil, ok, err
	}
	p, ms, err := st.Profile(id)
	if err != nil {
		return history.Room{ID: id}, nil, ok, err
	}
	room = history.Room{ID: id, Name: r.Name, Subject: r.Topic, Avatar: p.Avatar, Mood: p.Mood}
	for _, d := range p.Description {
		room.Description = append(room.Description, history.Description{Type: d.Type, Lang: d.Lang, Content: d.Content})
	}
	for _, m := range ms {
		members = append(members, history.Member{URI: m.User, Name: m.Name, Role: m.Role, Thumbprints: m.Thumbprints})
	}
	return room, members, true, nil
}

// saveProfile merges h's profile into room's outside an import transaction
// (Import commits its entries with the session's own calls; the profile
// follows in a second transaction, and an error says the entries are in).
func saveProfile(st *session.Store, room string, h *history.History) error {
	p, ms := profileOf(h)
	if err := st.SaveProfile(room, p, ms); err != nil {
		return fmt.Errorf("history cache: %s imported, its profile not: %w", room, err)
	}
	return nil
}
