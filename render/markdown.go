package render

import (
	"bytes"
	"container/list"
	"errors"
	"strconv"
	"strings"
	"sync"

	"charm.land/glamour/v2/ansi"
	xansi "github.com/charmbracelet/x/ansi"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"mimichat/content"
)

// Message bodies are GFM-MIMI Markdown (draft-ietf-mimi-content §7.1.1):
// tables, strikethrough and task lists, no autolinks, HTML shown as text.
// glamour's TermRenderer always enables all of GFM (autolinks included), so
// the goldmark instance is built here with the GFM-MIMI extensions and
// glamour's ANSI renderer plugged into it.

const (
	// minMarkdownWidth is the narrowest view glamour is used for; narrower
	// views get plain wrapped text, which degrades better.
	minMarkdownWidth = 12
	// maxSourceBytes and maxSourceLines bound what is handed to glamour (a
	// huge message is cut, at a line end, before parsing, not after); the
	// byte budget also shrinks with what fits on screen (sourceBudget).
	// huge message is cut (at a line end) before parsing, not after.
	maxSourceBytes = 64 << 10
	maxSourceLines = 1000
	// maxNesting bounds nested block quotes and lists: glamour's time grows
	// steeply with depth (a 60-deep quote took minutes) and each level
	// costs width. Deeper messages are shown as plain text.
	maxNesting = 8
	// DefaultMaxLines is how many rendered lines one message may take.
	DefaultMaxLines = 200
)

// MarkdownRenderer renders message Markdown to ANSI text, reusing one
// glamour renderer per (width, theme): building one costs far more than
// rendering a chat message. It is safe for concurrent use.
type MarkdownRenderer struct {
	// MaxLines caps the rendered lines of one message; the last line then
	// says "… (N more lines)". Zero means DefaultMaxLines.
	MaxLines int

	mu      sync.Mutex
	max     int
	entries map[rendererKey]*list.Element
	lru     *list.List // of *cachedRenderer, most recently used first
}

type rendererKey struct {
	width int
	theme string
}

type cachedRenderer struct {
	key rendererKey
	mu  sync.Mutex // glamour's ANSI renderer keeps state while rendering
	md  goldmark.Markdown
}

// NewMarkdownRenderer returns a renderer that keeps at most maxRenderers
// glamour renderers (one per width and theme in use; a resize adds one).
func NewMarkdownRenderer(maxRenderers int) *MarkdownRenderer {
	if maxRenderers < 1 {
		maxRenderers = 1
	}
	return &MarkdownRenderer{max: maxRenderers, entries: map[rendererKey]*list.Element{}, lru: list.New()}
}

var defaultMarkdown = NewMarkdownRenderer(8)

// MarkdownToANSI renders untrusted message Markdown for a view width
// columns wide in theme th, using a shared renderer cache. See
// MarkdownRenderer.Render.
func MarkdownToANSI(text string, width int, th *Theme) string {
	return defaultMarkdown.Render(text, width, th)
}

// MarkdownToANSIFor is MarkdownToANSI with mentions named for people.
func MarkdownToANSIFor(text string, width int, th *Theme, people *People) string {
	return defaultMarkdown.RenderFor(text, width, th, people)
}

// Render sanitizes body, applies GFM-MIMI's No-HTML rule, renders it in
// the compact chat style and returns lines joined by "\n" in which every
// line is at most width columns wide (as Width measures) and
// the only escape sequences are SGR colours and attributes, reset at each
// line end. It never fails: if glamour does, the plain text is shown.
func (m *MarkdownRenderer) Render(body string, width int, th *Theme) string {
	return m.RenderFor(body, width, th, nil)
}

// RenderFor is Render with mentions drawn as "@Name" for people (nil: the
// URIs' last segments, none of them the user's).
func (m *MarkdownRenderer) RenderFor(body string, width int, th *Theme, people *People) string {
	if width < 1 {
		width = 1
	}
	maxLines := m.MaxLines
	if maxLines <= 0 {
		maxLines = DefaultMaxLines
	}
	src, cut := clipSource(stripMentionMarks(SanitizeText(body)), sourceBudget(width, maxLines))
	if width < minMarkdownWidth {
		return strings.Join(paintHighlightLines(Fit(src, width, maxLines), th, people.highlighter()), "\n")
	}
	r := m.renderer(width, th)
	md := []byte(content.NoHTML(src))
	var buf bytes.Buffer
	r.mu.Lock()
	doc := r.md.Parser().Parse(text.NewReader(md))
	var err error = errTooDeep
	if depth := nesting(doc); depth <= maxNesting && 2*depth <= width-minMarkdownWidth {
		extra := markHighlights(doc, md, nil, people.highlighter())
		if extra = rewriteMentions(doc, md, extra, people); extra != nil {
			md = append(md[:len(md):len(md)], extra...)
		}
		err = r.md.Renderer().Render(&buf, md, doc)
	}
	r.mu.Unlock()
	if err != nil {
		return strings.Join(paintHighlightLines(Fit(src, width, maxLines), th, people.highlighter()), "\n")
	}
	lines := fitANSI(paintMentions(buf.String(), th), width)
	if len(lines) > maxLines || cut > 0 {
		more := cut
		if len(lines) > maxLines {
			more += len(lines) - (maxLines - 1)
			lines = lines[:maxLines-1]
		}
		lines = append(lines, TruncateLine(moreLines(more), width))
	}
	return strings.Join(lines, "\n")
}

