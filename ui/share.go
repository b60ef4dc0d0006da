package ui

// Sharing history inside a room (issue 6; draft-ietf-vcon-mimi-messages-00
// §1): /share-history sends the room's history this client holds as a vCon
// attachment for one member (a moderator catching up a new member) or for
// the user's own devices ("me"); the client it is for shows an offer line and
// /import-history merges it into the cache and the timeline, skipping what
// is already there. Others in the room see a quiet line, not an attachment.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/history"
	"mimichat/history/cache"
	"mimichat/proto"
	"mimichat/render"
)

var historyCommands = []*command{
	{name: "share-history", args: "[since TIME] USER|me", target: targetRoom,
		help: "send this room's history (from TIME: 7d, 24h, 2026-11-01) to a member (moderators) or to your new device (me)",
		run:  func(m *Model, c *call) tea.Cmd { return m.shareHistory(c.r, c.arg) }},
	{name: "import-history", target: targetRoom,
		help: "merge the history shared with you here (the selected offer, or the newest)",
		run:  func(m *Model, c *call) tea.Cmd { return m.importHistory(c.r, c.arg) }},
}

// funcMsg carries the end of background work back into Update.
type funcMsg func(m *Model) tea.Cmd

// shareArgs parses "[since TIME] USER|me".
func (m *Model) shareArgs(r *room, arg string) (forUser string, since time.Time, ok bool) {
	const usage = "usage: /share-history [since TIME] USER|me"
	fields := strings.Fields(arg)
	for i := 0; i < len(fields); i++ {
		switch f := fields[i]; {
		case strings.EqualFold(f, "since"):
			if i+1 == len(fields) {
				m.setNotice(usage)
				return "", time.Time{}, false
			}
			t, err := parseSince(fields[i+1], m.now())
			if err != nil {
				m.setNotice("/share-history: " + err.Error())
				return "", time.Time{}, false
			}
			since, i = t, i+1
		case strings.EqualFold(f, "me"), strings.EqualFold(f, "myself"):
			forUser = m.me
		default:
			u, _, found := m.userArg(r, "share-history", f)
			if !found {
				return "", time.Time{}, false
			}
			forUser = u
		}
	}
	if forUser == "" {
		m.setNotice(usage)
		return "", time.Time{}, false
	}
	return forUser, since, true
}

// parseSince reads RFC 3339, a date (local midnight), or a duration back from
// now (90m, 24h, 7d).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("since %q: want a date (2026-11-01), RFC 3339, or a duration (24h, 7d)", s)
}

func (m *Model) shareHistory(r *room, arg string) tea.Cmd {
	forUser, since, ok := m.shareArgs(r, arg)
	if !ok {
		return nil
	}
	if forUser != m.me && r.info.Role != proto.RoleModerator && r.info.Role != proto.RoleOwner {
		m.setNotice("only moderators and owners share history with others; /share-history me sends it to your own devices")
		return nil
	}
	st, b, up := m.s.Store(), m.builder(r), m.opt.Upload
	hr := history.Room{ID: r.id, Name: r.info.Name, Subject: r.info.Topic}
	opts := history.ExportOptions{Now: m.now().UnixMilli()}
	if !since.IsZero() {
		opts.Since = since.UnixMilli()
	}
	var upload history.Upload
	if up != nil {
		upload = up
	}
	to := m.name(forUser)
	if forUser == m.me {
		to = "your devices"
	}
	m.setNotice("exporting this room's history for " + to + "…")
	room := r.id
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// The export's two passes read the cache once (the second reads a
		// spill in the data directory, private as the cache is).
		once := cache.NewOnceSource(st, room, filepath.Dir(st.Path()))
		defer once.Close()
		src := once.Source()
		// What imports told of the room and its members travels on.
		if pr, members, ok, err := cache.Room(st, room); err == nil && ok {
			hr.Avatar, hr.Mood, hr.Description = pr.Avatar, pr.Mood, pr.Description
			opts.Members = members
		}
		msg, rep, err := history.ShareOffer(ctx, b, hr, src, opts, forUser, proto.DefaultMaxContent, upload)
		if errors.Is(err, history.ErrOfferTooLarge) {
			err = fmt.Errorf("%w; no file store is configured to send it as an attachment: share a shorter period (since TIME)", err)
		}
		if err != nil {
			return noticeMsg("/share-history: " + err.Error())
		}
		return funcMsg(func(m *Model) tea.Cmd {
			r, ok := m.byID[room]
			if !ok {
				return nil
			}
			m.setNotice(fmt.Sprintf("shared %d messages with %s%s", rep.Messages, to, droppedSummary(rep)))
			return m.sendMsg(r, msg)
		})
	}
}

