package render

import (
	"strings"

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
	if !strings.ContainsAny(s, "\uE000\uE001\uE002") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= markOwnMention && r <= markMentionEnd {
			return -1
		}
		return r
	}, s)
}

// rewriteMentions replaces every link to a user URI in doc by a text node
// "@Name" between mention marks. The new text lives in the returned bytes,
// to be appended to source before rendering; nil means no mentions.
func rewriteMentions(doc ast.Node, source []byte, people *People) []byte {
	var links []*ast.Link
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering && content.IsUserURI(string(l.Destination)) {
			links = append(links, l)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	if len(links) == 0 {
		return nil
	}
	var extra []byte
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

// paintMentions turns mention marks in glamour's output into the theme's
// mention colours: the user's own mentions in the strong mention style,
// others in the accent colour, bold.
func paintMentions(out string, th *Theme) string {
	if !strings.ContainsAny(out, "\uE000\uE001\uE002") {
		return out
	}
	own, _ := sgrOf(th.Styles.Mention.Bold(true))
	other, _ := sgrOf(th.Styles.Accent.Bold(true))
	return strings.NewReplacer(string(markOwnMention), own, string(markOtherMention), other,
		string(markMentionEnd), "\x1b[m").Replace(out)
}

// sgrOf returns the escape sequences a style puts before its text.
func sgrOf(st interface{ Render(...string) string }) (string, bool) {
	r := st.Render("\x01")
	i := strings.IndexByte(r, '\x01')
	if i < 0 {
		return "", false
	}
	return r[:i], true
}
