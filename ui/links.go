package ui

// Links in messages. URLs in the timeline are OSC 8 hyperlinks (Options.
// Hyperlinks; [ui] hyperlinks = false turns them off), and the
// open-attachment action (o) on a message with no attachment or call link
// lists the message's links and opens the chosen one with the system opener.
// A link's URL is network text: only http, https and mailto URLs that
// net/url re-encodes to printable ASCII (safeLinkURL) are ever put into an
// escape sequence or handed to the opener, as one argument, never through a
// shell.

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/render"
)

// maxLinkLen bounds a URL put into OSC 8 (terminals drop longer ones).
const maxLinkLen = 2048

// urlRun is a URL as it shows in text: a scheme, then URL characters (ASCII
// only, so a run stops at an escape sequence, a space or a box border).
var urlRun = regexp.MustCompile(`(?i)(?:https?://|mailto:)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)

// safeLinkURL is raw as it may go into an OSC 8 sequence or to the opener:
// an http(s) URL with a host or a mailto URL, re-encoded by net/url, every
// byte printable ASCII (nothing can end the sequence or start another),
// at most maxLinkLen bytes; ok is false for anything else.
func safeLinkURL(raw string) (string, bool) {
	if len(raw) > maxLinkLen {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" || strings.IndexFunc(u.Host, func(r rune) bool { return r > '~' || r == '%' }) >= 0 {
			return "", false // no host, or not an ASCII one (punycode is)
		}
	case "mailto":
		if u.Opaque == "" {
			return "", false
		}
	default:
		return "", false
	}
	s := u.String()
	if len(s) > maxLinkLen {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "", false
		}
	}
	return s, true
}

// trimURLRun drops what usually ends a sentence rather than a URL: trailing
// punctuation, and a closing parenthesis without its opening one.
func trimURLRun(s string) string {
	for s != "" {
		last := s[len(s)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"*", last) >= 0:
			s = s[:len(s)-1]
		case last == ')' && strings.Count(s, "(") < strings.Count(s, ")"):
			s = s[:len(s)-1]
		case last == ']' && strings.Count(s, "[") < strings.Count(s, "]"):
			s = s[:len(s)-1]
		default:
			return s
		}
	}
	return s
}

// messageLinks are the URLs of a body, in order and once each: Markdown
// and HTML link targets and URLs written in its text, those safeLinkURL
// accepts (mentions, mimi: URIs, are not links to open).
func messageLinks(body *content.NestedPart) []string {
	if body == nil {
		return nil
	}
	type found struct {
		url string
		at  int // where it is written: the list is in reading order
	}
	var fs []found
	seen := map[string]bool{}
	base := 0 // parts follow each other
	add := func(raw, src string) {
		if u, ok := safeLinkURL(strings.TrimSpace(raw)); ok && !seen[u] {
			seen[u] = true
			at := strings.Index(src, raw)
			if at < 0 {
				at = len(src)
			}
			fs = append(fs, found{u, base + at})
		}
	}
	for _, pi := range content.Walk(body) {
		p := pi.Part
		if p.Cardinality != content.Single || !content.IsTextType(p.ContentType) {
			continue
		}
		// the text as the timeline shows it: a URL hidden inside an escape
		// sequence (which shows as ␛) is not offered
		shown := *p
		shown.Content = []byte(render.SanitizeText(string(p.Content)))
		src := string(shown.Content)
		for _, l := range content.PartLinks(&shown) {
			add(l.Target, src)
		}
		for _, run := range urlRun.FindAllString(src, -1) {
			add(trimURLRun(run), src)
		}
		base += len(src) + 1
	}
	slices.SortStableFunc(fs, func(a, b found) int { return a.at - b.at })
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.url
	}
	return out
}

// hyperlinkLines returns lines with every URL shown in them wrapped in an
// OSC 8 hyperlink (lines itself is not changed: it may be the row cache's).
// A URL cut by the row's width links to the message's link it starts.
func hyperlinkLines(lines []string, links []string) []string {
	var out []string
	for i, l := range lines {
		if !strings.Contains(l, "://") && !strings.Contains(l, "mailto:") {
			continue
		}
		nl := hyperlinkLine(l, links)
		if nl == l {
			continue
		}
		if out == nil {
			out = append([]string(nil), lines...)
		}
		out[i] = nl
	}
	if out == nil {
		return lines
	}
	return out
}

func hyperlinkLine(l string, links []string) string {
	locs := urlRun.FindAllStringIndex(l, -1)
	if locs == nil {
		return l
	}
	var b strings.Builder
	prev := 0
	for _, loc := range locs {
		run := trimURLRun(l[loc[0]:loc[1]])
		target, ok := linkTarget(run, links)
		if !ok {
			continue
		}
		end := loc[0] + len(run)
		b.WriteString(l[prev:loc[0]])
		b.WriteString(ansi.SetHyperlink(target))
		b.WriteString(l[loc[0]:end])
		b.WriteString(ansi.ResetHyperlink())
		prev = end
	}
	b.WriteString(l[prev:])
	return b.String()
}

// linkTarget is where a URL shown as run goes: the message's link it is
// (or, cut by the width or an ellipsis, starts), else run itself.
func linkTarget(run string, links []string) (string, bool) {
	for _, u := range links {
		if u == run {
			return u, true
		}
	}
	if u, ok := safeLinkURL(run); ok {
		for _, full := range links {
			if len(full) > len(u) && strings.HasPrefix(full, u) {
				return full, true
			}
		}
		return u, true
	}
	return "", false
}

// openLinks lists the selected message's links in a picker; the chosen one
// is opened by the system opener in a tea.Cmd.
func (m *Model) openLinks(it content.Item) tea.Cmd {
	if it.Deleted || it.Expired {
		m.setNotice("no link here: the message is gone")
		return nil
	}
	links := messageLinks(&it.Body)
	if len(links) == 0 {
		m.setNotice("no attachment, call link or link here")
		return nil
	}
	items := make([]pickItem, len(links))
	for i, u := range links {
		items[i] = pickItem{label: u, value: u, idx: i} // safeLinkURL: printable ASCII only
	}
	opener := m.opt.Opener
	m.ov = newPickerDialog(m.km, "Open a link ("+keyHint(m.km, keys.Picker, keys.Accept)+" opens it)", items, nil,
		func(p pickItem) tea.Cmd { return openLink(opener, p.value) })
	return nil
}

// openLink runs the opener on u (one argument, no shell) in a tea.Cmd.
func openLink(opener, u string) tea.Cmd {
	return func() tea.Msg {
		if err := startOpenerWith(opener, u); err != nil {
			return noticeMsg("no opener for " + u + ": " + err.Error())
		}
		return noticeMsg("opening " + u)
	}
}

// linkRow makes the URLs in a row's lines hyperlinks (unless turned off).
// Lines without "://" or "mailto:" cost one scan; the body's links are
// found only for a row that shows one.
func (m *Model) linkRow(lines []string, body *content.NestedPart) []string {
	if m.opt.NoHyperlinks || body == nil {
		return lines
	}
	for _, l := range lines {
		if strings.Contains(l, "://") || strings.Contains(l, "mailto:") {
			return hyperlinkLines(lines, messageLinks(body))
		}
	}
	return lines
}
