package ui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// eventsMsg carries session events that were ready together, so a burst
// costs one frame.
type eventsMsg struct {
	evs    []session.Event
	closed bool
}

// waitEvents blocks (in its own goroutine) for the next event, then takes
// whatever else is already queued.
func waitEvents(ch <-chan session.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return eventsMsg{closed: true}
		}
		evs := []session.Event{ev}
		for len(evs) < 512 {
			select {
			case ev, ok := <-ch:
				if !ok {
					return eventsMsg{evs: evs, closed: true}
				}
				evs = append(evs, ev)
			default:
				return eventsMsg{evs: evs}
			}
		}
		return eventsMsg{evs: evs}
	}
}

type membersMsg struct {
	room  string
	state *proto.RoomState
	err   error
}

func (m *Model) fetchMembers(room string) tea.Cmd {
	s := m.s
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		for {
			st, err := s.RoomInfo(ctx, room)
			if err == nil || ctx.Err() != nil || !errors.Is(err, session.ErrOffline) {
				return membersMsg{room: room, state: st, err: err}
			}
			// offline: try again once connected (a refusal is not retried:
			// the relay counts refused requests against the connection)
			if werr := s.WaitOnline(ctx); werr != nil {
				return membersMsg{room: room, err: err}
			}
		}
	}
}

func (m *Model) handleEvents(msg eventsMsg) tea.Cmd {
	var cmds []tea.Cmd
	if !msg.closed {
		cmds = append(cmds, waitEvents(m.s.Events()))
	}
	for _, ev := range msg.evs {
		switch ev := ev.(type) {
		case session.EntriesEvent:
			cmds = append(cmds, m.onEntries(ev))
		case session.OutboxEvent:
			m.onOutbox(ev.Item)
		case session.StateEvent:
			m.conn = ev.Status
			if ev.State == session.Online {
				for _, r := range m.rooms {
					if r.joined() && r.lazy.loaded { // a room not loaded announces itself when it is
						_ = m.s.Presence(r.id, "online")
						if !r.membersLoaded {
							// the fetch at start gave up while offline
							cmds = append(cmds, m.fetchMembers(r.id))
						}
					}
				}
			}
		case session.RoomEvent:
			if m.keepDeclined(ev.Room) {
				continue
			}
			_, known := m.byID[ev.Room.ID]
			r := m.addRoom(ev.Room)
			m.showJoined()
			if !known {
				r.low = ev.Room.Cursor + 1
				cmds = append(cmds, m.fetchMembers(r.id))
			}
		case session.SignalEvent:
			m.onSignal(ev)
		case session.ErrorEvent:
			m.setNotice("error: " + ev.Err.Error())
		}
	}
	cmds = append(cmds, m.saveRoomOrder(), m.saveDeclined())
	return tea.Batch(cmds...)
}

func (m *Model) onSignal(ev session.SignalEvent) {
	r, ok := m.byID[ev.Room]
	if !ok || ev.From == m.me {
		return
	}
	switch ev.Kind {
	case proto.SignalTyping:
		if ev.Value == "start" {
			r.typing[ev.From] = m.now().Add(6 * time.Second)
		} else {
			delete(r.typing, ev.From)
		}
	case proto.SignalPresence:
		was := r.presence[ev.From]
		r.presence[ev.From] = ev.Value
		if ev.Value == "online" && was != "online" && r.joined() && m.conn.State == session.Online {
			// someone came online after us: they did not hear our presence
			_ = m.s.Presence(r.id, "online")
		}
	}
}

