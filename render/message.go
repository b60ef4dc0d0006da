package render

import (
	"strconv"
	"strings"
	"time"

	"mimichat/content"
)

// A timeline row is described by a Message (plain data the UI gathers from
// the room's Timeline under one read lock) and turned into styled lines
// here. Every string from the network passes SanitizeLine/SanitizeText (or
// the Markdown renderer, which sanitizes) before it is styled.

// RowKind is what a timeline row shows.
type RowKind uint8

const (
	RowMessage RowKind = iota // a message or its tombstone
	RowKnock                  // a knock banner
	RowEvent                  // a quiet system line (membership, room change)
	RowDay                    // a day separator
	RowHidden                 // an expired message: it vanishes (no lines)
)

// Delivery is the state of one of the user's own messages.
type Delivery uint8

const (
	DeliveryNone      Delivery = iota // not the user's message
	DeliveryPending                   // in the outbox, not acked
	DeliveryFailed                    // refused; can be retried
	DeliverySent                      // acked by the hub
	DeliveryDelivered                 // some member's client received it
	DeliveryRead                      // some member read it
)

// QuoteState says what a reply's parent is.
type QuoteState uint8

const (
	QuoteKnown QuoteState = iota
	QuoteDeleted
	QuoteUnknown
	QuoteExpired
)

// Quote is the one-line preview of a reply's parent.
type Quote struct {
	State  QuoteState
	Author string // display name
	Text   string
}

// Chip is one reaction key with its count.
type Chip struct {
	Key   string
	Count int
	Mine  bool
}

// Message is everything one row shows.
type Message struct {
	Kind        RowKind
	ID, Current content.MessageID
	Sender      string // URI: picks the colour
	Name        string // display name
	Time        time.Time
	Body        *content.NestedPart
	Languages   []string

	Edited, Deleted, Expired, Mention bool
	DeletedBy                         string // display name when not the sender
	ExpiresIn                         time.Duration
	Quote                             *Quote
	Reactions                         []Chip
	ThreadReplies                     int       // > 0 on the row that stands for a thread in the main timeline
	ThreadLast                        string    // the last reply's author (display name), "" = not shown
	ThreadLastTime                    time.Time // when the last reply was sent
	InThread                          bool
	Delivery                          Delivery
	ReadBy                            int
	Err                               string                       // failed send reason
	Text                              string                       // RowEvent, RowDay, RowKnock
	People                            *People                      // names mentions; shared by every row
	Images                            [MaxInlineImages]InlineImage // image attachments, drawn under the body in order
	ImagesMore                        int                          // image attachments past MaxInlineImages, not drawn
	// Continued: the previous row is the same sender's, a few minutes
	// earlier, with nothing between that needs a header (grouping)
	Continued bool
	Layout    Layout
}

// MaxInlineImages is how many of a message's image attachments are drawn;
// a line counts the rest (a message of forty photos would otherwise fill
// the scrollback).
const MaxInlineImages = 4

// Gutter is the width of the time column; body lines are indented by it.
const Gutter = 6

// RenderMessage renders m to lines of at most width columns.
func RenderMessage(m *Message, width int, th *Theme) []string {
	if width < 8 {
		width = 8
	}
	switch m.Kind {
	case RowHidden:
		return nil
	case RowDay:
		return []string{dayLine(m.Text, width, th)}
	case RowEvent:
		if m.Layout == LayoutCompact && !m.Time.IsZero() && width-compactTextCol(width) >= minCompactText {
			return compactEvent(m, width, th)
		}
		return quietLines("  · ", SanitizeLine(m.Text), width, th)
	case RowKnock:
		return knockLines(m, width, th)
	}
	if m.Layout == LayoutCompact && width-compactTextCol(width) >= minCompactText {
		return compactLines(m, width, th)
	}
	return cozyLines(m, width, th)
}

// cozyLines is the default layout: a header (time and sender) over the
// body, indented by the gutter. A one-line message that fits shares the
// header's line; a row Continued from the same sender has no header.
func cozyLines(m *Message, width int, th *Theme) []string {
	s := &th.Styles
	gutter := Gutter
	if width < 30 {
		gutter = 2 // narrow: keep room for the text
	}
	indent := strings.Repeat(" ", gutter)
	bw := width - gutter
	body := bodyLines(m, bw, th)
	tail := tailMarks(m, th)
	var out []string
	switch {
	case m.Continued && m.Quote == nil:
		// grouped under the previous row's header
	case m.Quote == nil && len(body) == 1 && firstIsText(m):
		// a one-line message shares the header's line (a longer one keeps
		// its header apart, so its lines start in one column)
		head := s.Timestamp.Render(m.Time.Format("15:04")) + " " +
			th.Sender(m.Sender).Render(TruncateLine(SanitizeLine(m.Name), width-Gutter))
		if Width(head)+2+Width(body[0]) <= width {
			out = append(out, head+"  "+body[0])
			body = body[1:]
			break
		}
		fallthrough
	default:
		out = append(out, headerLine(m, width, th, tail))
		tail = ""
	}
	if m.Quote != nil {
		out = append(out, indent+quoteLine(m.Quote, bw, th))
	}
	for _, l := range body {
		out = append(out, indent+l)
	}
	out = appendTail(out, tail, indent, width)
	out = append(out, footLines(m, indent, bw, th)...)
	if len(out) == 0 {
		out = []string{indent} // a row always has a line, to select it by
	}
	return out
}