// droppedSummary says in one clause what the vCon could not carry.
func droppedSummary(rep *history.Report) string {
	if rep == nil || rep.Lossless() {
		return ""
	}
	n := 0
	for _, c := range rep.Dropped {
		n += c
	}
	return fmt.Sprintf(" (%d items not carried: %s)", n, strings.Join(sortedReasons(rep.Dropped), ", "))
}

func sortedReasons(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%d %s", v, k))
	}
	slices.Sort(out)
	return out
}

// offerFor finds the offer to import: the selected message when it is one
// for this user, else the newest such offer in the room.
func (m *Model) offerFor(r *room) (history.Offer, bool) {
	if _, it, ok := m.selected(); ok {
		if o, ok := history.OfferOfBody(&it.Body); ok && m.offerIsMine(o) && !it.Deleted {
			return o, true
		}
	}
	var found history.Offer
	ok := false
	r.tl.Read(func(v content.View) {
		for i := v.Len() - 1; i >= 0 && !ok; i-- {
			it := v.At(i)
			if it.Kind != content.ItemMessage || it.Deleted || it.Expired {
				continue
			}
			if o, isOffer := history.OfferOfBody(&it.Body); isOffer && m.offerIsMine(o) {
				found, ok = o, true
			}
		}
	})
	return found, ok
}

func (m *Model) offerIsMine(o history.Offer) bool { return o.For == "" || o.For == m.me }

func (m *Model) importHistory(r *room, _ string) tea.Cmd {
	o, ok := m.offerFor(r)
	if !ok {
		m.setNotice("no history has been shared with you in this room")
		return nil
	}
	st, client, now, me, room, last, hl := m.s.Store(), m.opt.HTTP, m.now(), m.me, r.id, r.last, r.hl
	m.setNotice("importing shared history…")
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := history.FetchOffer(ctx, client, &o, now); err != nil {
			return noticeMsg("/import-history: " + err.Error())
		}
		rep, res, err := cache.ImportOffer(st, o, room)
		if err != nil {
			return noticeMsg("/import-history: " + err.Error() + " (nothing changed)")
		}
		if len(res.Added) == 0 {
			return noticeMsg(fmt.Sprintf("nothing new: the %d shared entries were already here", res.Duplicates))
		}
		// The imported entries sit below the loaded run: execute the room
		// again from them, as scrollback does, and swap it in Update.
		low := res.Added[0].Seq
		tl := newTimeline(me, hl)
		top := low - 1
		for top < last {
			page, err := st.After(room, top, 2048)
			if err != nil {
				return noticeMsg("/import-history: imported, but reading the cache failed: " + err.Error())
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				applyEntry(tl, e)
				top = e.Seq
			}
		}
		done := fmt.Sprintf("imported %d entries of shared history (%d already here)%s",
			len(res.Added), res.Duplicates, droppedSummary(rep))
		return funcMsg(func(m *Model) tea.Cmd {
			m.setNotice(done)
			return m.onHistory(historyMsg{room: room, tl: tl, first: low, last: top, more: low > 1})
		})
	}
}

// offerRow turns a history offer into a quiet line: an offer for this user
// says how to import it; one for someone else only says it happened.
func (m *Model) offerRow(rm *render.Message, it content.Item) bool {
	if it.Deleted || it.Expired {
		return false
	}
	o, ok := history.OfferOfBody(&it.Body)
	if !ok {
		return false
	}
	who := m.name(it.Sender)
	if it.Sender == m.me {
		who = "You"
	}
	what := "history"
	if o.Messages >= 0 {
		what = fmt.Sprintf("%d messages of history", o.Messages)
	}
	if !o.Since.IsZero() {
		what += " since " + o.Since.Local().Format("2 Jan 2006 15:04")
	}
	switch {
	case o.For == m.me && it.Sender == m.me:
		rm.Text = "You shared " + what + " with your devices · /import-history on a new one merges it"
	case m.offerIsMine(o):
		rm.Text = who + " shared " + what + " with you · /import-history merges it"
	default:
		rm.Text = who + " shared " + what + " with " + m.name(o.For)
	}
	rm.Kind = render.RowEvent
	return true
}
