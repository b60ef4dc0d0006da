package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"mimichat/content"
	"mimichat/owner"
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
		h, r, err := cf.acquire(ctx, c, "tail")
		if err != nil {
			return err
		}
		defer h.Close()
		roomID, err := roomURI(*room, r.User)
		if err != nil {
			return err
		}
		p := &tailPrinter{w: c.out, json: *asJSON, left: *count}
		// The owner (this process or the one running) reads the room's
		// entries from its cache, which it alone writes: each once, in order,
		// from --since (fetching what the cache lacks) or from the head.
		err = h.Tail(ctx, roomID, *since, func(e session.Entry) error {
			if err := p.print(&e); err != nil {
				return err
			}
			if p.done() {
				return errTailDone
			}
			return nil
		})
		switch {
		case errors.Is(err, errTailDone):
			return nil
		case errors.Is(err, owner.ErrUnknownRoom):
			return fmt.Errorf("room %s: not one of your rooms", roomID)
		case errors.Is(err, context.DeadlineExceeded) && cf.timeout > 0 && *count == 0:
			// The owner ends a tail a little before the client's deadline.
			return nil // ran for the time asked
		}
		return err
	}
}

// errTailDone ends a tail that printed --count entries.
var errTailDone = errors.New("tail: printed the entries asked for")

// tailPrinter prints entries in seq order, each once.
type tailPrinter struct {
	w    *output
	json bool
	last uint64 // highest seq printed
	left int    // entries still to print; 0 means no limit
	n    int
}

func (p *tailPrinter) done() bool { return p.left > 0 && p.n >= p.left }

func (p *tailPrinter) print(e *session.Entry) error {
	if e.Seq <= p.last || p.done() {
		return nil
	}
	p.last = e.Seq
	p.n++
	line := describe(e)
	if p.json {
		return p.w.jsonLine(line)
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
	return p.w.printf("%d %s %s %s %s\n", line.Seq, line.Time, line.Sender, line.Kind, text)
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
	case proto.KindName, proto.KindTopic, proto.KindAvatar, proto.KindHistory, proto.KindJoinPolicy, proto.KindReceipts, proto.KindExpiry:
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
