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

// HTMLLinks lists the href of every <a> element in doc, in document order.
func HTMLLinks(doc []byte) []string {
	var out []string
	z := xhtml.NewTokenizer(bytes.NewReader(doc))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return out
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if string(name) != "a" {
			continue
		}
		for hasAttr {
			var key, val []byte
			key, val, hasAttr = z.TagAttr()
			if string(key) == "href" {
				out = append(out, string(val))
			}
		}
	}
}

// PartLinks lists the link targets in a Markdown or HTML single part; other
// parts have none.
func PartLinks(p *NestedPart) []string {
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
		for _, l := range PartLinks(pi.Part) {
			l = strings.TrimSpace(l)
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
