package content

// GFM-MIMI (§7.1.1): GitHub Flavored Markdown with Tables, Task lists and
// Strikethrough, no Autolink extension, and the mandatory No-HTML extension:
// the "<" of every GFM HTML tag becomes "&lt;" before sending, and received
// HTML tags render as plain text. A real Markdown parser finds the tags, so
// "<" inside code spans, code blocks, autolinks and link destinations is
// left alone.

import (
	"bytes"
	"net/url"
	"slices"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// gfmMIMI parses GFM-MIMI: the three allowed GFM extensions, no Linkify.
var gfmMIMI = goldmark.New(goldmark.WithExtensions(
	extension.Table, extension.Strikethrough, extension.TaskList))

func parseMarkdown(src []byte) ast.Node {
	return gfmMIMI.Parser().Parse(text.NewReader(src))
}

// NoHTML applies the No-HTML extension: it returns md with the opening "<"
// of every HTML tag (open and closing tags, comments, processing
// instructions, declarations, CDATA, and HTML blocks) replaced by "&lt;".
// Markdown without HTML comes back unchanged, and NoHTML(NoHTML(s)) ==
// NoHTML(s). Use it before sending and on receipt before rendering.
func NoHTML(md string) string {
	src := []byte(md)
	// Escaping one tag can turn following text into a different construct
	// (an HTML block becomes a paragraph whose tags are inline), so re-parse
	// until no HTML is left. Crafted input could need a pass per tag, so
	// after a few passes every "<" that could start a tag is escaped, even
	// inside code: uglier, but bounded and certainly free of HTML.
	for pass := 0; pass < noHTMLPasses; pass++ {
		at := htmlTagStarts(src)
		if len(at) == 0 {
			return string(src)
		}
		src = escapeAt(src, at)
	}
	if !HasHTML(string(src)) {
		return string(src)
	}
	return string(escapeAt(src, tagLikeStarts(src)))
}

// noHTMLPasses bounds the precise passes of NoHTML; ordinary text needs
// one or two.
const noHTMLPasses = 6

// tagLikeStarts returns every "<" followed by a character that can begin
// an HTML tag, comment, declaration or processing instruction.
func tagLikeStarts(src []byte) []int {
	var at []int
	for i := 0; i+1 < len(src); i++ {
		if src[i] == '<' && isTagStart(src[i+1]) {
			at = append(at, i)
		}
	}
	return at
}

func isTagStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '!' || c == '?'
}

// HasHTML reports whether md contains anything GFM parses as raw HTML.
func HasHTML(md string) bool { return len(htmlTagStarts([]byte(md))) > 0 }

// htmlTagStarts returns the offsets of the "<" that open raw HTML, sorted.
func htmlTagStarts(src []byte) []int {
	if bytes.IndexByte(src, '<') < 0 {
		return nil
	}
	var at []int
	seen := map[int]bool{}
	add := func(i int) {
		if i >= 0 && i < len(src) && src[i] == '<' && !seen[i] {
			seen[i] = true
			at = append(at, i)
		}
	}
	_ = ast.Walk(parseMarkdown(src), func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.RawHTML:
			if n.Segments.Len() > 0 {
				add(n.Segments.At(0).Start)
			}
		case *ast.HTMLBlock:
			// The tag that opened the block, and any line that could open
			// another block once this one is a paragraph; inline tags in
			// the rest are found when the result is parsed again.
			for i := 0; i < n.Lines().Len(); i++ {
				line := n.Lines().At(i)
				text := src[line.Start:line.Stop]
				j := bytes.IndexByte(text, '<')
				if j >= 0 && (i == 0 || len(bytes.TrimLeft(text[:j], " ")) == 0 && j+1 < len(text) && isTagStart(text[j+1])) {
					add(line.Start + j)
				}
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	slices.Sort(at)
	return at
}

// escapeAt replaces the "<" at each sorted offset with "&lt;".
func escapeAt(src []byte, at []int) []byte {
	out := make([]byte, 0, len(src)+3*len(at))
	prev := 0
	for _, i := range at {
		out = append(out, src[prev:i]...)
		out = append(out, "&lt;"...)
		prev = i + 1
	}
	return append(out, src[prev:]...)
}

// MentionMarkdown is a Markdown mention link, e.g. "[@Alice Smith](mimi://
// example.com/u/alice-smith)". The display text is only a hint (§9.6).
func MentionMarkdown(display, uri string) string {
	display = strings.TrimPrefix(display, "@")
	dest := uri
	if strings.ContainsAny(uri, " ()<>") {
		dest = "<" + strings.NewReplacer("<", "%3C", ">", "%3E").Replace(uri) + ">"
	}
	return "[@" + escapeMarkdownText(display) + "](" + dest + ")"
}

// escapeMarkdownText backslash-escapes the ASCII punctuation that could
// end the link text or start markup.
func escapeMarkdownText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\[]*_`+"`"+`<>&~|!#`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// MarkdownLinks lists the links in md (inline, reference and autolinks)
// with their visible text, in document order. Images are not links.
func MarkdownLinks(md []byte) []Link {
	var out []Link
	_ = ast.Walk(parseMarkdown(md), func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			out = append(out, Link{Text: inlineText(n, md), Target: string(n.Destination)})
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			out = append(out, Link{Text: string(n.Label(md)), Target: string(n.URL(md))})
		}
		return ast.WalkContinue, nil
	})
	return out
}

// inlineText is the plain text under an inline node.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch c := c.(type) {
			case *ast.Text:
				b.Write(c.Segment.Value(src))
			case *ast.String:
				b.Write(c.Value)
			case *ast.AutoLink:
				b.Write(c.Label(src))
			}
		}
		return ast.WalkContinue, nil
	})
	return unescapeMarkdown(b.String())
}

// IsUserURI reports whether s is a MIMI user URI (mimi://domain/u/name),
// the target that makes a link a mention.
func IsUserURI(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || !strings.EqualFold(u.Scheme, "mimi") || u.Host == "" {
		return false
	}
	return strings.HasPrefix(u.Path, "/u/") && len(u.Path) > len("/u/")
}
