package content

// Mentions (§9.6): a link to a member's MIMI user URI in Markdown or HTML.
// The UI and timeline use MentionURIs to badge messages that mention the
// local user; whether the URI belongs to a group member is their decision.

import (
	"bytes"
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
)

// MentionHTML is an HTML mention link: <a href="uri">@display</a>.
func MentionHTML(display, uri string) string {
	display = strings.TrimPrefix(display, "@")
	return `<a href="` + html.EscapeString(uri) + `">@` + html.EscapeString(display) + `</a>`
}

// Link is one hyperlink: what the reader sees and where it goes.
type Link struct {
	Text   string
	Target string
}

// HTMLLinks lists every <a href> in doc with its text, in document order.
func HTMLLinks(doc []byte) []Link {
	var out []Link
	z := xhtml.NewTokenizer(bytes.NewReader(doc))
	open := -1 // index in out of the <a> being read
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return out
		case xhtml.TextToken:
			if open >= 0 {
				out[open].Text += string(z.Text())
			}
		case xhtml.EndTagToken:
			if name, _ := z.TagName(); string(name) == "a" {
				open = -1
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "a" {
				continue
			}
			open = -1
			for hasAttr {
				var key, val []byte
				key, val, hasAttr = z.TagAttr()
				if string(key) == "href" && open < 0 {
					out = append(out, Link{Target: string(val)})
					open = len(out) - 1
				}
			}
			if tt == xhtml.SelfClosingTagToken {
				open = -1
			}
		}
	}
}

// PartLinks lists the link targets in a Markdown or HTML single part; other
// parts have none.
func PartLinks(p *NestedPart) []Link {
	if p == nil || p.Cardinality != Single {
		return nil
	}
	switch {
	case IsMarkdownType(p.ContentType):
		return MarkdownLinks(p.Content)
	case IsHTMLType(p.ContentType):
		return HTMLLinks(p.Content)
	}
	return nil
}

// MentionURIs lists, without duplicates and in order of appearance, the MIMI
// user URIs linked from the Markdown and HTML parts of body (every part, so
// a mention in any alternative counts).
func MentionURIs(body *NestedPart) []string {
	var out []string
	seen := map[string]bool{}
	for _, pi := range Walk(body) {
		for _, link := range PartLinks(pi.Part) {
			l := strings.TrimSpace(link.Target)
			if IsUserURI(l) && !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

// Mentions reports whether body mentions the user with the given URI.
func Mentions(body *NestedPart, userURI string) bool {
	for _, u := range MentionURIs(body) {
		if u == userURI {
			return true
		}
	}
	return false
}
