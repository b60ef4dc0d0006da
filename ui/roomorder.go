package ui

// Room numbers stay put: each room keeps the place it got when it was
// first listed (by name among the rooms of the first run, at the end for
// one that arrives later), across renames and restarts. The order is kept
// in the cache's meta table.

import (
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/session"
)

// roomOrderKey is the meta key of the saved order: room IDs, one a line.
const roomOrderKey = "ui.room_order"

// roomOrder is where each room goes in the list.
type roomOrder struct {
	pos   map[string]int
	next  int
	dirty bool // a room got a place not saved yet
}

// loadRoomOrder reads the saved order (none: every room is new).
func loadRoomOrder(st *session.Store) roomOrder {
	o := roomOrder{pos: map[string]int{}}
	v, _ := st.Meta(roomOrderKey)
	for _, id := range strings.Split(v, "\n") {
		if _, dup := o.pos[id]; id != "" && !dup {
			o.pos[id] = o.next
			o.next++
		}
	}
	return o
}

// place is room id's position, giving a new room the next one.
func (o *roomOrder) place(id string) int {
	if p, ok := o.pos[id]; ok {
		return p
	}
	o.pos[id] = o.next
	o.next++
	o.dirty = true
	return o.pos[id]
}

// sortStartRooms puts the rooms of a start in list order: saved ones where
// they were, new ones after them by name (so a first run lists by name).
func sortStartRooms(o *roomOrder, infos []session.Room) {
	title := func(info session.Room) string {
		if info.Name != "" {
			return strings.ToLower(info.Name)
		}
		return strings.ToLower(shortName(info.ID))
	}
	sort.SliceStable(infos, func(i, j int) bool {
		pi, iok := o.pos[infos[i].ID]
		pj, jok := o.pos[infos[j].ID]
		switch {
		case iok && jok:
			return pi < pj
		case iok != jok:
			return iok
		}
		return title(infos[i]) < title(infos[j])
	})
}

// saveRoomOrder writes the list's order when a room got a new place (a
// tea.Cmd: Update does no I/O; the newest order wins, ui/metasave.go).
func (m *Model) saveRoomOrder() tea.Cmd {
	if !m.order.dirty {
		return nil
	}
	m.order.dirty = false
	ids := make([]string, len(m.rooms))
	for i, r := range m.rooms {
		ids[i] = r.id
	}
	return m.orderSave.save(m.s.Store(), strings.Join(ids, "\n"))
}
