package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// TestPeerSignalsExpiryMentionsHostile: the peer types (typing line),
// sends a message that expires (countdown, then it vanishes), mentions the
// user in another room (mention badge), and sends hostile text, names and
// a hostile topic: every frame line stays within the width and carries no
// escape sequence but colours.
func TestPeerSignalsExpiryMentionsHostile(t *testing.T) {
	rl := startRelay(t)
	you := rl.session("you")
	peer := rl.session("peer")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rooms := map[string]string{}
	for _, slug := range []string{"main", "side"} {
		if _, err := peer.CreateRoom(ctx, session.CreateRoomOptions{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:], Join: proto.JoinOpen}); err != nil {
			t.Fatal(err)
		}
		rooms[slug] = "mimi://" + testDomain + "/r/" + slug
		if _, err := you.Join(ctx, rooms[slug]); err != nil {
			t.Fatal(err)
		}
	}
	const w, h = 90, 30
	_, _, scr := startUI(t, you, w, h, Options{Room: rooms["main"]})
	scr.waitText(t, "│Main", "you joined")

	// typing
	if err := peer.Typing(rooms["main"], true); err != nil {
		t.Fatal(err)
	}
	scr.waitText(t, "peer is typing…")
	m, _ := peer.Builder(rooms["main"]).Markdown("done typing")
	peer.Send(rooms["main"], m)
	scr.waitFor(t, "typing line cleared by the message", func(s string) bool {
		return strings.Contains(s, "done typing") && !strings.Contains(s, "is typing")
	})

	// expiring: countdown, then gone
	exp, _ := peer.Builder(rooms["main"]).Markdown("this vanishes", content.ExpiresAt(time.Now().Add(3*time.Second)))
	peer.Send(rooms["main"], exp)
	scr.waitText(t, "this vanishes", "⏳")
	scr.waitFor(t, "the expired message to vanish", func(s string) bool { return !strings.Contains(s, "this vanishes") })

	// a mention in the other room shows a badge in the room list
	men, _ := peer.Builder(rooms["side"]).Markdown("ping " + content.MentionMarkdown("you", you.User()))
	peer.Send(rooms["side"], men)
	scr.waitFor(t, "a mention badge on Side", func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "Side") && strings.Contains(l, "@1") {
				return true
			}
		}
		return false
	})

	// hostile content
	hostile := "\x1b[2J\x1b]52;c;aGk=\x07\x1b]8;;https://evil\x07x\x1b]8;;\x07 \u202etxt.exe " + strings.Repeat("A", 3000)
	peer.SetTopic(ctx, rooms["main"], "topic \x1b[5m"+hostile)
	hm, err := peer.Builder(rooms["main"]).Markdown("hostile " + hostile + "\n" + strings.Repeat("line\n", 500))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := peer.Send(rooms["main"], hm); err != nil {
		t.Fatal(err)
	}
	frame := ""
	scr.waitFor(t, "the hostile message", func(s string) bool { return strings.Contains(s, "message cut") })
	scr.mu.Lock()
	frame = scr.frame
	scr.mu.Unlock()
	lines := strings.Split(frame, "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d wide", i, lw)
		}
		if rest := stripSGRLine(l); strings.ContainsAny(rest, "\x1b\x07\u009b\u202e") {
			t.Errorf("line %d carries an escape: %q", i, rest)
		}
	}
}

// stripSGRLine drops SGR sequences (our colours) so anything else shows.
func stripSGRLine(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == ':') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestEditorComposes: alt+e hands the composer to $EDITOR and takes back
// what it wrote.
func TestEditorComposes(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "ed.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf 'written in the editor\\nsecond line\\n' > \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", script)
	rl := startRelay(t)
	you := rl.session("you")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := you.CreateRoom(ctx, session.CreateRoomOptions{Slug: "ed", Name: "Ed"}); err != nil {
		t.Fatal(err)
	}
	tm, _, scr := startUI(t, you, 80, 24, Options{Room: "mimi://" + testDomain + "/r/ed"})
	scr.waitText(t, "│Ed")
	tm.Send(keyMsgMod('e'))
	scr.waitText(t, "written in the editor", "second line")
	key(tm, "enter")
	scr.waitText(t, "you ✓", "written in the editor")
}