// onEntries applies new entries, sends delivery receipts for others'
// messages, and notifies on mentions and knocks.
func (m *Model) onEntries(ev session.EntriesEvent) tea.Cmd {
	r, ok := m.byID[ev.Room]
	if !ok {
		info, _ := m.s.Room(ev.Room)
		info.ID = ev.Room
		r = m.addRoom(info)
	}
	var applied []session.Entry
	tl := r.tl
	if r.lazy.loaded {
		applied = r.applyEntries(ev.Entries, m.me)
		r.dropPending()
	} else {
		// Counted into the room's summary through a throwaway timeline,
		// which also answers the per-message questions below.
		applied = m.lazyEntries(r, ev.Entries)
		tl = newTimeline(m.me, r.hl)
		for _, e := range applied {
			applyEntry(tl, e)
		}
		r.lazy.unread += tl.Unread()
		r.lazy.mentions += tl.Mentions()
	}
	r.crypto = m.s.Crypto(r.id) // memory only: epochs move with the entries
	var delivered content.StatusReport
	var cmds []tea.Cmd
	refreshMembers := false
	for _, e := range applied {
		if !e.IsMessage() {
			delete(r.typing, e.Sender)
			refreshMembers = true
			m.onMembership(r, e)
			continue
		}
		if r.lazy.loaded {
			r.tl.Read(func(v content.View) { r.main.noteChange(v, e.ID) })
		}
		if e.Sender == m.me {
			continue
		}
		delete(r.typing, e.Sender)
		it, ok := tl.Get(e.ID)
		if !ok || it.Current != e.ID || it.Seq != e.Seq {
			continue // a reaction, edit, receipt or held item
		}
		delivered = append(delivered, content.StatusEntry{ID: e.ID, Status: content.StatusDelivered})
		switch {
		case it.Kind == content.ItemKnock:
			r.knocks++
			m.banner = m.name(e.Sender) + " knocked in " + r.title()
			m.bannerTill = m.now().Add(10 * time.Second)
			m.flashUntil = m.now().Add(600 * time.Millisecond)
			if m.alerts(r, true) {
				cmds = append(cmds, m.notify("Knock", m.banner))
			}
		case it.Mention:
			cmds = append(cmds, m.loadRoom(r)) // a room not built is built for its mention
			if m.alerts(r, true) {
				cmds = append(cmds, m.notify(m.name(e.Sender)+" mentioned you", r.title()))
			}
		case m.alerts(r, false) && (r != m.current() || m.blurred):
			cmds = append(cmds, m.notify(m.name(e.Sender)+" in "+r.title(), previewOf(&it.Body, m.opt.Languages)))
		}
	}
	if len(delivered) > 64 {
		delivered = delivered[len(delivered)-64:]
	}
	if len(delivered) > 0 {
		cmds = append(cmds, m.sendReport(r, delivered))
	}
	if refreshMembers {
		cmds = append(cmds, m.fetchMembers(r.id))
		if info, ok := m.s.Room(r.id); ok {
			var last uint64
			for _, e := range applied {
				last = max(last, e.Seq)
			}
			r.setInfo(info, last)
		}
	}
	return tea.Batch(cmds...)
}

// showJoined switches to the room /join asked for once it is listed and
// joined.
func (m *Model) showJoined() {
	r, ok := m.byID[m.joining]
	if !ok || r.info.State == proto.StateInvited {
		return
	}
	m.joining = ""
	for i, rr := range m.rooms {
		if rr == r {
			m.switchRoom(i)
		}
	}
}

// onMembership keeps the member list and the user's own standing current
// from a membership entry: the list changes at once (a removed member
// leaves it, a new one joins it), and when the user is removed, the
// composer gives way to why.
func (m *Model) onMembership(r *room, e session.Entry) {
	r.noteMembership(e)
	switch e.Kind {
	case proto.KindKick, proto.KindBan:
		if e.Target != m.me {
			return
		}
		verb := " removed you"
		if e.Kind == proto.KindBan {
			verb = " banned you"
		}
		r.removed = m.name(e.Sender) + verb + " from " + r.title() + reasonSuffix(e.Reason)
		r.sel, r.thread = -1, ""
		m.setRefusal(r.removed)
	case proto.KindJoin:
		if e.Sender == m.me {
			r.removed = ""
			if m.conn.State == session.Online {
				_ = m.s.Presence(r.id, "online") // the members did not hear it at connect
			}
		}
	}
}

func (m *Model) onOutbox(it session.OutboxItem) {
	r, ok := m.byID[it.Room]
	if !ok {
		return
	}
	r.pendingVer++
	for _, p := range r.pending {
		if p.item.ID == it.ID {
			p.item = it
			r.dropPending()
			return
		}
	}
	if it.State == session.Acked {
		return
	}
	if _, in := r.tl.Index(it.ID); in {
		return
	}
	msg, err := content.Decode(it.Raw)
	if err != nil || !pendingVisible(msg) {
		return
	}
	r.pending = append(r.pending, &pendingMsg{item: it, msg: msg})
}

// loadOutbox shows the messages still pending from an earlier run.
func (m *Model) loadOutbox() {
	items, err := m.s.Outbox()
	if err != nil {
		return
	}
	for _, it := range items {
		if it.State != session.Acked {
			m.onOutbox(it)
		}
	}
}

func (m *Model) onMembers(msg membersMsg) {
	r, ok := m.byID[msg.room]
	if !ok || msg.err != nil || msg.state == nil {
		return
	}
	// Like name and topic below, the members are the room as of the
	// answer's head; entries applied past it are replayed onto them.
	r.takeMembers(msg.state.Members, msg.state.LastSeq)
	// The answer is the room as of its head; it can arrive after entries
	// past that head were applied (the request runs beside the events), and
	// then its name and topic are older than the ones shown.
	if msg.state.LastSeq >= r.infoSeq {
		r.info.Name, r.info.Topic = msg.state.Name, msg.state.Topic
		r.infoSeq = msg.state.LastSeq
	}
}
