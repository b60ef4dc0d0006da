package ui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"

	"mimichat/content"
	"mimichat/keys"
)

type tickMsg time.Time

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// noticeMsg shows a line in the status bar (results of background work).
type noticeMsg string

// refusalMsg is a notice that something was refused or failed: it reads
// as an error and is shown whole (wrapped above the composer when long).
type refusalMsg string

// Update handles one message, then composes the frame from the new state
// (Bubble Tea calls View after every Update): the layout a click is
// matched against is the one on screen, and View has nothing left to
// compute or change. The clock is read here too, so a frame is a function
// of the model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.handle(msg)
	cmd = tea.Batch(cmd, m.loadCurrent()) // a room opened is built from the cache
	m.frame = m.render()
	cmd = tea.Batch(cmd, m.afterFrame(), m.prefetchAbove()) // ui/prefetch.go
	if m.opt.OnFrame != nil {
		m.opt.OnFrame(m.frame)
	}
	return m, cmd
}

// handle changes the model for one message.
func (m *Model) handle(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		return m, nil
	case tea.FocusMsg:
		m.blurred = false
		return m, m.markSeen()
	case tea.BlurMsg:
		m.blurred = true
		return m, nil
	case tea.BackgroundColorMsg:
		m.setDark(msg.IsDark())
		return m, nil
	case eventsMsg:
		cmd := m.handleEvents(msg)
		return m, tea.Batch(cmd, m.markSeen())
	case membersMsg:
		m.onMembers(msg)
		return m, m.loadProfile(msg.room) // the member list changed: what the history said of them may too
	case roomLoadedMsg:
		return m, m.onRoomLoaded(msg)
	case summariesMsg:
		m.onSummaries(msg)
		return m, nil
	case profileMsg:
		m.onProfile(msg)
		return m, nil
	case historyMsg:
		return m, m.onHistory(msg)
	case storedMsg:
		m.onStored(msg)
		return m, nil
	case startMsg:
		return m, m.start()
	case tickMsg:
		m.onTick()
		return m, tea.Batch(tick(), m.markSeen(), m.refreshProfile())
	case noticeMsg:
		m.setNotice(string(msg))
		m.showJoined()
		return m, nil
	case refusalMsg:
		m.setRefusal(string(msg))
		return m, nil
	case prefetchMsg:
		return m, m.onPrefetch(msg)
	case declinedMsg:
		m.onDeclined(msg)
		return m, m.saveDeclined()
	case pathCompMsg:
		m.onPathComp(msg)
		return m, nil
	case verifyMsg:
		m.onVerify(msg)
		return m, nil
	case sealedMsg:
		return m, m.onSealed(msg)
	case funcMsg:
		return m, msg(m)
	case imageMsg, sixelDrawMsg, uv.KittyGraphicsEvent, uv.PrimaryDeviceAttributesEvent, uv.CellSizeEvent:
		return m, m.onImageMsg(msg)
	case editorFileMsg:
		return m, m.runEditor(msg)
	case editorMsg:
		m.onEditor(msg)
		return m, nil
	case opMsg:
		if msg.err != nil {
			m.setRefusal(msg.what + ": " + msg.err.Error())
		} else if msg.what != "" {
			m.setNotice(msg.what)
		}
		return m, nil
	case tea.PasteMsg:
		if m.ov != nil {
			var cmd tea.Cmd
			m.ov, cmd = m.ov.Update(msg)
			return m, cmd
		}
		m.focusComposer()
		cmd := m.comp.update(msg)
		return m, cmd
	case tea.MouseWheelMsg, tea.MouseClickMsg:
		cmd := m.onMouse(msg.(tea.MouseMsg))
		return m, tea.Batch(cmd, m.markSeen())
	case tea.KeyPressMsg:
		wasOpen := m.comp.comp.kind != 0
		cmd := m.onKey(msg)
		if !wasOpen && m.comp.comp.kind != 0 {
			// a list the key opened starts at its first item, not where the
			// last list was left (enter then took an item never chosen)
			m.comp.comp.sel = 0
		}
		return m, tea.Batch(cmd, m.markSeen())
	}
	return m, nil
}

func (m *Model) onTick() {
	now := m.now()
	for _, r := range m.rooms {
		r.tl.Expire(now.UnixMilli())
		for u, till := range r.typing {
			if now.After(till) {
				delete(r.typing, u)
			}
		}
	}
	if m.notice != "" && now.After(m.noticeTill) {
		m.notice = ""
	}
	if m.banner != "" && now.After(m.bannerTill) {
		m.banner = ""
	}
}