// bodyLines is what the message says, in bw columns: its body (and inline
// image), or the line a tombstone shows.
func bodyLines(m *Message, bw int, th *Theme) []string {
	s := &th.Styles
	switch {
	case m.Deleted:
		t := "message deleted"
		if m.DeletedBy != "" {
			t = "message deleted by " + SanitizeLine(m.DeletedBy)
		}
		return []string{s.Edited.Render(TruncateLine(t, bw))}
	case m.Expired:
		return []string{s.Edited.Render(TruncateLine("message expired", bw))}
	case m.Body != nil:
		out := BodyLinesFor(m.Body, m.Languages, bw, th, m.People)
		for i := range m.Images {
			out = append(out, imageLines(&m.Images[i], bw, th)...)
		}
		if m.ImagesMore > 0 {
			t := "+ " + strconv.Itoa(m.ImagesMore) + " more image" + plural(m.ImagesMore, "", "s") + " (o opens, s saves)"
			out = append(out, s.Muted.Render(TruncateLine(t, bw)))
		}
		return out
	}
	return nil
}

// firstIsText reports whether the body's first line is text (not a card's
// border), so it can share the header's line.
func firstIsText(m *Message) bool {
	if m.Body == nil || m.Deleted || m.Expired {
		return true
	}
	parts := content.Resolve(m.Body, content.Prefs{Languages: m.Languages, Supported: supported})
	return len(parts) == 0 || parts[0].Part.External == nil
}

// appendTail puts the marks (edited, countdown, mention, delivery) at the
// end of the last line when they fit there, else on a line of their own.
func appendTail(out []string, tail, indent string, width int) []string {
	if tail == "" {
		return out
	}
	if n := len(out); n > 0 && Width(out[n-1])+1+Width(tail) <= width {
		out[n-1] += " " + tail
		return out
	}
	return append(out, indent+TruncateLine(tail, max(1, width-len(indent))))
}

