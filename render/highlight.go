package render

// Highlight words ([notify] highlight): the words that alert the user as a
// mention does are drawn in the own-mention style in message text. Matching
// is the one the notifications use (Highlighter.Match), so what alerts is
// what is coloured. In Markdown the words are found in the parsed text
// nodes, outside code, links and URLs, and marked like mentions (private-use
// runes the renderer wraps and measures as text, painted after); in plain
// text they are painted in the wrapped lines.

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// markHighlight opens a highlight word; markMentionEnd closes it.
const markHighlight = '\uE003'

// Highlighter finds the user's highlight words: whole words (letters,
// digits and _ are word characters), case ignored.
type Highlighter struct {
	words []string
}

// NewHighlighter is a Highlighter for words (blank ones dropped); nil when
// none is left.
func NewHighlighter(words []string) *Highlighter {
	var h Highlighter
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			h.words = append(h.words, w)
		}
	}
	if len(h.words) == 0 {
		return nil
	}
	return &h
}

// Match reports whether text holds a highlight word.
func (h *Highlighter) Match(text []byte) bool {
	return h != nil && len(h.find(string(text), 1)) > 0
}

// find returns the byte ranges of up to limit (0: all) highlight words in
// s, in order, not overlapping.
func (h *Highlighter) find(s string, limit int) [][2]int {
	if h == nil {
		return nil
	}
	var out [][2]int
	for i := 0; i < len(s); {
		best := 0
		if i == 0 || !wordRune(lastRune(s[:i])) {
			for _, w := range h.words {
				n := len(w)
				if n > best && i+n <= len(s) && strings.EqualFold(s[i:i+n], w) &&
					(i+n == len(s) || !wordRune(firstRune(s[i+n:]))) {
					best = n
				}
			}
		}
		if best > 0 {
			out = append(out, [2]int{i, i + best})
			if limit > 0 && len(out) == limit {
				return out
			}
			i += best
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return out
}

func wordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func lastRune(s string) rune  { r, _ := utf8.DecodeLastRuneInString(s); return r }
func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

// urlText finds URLs written out: a highlight word inside one is left alone
// (the line's hyperlink is found in the drawn text, which colour would cut).
var urlText = regexp.MustCompile(`(?i)(?:[a-z][a-z0-9+.\-]*://|mailto:|www\.)[^\s<>]+`)

// outsideURLs drops the ranges that overlap a URL in s.
func outsideURLs(s string, ranges [][2]int) [][2]int {
	urls := urlText.FindAllStringIndex(s, -1)
	if urls == nil {
		return ranges
	}
	out := ranges[:0:0]
next:
	for _, r := range ranges {
		for _, u := range urls {
			if r[0] < u[1] && u[0] < r[1] {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// markHighlights splits the text nodes of doc around highlight words (not
// inside code, links or URLs): each word becomes a text node of its own
// between marks. The new text lives in extra, which follows source (the
// segments start at len(source)+len(extra)); the grown extra is returned.
func markHighlights(doc ast.Node, source, extra []byte, h *Highlighter) []byte {
	if h == nil {
		return extra
	}
	var texts []*ast.Text
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link, *ast.AutoLink, *ast.CodeSpan, *ast.Image, *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			texts = append(texts, n)
		}
		return ast.WalkContinue, nil
	})
	if len(texts) == 0 {
		return extra
	}
	// URLs are found in each paragraph's whole text: emphasis markers and
	// other delimiters split a URL over several text nodes.
	urls := urlText.FindAllIndex(source, -1)
	for _, t := range texts {
		seg := t.Segment
		if seg.Stop > len(source) || seg.Start >= seg.Stop {
			continue
		}
		s := string(source[seg.Start:seg.Stop])
		var found [][2]int
		for _, r := range h.find(s, 0) {
			a, b := seg.Start+r[0], seg.Start+r[1]
			inURL := false
			for _, u := range urls {
				if a < u[1] && u[0] < b {
					inURL = true
					break
				}
			}
			if !inURL {
				found = append(found, r)
			}
		}
		if len(found) == 0 {
			continue
		}
		parent := t.Parent()
		cur := seg.Start
		for _, r := range found {
			a, b := seg.Start+r[0], seg.Start+r[1]
			if a > cur {
				parent.InsertBefore(parent, t, ast.NewTextSegment(text.NewSegment(cur, a)))
			}
			start := len(source) + len(extra)
			extra = append(extra, string(markHighlight)+stripMentionMarks(string(source[a:b]))+string(markMentionEnd)...)
			parent.InsertBefore(parent, t, ast.NewTextSegment(text.NewSegment(start, len(source)+len(extra))))
			cur = b
		}
		// t keeps the rest and its line-break flags
		t.Segment = text.NewSegment(cur, seg.Stop)
	}
	return extra
}

// paintHighlightLines colours the highlight words in lines of plain text
// (no escape sequences: Fit's output), outside URLs.
func paintHighlightLines(lines []string, th *Theme, h *Highlighter) []string {
	if h == nil {
		return lines
	}
	var out []string
	for i, l := range lines {
		found := outsideURLs(l, h.find(l, 0))
		if len(found) == 0 {
			continue
		}
		if out == nil {
			out = append([]string(nil), lines...)
		}
		var b strings.Builder
		cur := 0
		for _, r := range found {
			b.WriteString(l[cur:r[0]])
			b.WriteString(highlightStyle(th).Render(l[r[0]:r[1]]))
			cur = r[1]
		}
		b.WriteString(l[cur:])
		out[i] = b.String()
	}
	if out == nil {
		return lines
	}
	return out
}
