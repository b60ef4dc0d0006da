package render

import (
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"mimichat/content"
)

// A mention is a Markdown link to a MIMI user URI. It is drawn as a
// highlighted "@Name" and never as its URI: the name is the one the user
// knows for that URI (People.Names) or the URI's own last segment, not the
// link text, so a sender cannot dress a mention of one person up as another.
// Every other link keeps showing its target: the user must see where an
// http link goes.

// People tells the renderer who the user is and what to call others.
type People struct {
	Me    string            // the user's URI: mentions of it stand out more
	Names map[string]string // display names by URI; others use the URI's last segment
	// Highlight finds the user's highlight words, drawn as the user's own
	// mentions are (nil: none).
	Highlight *Highlighter
}

// highlighter is p's Highlighter (nil for a nil p).
func (p *People) highlighter() *Highlighter {
	if p == nil {
		return nil
	}
	return p.Highlight
}

// Name is the display name for uri.
func (p *People) Name(uri string) string {
	if p != nil {
		if n, ok := p.Names[uri]; ok && n != "" {
			return n
		}
	}
	if i := strings.LastIndexByte(uri, '/'); i >= 0 && i+1 < len(uri) {
		return uri[i+1:]
	}
	return uri
}

// Private-use runes mark mentions between glamour and the final output:
// the renderer wraps and measures them like any character, and
// paintMentions turns them into colours. Message text never contains them
// (stripMentionMarks runs first).
const (
	markOwnMention   = '\uE000'
	markOtherMention = '\uE001'
	markMentionEnd   = '\uE002'
)

func stripMentionMarks(s string) string {
	if !strings.ContainsAny(s, marks) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= markOwnMention && r <= markHighlight {
			return -1
		}
		return r
	}, s)
}

// marks are the private-use runes of mentions and highlight words.
const marks = "\uE000\uE001\uE002\uE003"

// rewriteMentions replaces every link to a user URI in doc by a text node
// "@Name" between mention marks. The new text is appended to extra (text
// that follows source: segments start at len(source)+len(extra)), which is
// returned.
func rewriteMentions(doc ast.Node, source, extra []byte, people *People) []byte {
	var links []*ast.Link
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering && content.IsUserURI(string(l.Destination)) {
			links = append(links, l)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	if len(links) == 0 {
		return extra
	}
	for _, l := range links {
		uri := strings.TrimSpace(string(l.Destination))
		mark := markOtherMention
		if people != nil && uri == people.Me {
			mark = markOwnMention
		}
		// No-break spaces keep "@Ann Lee" on one line.
		name := strings.ReplaceAll(SanitizeLine(people.Name(uri)), " ", "\u00a0")
		start := len(source) + len(extra)
		extra = append(extra, string(mark)+"@"+stripMentionMarks(name)+string(markMentionEnd)...)
		t := ast.NewTextSegment(text.NewSegment(start, len(source)+len(extra)))
		l.Parent().ReplaceChild(l.Parent(), l, t)
	}
	return extra
}

// paintMentions turns the marks in glamour's output into colours: the
// user's own mentions and highlight words in the strong mention style,
// others' mentions in the accent colour, bold. After a mark's end the
// styles that were in effect on the line before it are set again, so a
// word in bold text leaves the rest of it bold.
func paintMentions(out string, th *Theme) string {
	if !strings.ContainsAny(out, marks) {
		return out
	}
	own, _ := sgrOf(highlightStyle(th))
	other, _ := sgrOf(th.Styles.Accent.Bold(true))
	var b strings.Builder
	b.Grow(len(out) + 64)
	active := "" // the SGR sequences in effect on this line since its last reset
	open := ""   // the style of the mark being drawn: a word wrapped onto the next line keeps it
	for i := 0; i < len(out); {
		c := out[i]
		switch {
		case c == 0x1b && i+1 < len(out) && out[i+1] == '[':
			j := i + 2
			for j < len(out) && (out[j] < 0x40 || out[j] > 0x7e) {
				j++
			}
			if j == len(out) {
				b.WriteString(out[i:])
				return b.String()
			}
			seq := out[i : j+1]
			if out[j] == 'm' {
				if seq == "\x1b[m" || seq == "\x1b[0m" {
					active = ""
				} else {
					active += seq
				}
			}
			b.WriteString(seq)
			i = j + 1
			continue
		case c == '\n':
			b.WriteString("\n" + open)
			active = ""
			i++
			continue
		case c == 0xee: // the UTF-8 lead byte of U+E000..U+EFFF
			r, size := utf8.DecodeRuneInString(out[i:])
			switch r {
			case markOwnMention, markHighlight:
				open = own
				b.WriteString(own)
				i += size
				continue
			case markOtherMention:
				open = other
				b.WriteString(other)
				i += size
				continue
			case markMentionEnd:
				open = ""
				b.WriteString("\x1b[m" + active)
				i += size
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// highlightStyle draws the user's own mentions and highlight words.
func highlightStyle(th *Theme) lipgloss.Style { return th.Styles.Mention.Bold(true) }

// sgrOf returns the escape sequences a style puts before its text.
func sgrOf(st interface{ Render(...string) string }) (string, bool) {
	r := st.Render("\x01")
	i := strings.IndexByte(r, '\x01')
	if i < 0 {
		return "", false
	}
	return r[:i], true
}
