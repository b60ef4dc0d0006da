package content

// Link safety (§9.6 "Link and Mention handling"): a link whose visible text
// names a different place than its target, or that downgrades https to
// http, deserves a warning before the user follows it.

import (
	"net/url"
	"strings"
)

// LinkNeedsWarning reports whether following target from a link showing
// text should first warn the user. Text and target that are the same URL,
// or canonically equivalent (case of scheme and host, default port, empty
// path, a scheme-less "example.com/x"), need no warning; a different host
// or path, text that is not a URL at all ("click here"), or an https text
// with an http target do. Mentions (links to MIMI user URIs) never warn:
// their text is a display hint the UI replaces with the canonical name.
func LinkNeedsWarning(text, target string) bool {
	text, target = strings.TrimSpace(text), strings.TrimSpace(target)
	if IsUserURI(target) {
		return false
	}
	if text == target {
		return false
	}
	tu, err := url.Parse(target)
	if err != nil || tu.Scheme == "" {
		return true
	}
	if !strings.Contains(text, "://") {
		text = tu.Scheme + "://" + text
	}
	xu, err := url.Parse(text)
	if err != nil || strings.ContainsAny(text, " \t\n") {
		return true
	}
	ts, xs := strings.ToLower(tu.Scheme), strings.ToLower(xu.Scheme)
	switch {
	case ts == xs:
	case xs == "http" && ts == "https": // an upgrade is harmless
	default:
		return true // includes the https -> http downgrade
	}
	return canonicalLink(xu) != canonicalLink(tu)
}

// canonicalLink renders the parts of u that decide where it leads, without
// the scheme (compared separately).
func canonicalLink(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if scheme := strings.ToLower(u.Scheme); scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	s := u.User.String() + "@" + host + ":" + port + path
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + u.RawQuery
	}
	return s + "#" + u.EscapedFragment()
}
