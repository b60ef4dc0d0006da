package content

// Plain text of a message: what reply quotes, notifications and the room
// list show. It follows the same part resolution as full rendering, so a
// preview never shows an alternative the reader would not see.

import (
	"bytes"
	"html"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	xhtml "golang.org/x/net/html"
)

// PlainText returns the best displayable text of m for a reader with the
// given languages: the text of its resolved parts, one per line; Markdown
// and HTML are reduced to their text, attachments become "📎 name", call
// links "📞 description". A deletion or unlike (NullPart) gives "".
func PlainText(m *Message, languages ...string) string {
	if m == nil {
		return ""
	}
	var lines []string
	for _, rp := range Resolve(&m.Body, Prefs{Languages: languages, Supported: IsTextType}) {
		if s := strings.TrimSpace(partText(rp)); s != "" {
			lines = append(lines, s)
		}
	}
	return strings.Join(lines, "\n")
}

// PreviewLine is PlainText on one line, cut to at most maxRunes runes
// (ending in "…" when cut). maxRunes <= 0 means no limit.
func PreviewLine(m *Message, maxRunes int, languages ...string) string {
	s := strings.Join(strings.Fields(PlainText(m, languages...)), " ")
	r := []rune(s)
	if maxRunes > 0 && len(r) > maxRunes {
		if maxRunes == 1 {
			return "…"
		}
		return string(r[:maxRunes-1]) + "…"
	}
	return s
}

func partText(rp ResolvedPart) string {
	p := rp.Part
	if p.Cardinality == External {
		e := p.External
		if e == nil {
			return ""
		}
		switch {
		case rp.Disposition == Session:
			return "📞 " + firstNonEmpty(e.Description, e.URL)
		default:
			return "📎 " + firstNonEmpty(e.Filename, e.Description, p.ContentType, "attachment")
		}
	}
	if !rp.Supported {
		return "[" + firstNonEmpty(p.ContentType, "unknown content") + "]"
	}
	switch {
	case IsMarkdownType(p.ContentType):
		return MarkdownText(p.Content)
	case IsHTMLType(p.ContentType):
		return HTMLText(p.Content)
	default:
		return strings.ToValidUTF8(string(p.Content), "\uFFFD")
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// MarkdownText reduces Markdown to its visible text: markup dropped, link
// text kept, raw HTML shown literally (No-HTML), blocks on separate lines.
func MarkdownText(md []byte) string {
	var b strings.Builder
	root := parseMarkdown(md)
	_ = ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		_, isCell := n.(*east.TableCell)
		if n.Type() == ast.TypeBlock && n != root && !isCell && !entering && b.Len() > 0 {
			endLine(&b)
			return ast.WalkContinue, nil
		}
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Text:
			b.Write(n.Segment.Value(md))
			if n.HardLineBreak() {
				b.WriteByte('\n')
			} else if n.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(n.Value)
		case *ast.AutoLink:
			b.Write(n.URL(md))
		case *ast.RawHTML:
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				b.Write(seg.Value(md))
			}
		case *east.TableCell:
			if n.PreviousSibling() != nil {
				b.WriteString(" | ")
			}
		case *east.TaskCheckBox:
			if n.IsChecked {
				b.WriteString("[x] ")
			} else {
				b.WriteString("[ ] ")
			}
		case *ast.CodeBlock, *ast.FencedCodeBlock, *ast.HTMLBlock:
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				b.Write(seg.Value(md))
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(unescapeMarkdown(b.String()))
}

// unescapeMarkdown resolves backslash escapes and entity references, which
// the parser leaves in text segments for the renderer.
func unescapeMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(asciiPunct, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return html.UnescapeString(b.String())
}

// asciiPunct are the characters CommonMark lets a backslash escape.
const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func endLine(b *strings.Builder) {
	if s := b.String(); !strings.HasSuffix(s, "\n") {
		b.WriteByte('\n')
	}
}

// htmlBlockTags end a line of text in HTMLText.
var htmlBlockTags = map[string]bool{"p": true, "br": true, "div": true, "li": true, "tr": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "pre": true}

// HTMLText reduces HTML to its visible text: tags dropped, entities
// resolved, script and style skipped, block elements on separate lines.
func HTMLText(doc []byte) string {
	var b strings.Builder
	z := xhtml.NewTokenizer(bytes.NewReader(doc))
	skip := 0
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return tidyLines(b.String())
		case xhtml.TextToken:
			if skip == 0 {
				b.WriteString(collapseSpace(string(z.Text())))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip++
			case "img":
				// alt text stands in for an inline image
				for more := true; more; {
					var k, v []byte
					k, v, more = z.TagAttr()
					if string(k) == "alt" && len(v) > 0 {
						b.WriteString("[" + string(v) + "]")
					}
				}
			}
			if htmlBlockTags[string(name)] && b.Len() > 0 {
				endLine(&b)
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			switch {
			case string(name) == "script" || string(name) == "style":
				if skip > 0 {
					skip--
				}
			case htmlBlockTags[string(name)] && b.Len() > 0:
				endLine(&b)
			}
		}
	}
}

// collapseSpace turns every run of whitespace into one space, keeping a
// space at either end so adjacent text tokens stay apart.
func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// tidyLines trims every line and drops empty ones.
func tidyLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