// markSeen moves the read marker of the room on screen to the newest row
// when the user is looking at the bottom, and sends read receipts.
func (m *Model) markSeen() tea.Cmd {
	r := m.current()
	if r == nil || m.blurred || r.tl.Len() == 0 || (r.bottom >= 0 && r.bottom < r.mainLen()-1) || r.thread != "" {
		return nil
	}
	var save tea.Cmd
	if r.last > r.readSeq {
		// everything applied has been on screen: the position survives a restart
		r.readSeq = r.last
		save = m.saveReadMark(r.id, r.last, m.now())
	}
	if r.tl.Unread() == 0 {
		return save
	}
	var read []content.StatusEntry
	var newest content.MessageID
	marker := r.tl.ReadMarker()
	r.tl.Read(func(v content.View) {
		// every row after the read marker, newest first: an unread one can
		// sit under rows that are not (a message deleted or expired since,
		// the user's own); stopping at those left it unread for good
		for i := v.Len() - 1; i >= 0 && len(read) < 32; i-- {
			it := v.At(i)
			if it.Seq <= marker {
				break
			}
			if !it.Unread {
				continue
			}
			if newest.IsZero() {
				newest = it.Current
			}
			if it.Sender != m.me && it.Kind != content.ItemEvent {
				read = append(read, content.StatusEntry{ID: it.Current, Status: content.StatusRead})
			}
		}
	})
	if newest.IsZero() {
		return save
	}
	_ = r.tl.MarkRead(newest, m.now().UnixMilli())
	if len(read) > 0 && !m.opt.NoReadReceipts && m.roomAllowsReadReceipts(r) {
		return tea.Batch(save, m.sendReport(r, read))
	}
	return save
}

func (m *Model) onKey(k tea.KeyPressMsg) tea.Cmd {
	ks := k.String()
	if m.ov != nil {
		if a, _ := m.km.Action(m.ov.Context(), ks); a == keys.Quit {
			return m.quit()
		}
		var cmd tea.Cmd
		m.ov, cmd = m.ov.Update(k)
		return cmd
	}
	ctx := m.keyContext()
	a, ok := m.km.Action(ctx, ks)
	if ok && ctx == keys.Completion {
		if cmd, handled := m.completionKey(a); handled {
			return cmd
		}
	}
	if ok {
		if cmd, handled := m.act(ctx, a); handled {
			return cmd
		}
	}
	if (ctx == keys.Timeline || ctx == keys.Thread || ctx == keys.Rooms) && printable(k) {
		// typing while selecting: the text is meant for the composer, so an
		// unbound printable key leaves selection mode and goes there
		m.focusComposer()
		ctx = keys.Composer
	}
	if ctx == keys.Composer || ctx == keys.Completion {
		cmd := m.comp.update(k)
		m.refreshCompletion()
		return tea.Batch(cmd, m.typing())
	}
	return nil
}

// printable reports whether k types text (no ctrl, alt or super).
func printable(k tea.KeyPressMsg) bool {
	return k.Text != "" && k.Mod&^(tea.ModShift|tea.ModCapsLock|tea.ModNumLock) == 0
}

// keyContext is where keys go when no dialog is open: the focus, the thread
// pane when the timeline focus is in an open thread, the completion list
// when it is open over the composer.
func (m *Model) keyContext() keys.Context {
	switch r := m.current(); {
	case m.focus == keys.Timeline && r != nil && r.thread != "":
		return keys.Thread
	case m.focus == keys.Composer && m.comp.comp.kind != 0:
		return keys.Completion
	}
	return m.focus
}

// completionKey runs a completion-list action; handled=false lets the key
// act as in the composer.
func (m *Model) completionKey(a keys.Action) (tea.Cmd, bool) {
	c := &m.comp.comp
	switch a {
	case keys.SelectNext:
		if len(c.items) == 1 { // nothing to choose between: take it
			return m.completionKey(keys.Accept)
		}
		c.sel = (c.sel + 1) % len(c.items)
	case keys.SelectPrev:
		c.sel = (c.sel + len(c.items) - 1) % len(c.items)
	case keys.Accept:
		if c.kind == '/' && strings.TrimSpace(c.items[c.sel].insert) == strings.TrimSpace(m.comp.value()) {
			m.comp.comp = completion{}
			return m.send(), true // the command is complete: run it
		}
		m.acceptCompletion()
		if strings.HasPrefix(m.comp.value(), "/") {
			m.refreshCompletion()
		}
	case keys.Cancel:
		m.comp.comp = completion{}
	default:
		return nil, false
	}
	return nil, true
}

// typing tells the room the user is typing, at most every 3 seconds.
func (m *Model) typing() tea.Cmd {
	r := m.current()
	if r == nil || !r.joined() || m.comp.value() == "" || strings.HasPrefix(m.comp.value(), "/") {
		return nil
	}
	if t, ok := m.typingSent[r.id]; ok && m.now().Sub(t) < 3*time.Second {
		return nil
	}
	m.typingSent[r.id] = m.now()
	_ = m.s.Typing(r.id, true)
	return nil
}

func (m *Model) focusComposer() {
	m.focus = keys.Composer
	if r := m.current(); r != nil {
		r.sel = -1
	}
	m.comp.focus()
}

func (m *Model) focusTimeline() {
	r := m.current()
	if r == nil {
		return
	}
	m.focus = keys.Timeline
	m.comp.blur()
	if r.thread != "" {
		if r.tsel < 0 {
			r.tsel = max(0, m.threadLen(r)-1) // the newest, as in the room's timeline
		}
		return
	}
	if r.sel < 0 {
		r.sel = r.rows() - 1
		if r.bottom >= 0 && r.bottom < r.sel {
			r.sel = r.bottom // scrolled up: the row at the pane's bottom
		}
		m.skipEvents(r, keys.SelectPrev)
		m.revealSel(r)
	}
}