var errTooDeep = errors.New("render: Markdown nested too deep")

// nesting returns the deepest nesting of block quotes and lists in doc.
func nesting(doc ast.Node) int {
	deepest := 0
	var walk func(n ast.Node, depth int)
	walk = func(n ast.Node, depth int) {
		switch n.Kind() {
		case ast.KindBlockquote, ast.KindList:
			depth++
		}
		if depth > deepest {
			deepest = depth
		}
		if depth > maxNesting {
			return
		}
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			walk(c, depth)
		}
	}
	walk(doc, 0)
	return deepest
}

// renderer returns the cached glamour renderer for width and theme,
// building it on first use and evicting the least recently used.
func (m *MarkdownRenderer) renderer(width int, th *Theme) *cachedRenderer {
	k := rendererKey{width, th.ID()}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[k]; ok {
		m.lru.MoveToFront(el)
		return el.Value.(*cachedRenderer)
	}
	md := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList))
	ar := ansi.NewRenderer(ansi.Options{WordWrap: width, Styles: chatStyle(th), ChromaFormatter: "terminal256",
		PreserveNewLines: true})
	md.SetRenderer(renderer.NewRenderer(renderer.WithNodeRenderers(util.Prioritized(ar, 1000))))
	cr := &cachedRenderer{key: k, md: md}
	m.entries[k] = m.lru.PushFront(cr)
	for m.lru.Len() > m.max {
		old := m.lru.Back()
		m.lru.Remove(old)
		delete(m.entries, old.Value.(*cachedRenderer).key)
	}
	return cr
}

// CachedRenderers reports how many glamour renderers are cached.
func (m *MarkdownRenderer) CachedRenderers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// sourceBudget is how many bytes of Markdown can fill maxLines lines of
// width columns, with room for markup and multi-byte characters: glamour's
// time grows with the source, so nothing that cannot be seen is parsed.
func sourceBudget(width, maxLines int) int {
	b := maxLines * (width + 1) * 2
	if b > maxSourceBytes || b <= 0 {
		return maxSourceBytes
	}
	return b
}

// clipSource cuts sanitized Markdown to maxSourceLines lines and budget
// bytes, at a line end, and says how many lines were cut.
func clipSource(s string, budget int) (string, int) {
	end, lines := 0, 0
	for end < len(s) && lines < maxSourceLines {
		nl := strings.IndexByte(s[end:], '\n')
		next := len(s)
		if nl >= 0 {
			next = end + nl + 1
		}
		if next > budget && end > 0 {
			break
		}
		end, lines = next, lines+1
	}
	if end >= len(s) {
		return s, 0
	}
	if end == 0 { // one enormous first line: cut it at a rune boundary
		end = budget
		for end > 0 && s[end]&0xC0 == 0x80 {
			end--
		}
	}
	rest := s[end:]
	return s[:end], strings.Count(rest, "\n") + 1
}

func moreLines(n int) string {
	if n == 1 {
		return "… (1 more line)"
	}
	return "… (" + strconv.Itoa(n) + " more lines)"
}

// fitANSI keeps only SGR sequences of glamour's output (dropping, for
// example, the OSC 8 hyperlinks it emits), trims blank edges and trailing
// padding, and hard-wraps every line to width, closing SGR at line ends.
func fitANSI(rendered string, width int) []string {
	raw := strings.Split(onlySGR(rendered), "\n")
	var lines []string
	for _, l := range raw {
		// goldmark-emoji's shortcodes add VS16 emoji after sanitizing.
		l = DisplayLine(trimRightPadding(l))
		if Width(l) > width {
			for _, w := range strings.Split(Hardwrap(l, width, true), "\n") {
				if Width(w) > width {
					w = Truncate(w, width, "")
				}
				lines = append(lines, w)
			}
			continue
		}
		lines = append(lines, l)
	}
	// No blank lines at the edges, at most one in a row inside.
	out := lines[:0]
	for _, l := range lines {
		blank := xansi.Strip(l) == ""
		if blank && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		if blank {
			l = ""
		} else if strings.IndexByte(l, esc) >= 0 {
			l += "\x1b[m"
		}
		out = append(out, l)
	}
	if len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// onlySGR removes every escape sequence except CSI ... m.
func onlySGR(s string) string {
	if strings.IndexByte(s, esc) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] != esc {
			j := strings.IndexByte(s[i:], esc)
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		n := escapeLen(s[i:])
		if seq := s[i : i+n]; n > 2 && seq[1] == '[' && seq[n-1] == 'm' {
			b.WriteString(seq)
		}
		i += n
	}
	return b.String()
}

// trimRightPadding removes the trailing spaces glamour pads lines with,
// and the escape sequences after the last visible character (a reset is
// added at the line end anyway).
func trimRightPadding(l string) string {
	plain := xansi.Strip(l)
	keep := len(strings.TrimRight(plain, " "))
	if keep == len(plain) {
		return l
	}
	var b strings.Builder
	seen := 0
	for i := 0; i < len(l) && seen < keep; {
		if l[i] == esc {
			n := escapeLen(l[i:])
			b.WriteString(l[i : i+n])
			i += n
			continue
		}
		b.WriteByte(l[i])
		seen++
		i++
	}
	return b.String()
}
