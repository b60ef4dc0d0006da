package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// tailCommand is `mimichat tail`.
func tailCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 0)
	room := fs.String("room", "", "room URI or local name (required)")
	since := fs.Int64("since", -1, "print events after seq N first (0: the whole log); default: only new events")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	count := fs.Int("count", 0, "exit after printing N events (0: run until interrupted or --timeout)")
	return func(c *call) error {
		if *room == "" {
			return fmt.Errorf("%w: --room is required", errUsage)
		}
		if err := noArgs(c); err != nil {
			return err
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		s, err := cf.connect(ctx)
		if err != nil {
			return err
		}
		defer s.Close()
		roomID, err := roomURI(*room, s.User())
		if err != nil {
			return err
		}
		p := &tailPrinter{w: c.out, json: *asJSON, left: *count}
		r, ok := s.Room(roomID)
		if !ok {
			return fmt.Errorf("room %s: not one of your rooms", roomID)
		}
		if *since >= 0 {
			p.last = uint64(*since)
			if err := p.backlog(ctx, s, roomID); err != nil {
				return err
			}
		} else {
			p.last = max(r.Cursor, r.Head) // the head when we subscribed: only what comes next
		}
		for !p.done() {
			select {
			case ev, ok := <-s.Events():
				if !ok {
					return session.ErrClosed
				}
				if e, ok := ev.(session.EntriesEvent); ok && e.Room == roomID {
					for i := range e.Entries {
						if err := p.print(&e.Entries[i]); err != nil {
							return err
						}
					}
				}
			case <-ctx.Done():
				if cf.timeout > 0 && ctx.Err() == context.DeadlineExceeded && *count == 0 {
					return nil // ran for the time asked
				}
				return ctx.Err()
			}
		}
		return nil
	}
}

// tailPrinter prints entries in seq order, each once.
type tailPrinter struct {
	w    io.Writer
	json bool
	last uint64 // highest seq printed
	left int    // entries still to print; 0 means no limit
	n    int
}

func (p *tailPrinter) done() bool { return p.left > 0 && p.n >= p.left }

// backlog prints the entries after p.last that are already known: from the
// cache, fetching older pages from the relay when the cache starts later.
func (p *tailPrinter) backlog(ctx context.Context, s *session.Session, room string) error {
	for range 10000 { // at most 5 million entries of scrollback
		r, _ := s.Room(room)
		if r.Low <= p.last+1 {
			break
		}
		page, more, err := s.History(ctx, room, r.Low, proto.MaxHistoryLimit)
		if err != nil {
			return err
		}
		if !more || len(page) == 0 {
			break
		}
	}
	for range 1 << 20 {
		page, err := s.Store().After(room, p.last, 500)
		if err != nil {
			return err
		}
		if len(page) == 0 || p.done() {
			return nil
		}
		for i := range page {
			if err := p.print(&page[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *tailPrinter) print(e *session.Entry) error {
	if e.Seq <= p.last || p.done() {
		return nil
	}
	p.last = e.Seq
	p.n++
	line := describe(e)
	if p.json {
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.w, "%s\n", b)
		return err
	}
	text := oneLine(line.Text)
	switch {
	case line.Error != "":
		text = "[undecodable: " + oneLine(line.Error) + "]"
	case line.Kind == "delete":
		text = "[deleted " + line.Replaces + "]"
	case line.Kind == "unreaction":
		text = "[reaction removed " + line.Replaces + "]"
	}
	_, err := fmt.Fprintf(p.w, "%d %s %s %s %s\n", line.Seq, line.Time, line.Sender, line.Kind, text)
	return err
}

// entryLine is one printed event; its JSON form is tail --json's line.
type entryLine struct {
	Room      string `json:"room"`
	Seq       uint64 `json:"seq"`
	Time      string `json:"time"`
	Sender    string `json:"sender"`
	Kind      string `json:"kind"`
	ID        string `json:"id,omitempty"`
	InReplyTo string `json:"in_reply_to,omitempty"`
	Replaces  string `json:"replaces,omitempty"`
	Text      string `json:"text"`
	Target    string `json:"target,omitempty"`
	Role      string `json:"role,omitempty"`
	Value     string `json:"value,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Error     string `json:"error,omitempty"`
}

// describe decodes an entry for printing. Messages get a finer kind
// (message, reply, reaction, edit, delete, knock); room operations a short
// sentence as text.
func describe(e *session.Entry) entryLine {
	l := entryLine{
		Room: e.Room, Seq: e.Seq, Time: e.Time.UTC().Format(time.RFC3339Nano), Sender: e.Sender, Kind: string(e.Kind),
		Target: e.Target, Role: string(e.Role), Value: e.Value, Reason: e.Reason,
	}
	if !e.IsMessage() {
		l.Text = opText(e)
		return l
	}
	l.ID = e.ID.String()
	m, err := content.Decode(e.Raw)
	if err != nil {
		l.Error = err.Error()
		return l
	}
	if m.InReplyTo != nil {
		l.InReplyTo = m.InReplyTo.String()
	}
	if m.Replaces != nil {
		l.Replaces = m.Replaces.String()
	}
	l.Text = content.PlainText(m)
	switch {
	case content.IsKnock(m):
		l.Kind = "knock"
	case m.Body.Disposition == content.Reaction:
		l.Kind = "reaction"
		if m.Body.Cardinality == content.NullPart {
			l.Kind = "unreaction"
		}
	case m.Replaces != nil && m.Body.Cardinality == content.NullPart:
		l.Kind = "delete"
	case m.Replaces != nil:
		l.Kind = "edit"
	case m.InReplyTo != nil:
		l.Kind = "reply"
	}
	return l
}

func opText(e *session.Entry) string {
	switch e.Kind {
	case proto.KindCreate:
		return "created the room"
	case proto.KindName, proto.KindTopic, proto.KindAvatar, proto.KindHistory, proto.KindJoinPolicy, proto.KindReceipts:
		return fmt.Sprintf("set %s to %q", e.Kind, e.Value)
	case proto.KindJoin:
		return "joined as " + string(e.Role)
	case proto.KindLeave:
		return "left"
	case proto.KindRole:
		return fmt.Sprintf("made %s %s", e.Target, e.Role)
	case proto.KindInvite, proto.KindKick, proto.KindBan, proto.KindUnban:
		s := fmt.Sprintf("%s %s", e.Kind, e.Target)
		if e.Reason != "" {
			s += ": " + e.Reason
		}
		return s
	}
	return string(e.Kind)
}

// oneLine keeps a multi-line text on one output line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`).Replace(s)
}