// footLines are the lines under the body: reactions, the thread marker and
// a failed send's reason.
func footLines(m *Message, indent string, bw int, th *Theme) []string {
	s := &th.Styles
	var out []string
	if len(m.Reactions) > 0 {
		out = append(out, indent+chipsLine(m.Reactions, bw, th))
	}
	if m.ThreadReplies > 0 && !m.InThread {
		t := "🧵 " + strconv.Itoa(m.ThreadReplies) + " repl" + plural(m.ThreadReplies, "y", "ies")
		if m.ThreadLast != "" {
			t += " · last " + SanitizeLine(m.ThreadLast) + " " + m.ThreadLastTime.Format("15:04")
		}
		out = append(out, indent+s.Accent.Render(TruncateLine(t, bw)))
	}
	if m.Delivery == DeliveryFailed {
		t := "✗ not sent"
		if m.Err != "" {
			t += ": " + SanitizeLine(m.Err)
		}
		t += " — /retry"
		out = append(out, indent+s.Error.Render(TruncateLine(t, bw)))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// headerLine is "15:04 Name  (edited) ⏳12s ✓✓": tail is tailMarks.
func headerLine(m *Message, width int, th *Theme, tail string) string {
	s := &th.Styles
	ts := s.Timestamp.Render(m.Time.Format("15:04")) + " "
	tw := Width(tail)
	nameW := width - Gutter - tw - 1
	if nameW < 4 {
		nameW, tail = width-Gutter, ""
	}
	name := th.Sender(m.Sender).Render(TruncateLine(SanitizeLine(m.Name), nameW))
	line := ts + name
	if tail != "" {
		line += " " + tail
	}
	return line
}

// tailMarks are the marks after a message: (edited), the expiry
// countdown, a mention of the user and the delivery state.
func tailMarks(m *Message, th *Theme) string {
	s := &th.Styles
	var tail []string
	if m.Edited && !m.Deleted {
		tail = append(tail, s.Edited.Render("(edited)"))
	}
	if m.ExpiresIn > 0 && !m.Deleted && !m.Expired {
		tail = append(tail, s.Warning.Render("⏳"+shortDuration(m.ExpiresIn)))
	}
	if m.Mention {
		tail = append(tail, s.Mention.Render("@"))
	}
	if d := deliveryMark(m, th); d != "" {
		tail = append(tail, d)
	}
	return strings.Join(tail, " ")
}

func deliveryMark(m *Message, th *Theme) string {
	s := &th.Styles
	switch m.Delivery {
	case DeliveryPending:
		return s.Muted.Render("◌ sending")
	case DeliveryFailed:
		return s.Error.Render("✗")
	case DeliverySent:
		return s.Muted.Render("✓")
	case DeliveryDelivered:
		return s.Muted.Render("✓✓")
	case DeliveryRead:
		t := "✓✓ read"
		if m.ReadBy > 1 {
			t += " ·" + strconv.Itoa(m.ReadBy)
		}
		return s.Success.Render(t)
	}
	return ""
}

// shortDuration is a compact countdown: 45s, 3m, 2h, 4d.
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int((d+time.Second-1)/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// ExpiryBucket is how the countdown badge changes: the cache key includes
// it, so a badge re-renders only when its text changes.
func ExpiryBucket(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return shortDuration(d)
}

func quoteLine(q *Quote, width int, th *Theme) string {
	s := &th.Styles
	var t string
	switch q.State {
	case QuoteDeleted:
		t = "↩ deleted message"
	case QuoteExpired:
		t = "↩ expired message"
	case QuoteUnknown:
		t = "↩ earlier message"
	default:
		t = "↩ " + SanitizeLine(q.Author) + ": " + SanitizeLine(q.Text)
	}
	return s.Muted.Italic(true).Render(TruncateLine(t, width))
}

func chipsLine(chips []Chip, width int, th *Theme) string {
	s := &th.Styles
	var b strings.Builder
	used := 0
	for i, c := range chips {
		t := " " + SanitizeLine(c.Key) + " " + strconv.Itoa(c.Count) + " "
		w := Width(t) + 1
		if used+w > width {
			rest := len(chips) - i
			if used+4 <= width {
				b.WriteString(s.Muted.Render(" +" + strconv.Itoa(rest)))
			}
			break
		}
		st := s.Reaction
		if c.Mine {
			st = s.ReactionMine
		}
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(st.Render(t))
		used += w
	}
	return b.String()
}

func knockLines(m *Message, width int, th *Theme) []string {
	s := &th.Styles
	t := "🔔 " + SanitizeLine(m.Name) + " knocked"
	if m.Text != "" {
		t += ": " + SanitizeLine(m.Text)
	}
	ts := s.Timestamp.Render(m.Time.Format("15:04")) + " "
	return []string{ts + s.Warning.Bold(true).Render(TruncateLine(t, width-Gutter))}
}

func dayLine(day string, width int, th *Theme) string {
	label := " " + SanitizeLine(day) + " "
	lw := Width(label)
	if lw >= width {
		return th.Styles.Muted.Render(TruncateLine(label, width))
	}
	left := (width - lw) / 2
	right := width - lw - left
	return th.Styles.Muted.Render(strings.Repeat("─", left) + label + strings.Repeat("─", right))
}

// DayLabel is the separator text for t's day relative to now.
func DayLabel(t, now time.Time) string {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return "Today"
	case now.Sub(t) < 48*time.Hour && now.AddDate(0, 0, -1).Day() == d1:
		return "Yesterday"
	case y1 == y2:
		return t.Format("Monday, 2 January")
	}
	return t.Format("2 January 2006")
}

// maxEventLines bounds a quiet line's wrapped text (a topic is network text).
const maxEventLines = 3

// quietLines is a system line: head ("  · ", or a compact row's time and
// column) then text wrapped under it, at most maxEventLines lines, the last
// cut with "…" when there is more. At 80 columns a cut line hid what the
// user was told to type ("… with you · /import-h…").
func quietLines(head, text string, width int, th *Theme) []string {
	s := &th.Styles
	hw := Width(head)
	tw := max(1, width-hw)
	ls := Wrap(text, tw)
	if len(ls) > maxEventLines {
		ls = append(ls[:maxEventLines-1], TruncateLine(strings.Join(ls[maxEventLines-1:], " ")+" …", tw))
	}
	out := make([]string, len(ls))
	pad := strings.Repeat(" ", hw)
	for i, l := range ls {
		if i == 0 {
			out[i] = s.Muted.Render(head + l)
		} else {
			out[i] = s.Muted.Render(pad + l)
		}
	}
	return out
}
