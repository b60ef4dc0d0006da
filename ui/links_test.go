package ui

// Links: OSC 8 hyperlinks and `o` listing a message's links (issue 14).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/content"
)

// TestSafeLinkURL: only http(s) URLs with a host and mailto URLs reach an
// escape sequence or the opener, re-encoded to printable ASCII.
func TestSafeLinkURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://example.org/a?b=1&c=d#e", "https://example.org/a?b=1&c=d#e", true},
		{"HTTP://example.org", "http://example.org", true},
		{"mailto:bob@example.org", "mailto:bob@example.org", true},
		{"https://example.org/ü path", "https://example.org/%C3%BC%20path", true},
		{"https://example.org/\x1b]8;;https://evil\x07", "", false}, // a control character
		{"https://example.org/\x07", "", false},
		{"https://example.org/\u009b2J", "https://example.org/%C2%9B2J", true}, // C1 CSI: percent-encoded
		{"https://exämple.org/", "", false},                                    // a non-ASCII host stays out
		{"javascript:alert(1)", "", false},
		{"file:///etc/passwd", "", false},
		{"mimi://example.com/u/bob", "", false},
		{"https:///nohost", "", false},
		{"-help", "", false},
		{"https://example.org/" + strings.Repeat("a", maxLinkLen), "", false},
	} {
		got, ok := safeLinkURL(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("safeLinkURL(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestHyperlinkLines: each URL shown becomes an OSC 8 link to the
// message's URL it shows (a cut one to the whole); trailing punctuation
// stays outside; lines without URLs are the cache's slice, untouched.
func TestHyperlinkLines(t *testing.T) {
	links := []string{"https://example.org/docs", "https://example.com/a?b=1", "https://example.net/very/long/path"}
	for _, tc := range []struct{ in, want string }{
		{"see docs https://example.org/docs.", "see docs \x1b]8;;https://example.org/docs\x07https://example.org/docs\x1b]8;;\x07."},
		{"(https://example.com/a?b=1)", "(\x1b]8;;https://example.com/a?b=1\x07https://example.com/a?b=1\x1b]8;;\x07)"},
		{"\x1b[4mhttps://example.net/very/lo\x1b[m", "\x1b[4m\x1b]8;;https://example.net/very/long/path\x07https://example.net/very/lo\x1b]8;;\x07\x1b[m"},
		{"bare https://other.example/x ok", "bare \x1b]8;;https://other.example/x\x07https://other.example/x\x1b]8;;\x07 ok"},
		{"https://a.example/␛]8;;evil", "\x1b]8;;https://a.example/\x07https://a.example/\x1b]8;;\x07␛]8;;evil"},
		{"no link here", "no link here"},
		{"javascript://alert", "javascript://alert"},
	} {
		got := hyperlinkLines([]string{tc.in}, links)[0]
		if got != tc.want {
			t.Errorf("hyperlinkLines(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	plain := []string{"a", "b"}
	if got := hyperlinkLines(plain, links); &got[0] != &plain[0] {
		t.Error("lines without a URL were copied")
	}
}

// TestLinksInTimeline: a message's URLs are OSC 8 hyperlinks in the
// timeline (not with NoHyperlinks); a hostile URL never lets network text
// into the sequence; o lists the message's links and the chosen one is
// opened by the opener, given the URL as its one argument.
func TestLinksInTimeline(t *testing.T) {
	rl := startRelay(t)
	alice, bob := rl.session("alice"), rl.session("bob")
	room := openRoom(t, alice, "links", "Links", bob)
	sendText(t, bob, room, "read [the docs](https://example.org/docs) or https://example.com/a?b=1.")
	sendText(t, bob, room, "evil https://x.example/\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 here")
	out := filepath.Join(t.TempDir(), "opened")
	opener := filepath.Join(t.TempDir(), "opener")
	if err := os.WriteFile(opener, []byte("#!/bin/sh\nprintf '%s|' \"$#\" \"$@\" > "+out+".tmp && mv "+out+".tmp "+out+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		off  bool
	}{{"on", false}, {"off", true}} {
		t.Run(tc.name, func(t *testing.T) {
			tm, _, scr := startUI(t, alice, 100, 30, Options{Room: room, NoHyperlinks: tc.off, Opener: opener})
			scr.waitText(t, "the docs https://example.org/docs", "click␛ here")
			scr.mu.Lock()
			raw := scr.frame
			scr.mu.Unlock()
			for _, want := range []string{"\x1b]8;;https://example.org/docs\x07https://example.org/docs\x1b]8;;\x07",
				"\x1b]8;;https://example.com/a?b=1\x07https://example.com/a?b=1\x1b]8;;\x07."} {
				if got := strings.Contains(raw, want); got == tc.off {
					t.Errorf("hyperlinks %s: frame has %q: %v", tc.name, want, got)
				}
			}
			if strings.Contains(raw, "evil.example") && strings.Contains(raw, "\x1b]8;;https://evil") {
				t.Errorf("network text opened a hyperlink: %q", raw)
			}
			for _, l := range strings.Split(raw, "\n") {
				if strings.Count(l, "\x1b]8;") != 2*strings.Count(l, "\x1b]8;;\x07") {
					t.Errorf("a hyperlink is left open on line %q", l)
				}
			}
			if tc.off {
				return
			}
			key(tm, "alt+s")
			key(tm, "up")
			tm.Type("o")
			txt := scr.waitText(t, "Open a link")
			if !strings.Contains(txt, "https://example.org/docs") || !strings.Contains(txt, "https://example.com/a?b=1") {
				t.Fatalf("the link list lacks the message's links:\n%s", txt)
			}
			key(tm, "down")
			key(tm, "enter")
			scr.waitText(t, "opening https://example.com/a?b=1")
			deadline := time.Now().Add(10 * time.Second)
			for {
				b, err := os.ReadFile(out)
				if err == nil {
					if got := string(b); got != "1|https://example.com/a?b=1|" {
						t.Errorf("the opener got %q, want one argument, the URL", got)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the opener did not run")
				}
				time.Sleep(20 * time.Millisecond)
			}
			// the hostile message: only the part before the escape is a link
			key(tm, "esc")
			key(tm, "alt+s")
			tm.Type("o")
			txt = scr.waitText(t, "Open a link", "│ https://x.example/ ")
			if strings.Contains(txt, "evil.example") {
				t.Errorf("a hostile URL is offered:\n%s", txt)
			}
		})
	}
}

// TestMessageLinks: Markdown and HTML targets and written URLs, once each,
// in order; mentions and unsafe schemes are not links.
func TestMessageLinks(t *testing.T) {
	body := content.MarkdownPart("https://z.example/ [a](https://a.example/) https://b.example/x, [@Bob](mimi://e/u/bob) [js](javascript:x) https://a.example/ mailto:c@d.example")
	got := strings.Join(messageLinks(&body), " ")
	if want := "https://z.example/ https://a.example/ https://b.example/x mailto:c@d.example"; got != want {
		t.Errorf("messageLinks = %q, want %q", got, want)
	}
}

// TestLinksGolden: a message with links and its link list, at 160x48 and
// 80x24.
func TestLinksGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			rl := startRelay(t)
			alice, bob := rl.session("alice"), rl.session("bob")
			room := openRoom(t, alice, "links", "Links", bob)
			sendText(t, bob, room, "read [the docs](https://example.org/docs) or https://example.com/a?b=1.")
			tm, _, scr := startUI(t, alice, size.w, size.h, Options{Room: room})
			scr.waitText(t, "the docs https://example.org/docs")
			key(tm, "alt+s")
			tm.Type("o")
			scr.waitText(t, "Open a link")
			checkGolden(t, fmtSize(size.w, size.h)+"-links", normalize(scr.settle(300*time.Millisecond)))
		})
	}
}
