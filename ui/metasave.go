package ui

// Saving UI state to the cache's meta table (room order, notification
// levels, declined invitations) from tea.Cmds. Update does no I/O, so each
// change returns a command that writes the whole value; Bubble Tea runs
// commands in goroutines, so two saves in flight can finish in either
// order. Each save carries a generation number and one that finds a newer
// generation already written does nothing: the newest value wins, never
// an older one that happened to finish last. SaveOnExit writes what a
// command had no time to write before the program stopped.

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	tea "charm.land/bubbletea/v2"

	"mimichat/session"
)

// metaSaver writes one meta key, newest value first. gen and last belong
// to Update (and to SaveOnExit, once the program has returned); saved is
// shared with the save commands, under mu.
type metaSaver struct {
	key  string // the meta key
	what string // what the value is, for a failure's notice
	gen  int    // generation of the newest value asked for
	last string // the newest value asked for

	mu    sync.Mutex
	saved int // generation of the value on disk
}

func newMetaSaver(key, what string) *metaSaver { return &metaSaver{key: key, what: what} }

// save returns the command writing v to st. Call it from Update only.
func (sv *metaSaver) save(st *session.Store, v string) tea.Cmd {
	sv.gen++
	sv.last = v
	gen := sv.gen
	return func() tea.Msg {
		sv.mu.Lock()
		defer sv.mu.Unlock()
		if gen <= sv.saved { // a newer value is on disk already
			return nil
		}
		if err := st.SetMeta(sv.key, v); err != nil {
			return refusalMsg(sv.what + " not saved: " + err.Error())
		}
		sv.saved = gen
		return nil
	}
}

// flush writes the newest value when no command wrote it (SaveOnExit).
func (sv *metaSaver) flush(st *session.Store) error {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.saved >= sv.gen {
		return nil
	}
	if err := st.SetMeta(sv.key, sv.last); err != nil {
		return fmt.Errorf("ui: save the %s: %w", sv.what, err)
	}
	sv.saved = sv.gen
	return nil
}

// SaveOnExit writes the UI state that a save command may not have written
// when the program stopped: Bubble Tea does not wait for the commands in
// flight, so a quit right after a change lost it (a decline, a room's new
// place, a notification level, the read position). Call it once the
// program has returned (it does I/O, so never from Update).
func (m *Model) SaveOnExit() error {
	m.saveRoomOrder() // a change not yet asked to be saved becomes the newest value
	m.saveDeclined()
	st := m.s.Store()
	var errs []error
	for _, sv := range []*metaSaver{m.orderSave, m.levelSave, m.declinedSave} {
		errs = append(errs, sv.flush(st))
	}
	// read marks only move forward on disk (SaveReadMark keeps the higher
	// seq), so writing the newest ones again is harmless
	rooms := make([]string, 0, len(m.readAsked))
	for room := range m.readAsked {
		rooms = append(rooms, room)
	}
	sort.Strings(rooms)
	for _, room := range rooms {
		mk := m.readAsked[room]
		if err := st.SaveReadMark(room, mk.Seq, mk.At); err != nil {
			errs = append(errs, fmt.Errorf("ui: save the read position: %w", err))
		}
	}
	return errors.Join(errs...)
}
