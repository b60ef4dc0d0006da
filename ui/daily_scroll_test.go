package ui

// Scrolling (issue 14 #3): by lines, never skipping a message, never an
// empty pane while rows exist, the selection kept on screen.

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/session"
)

// sendAcked sends each Markdown text to room from s and waits until the
// relay acknowledged them all and the cache holds them.
func sendAcked(t *testing.T, s *session.Session, room string, texts []string) {
	t.Helper()
	for _, txt := range texts {
		m, err := s.Builder(room).Markdown(txt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(room, m); err != nil {
			t.Fatal(err)
		}
	}
	waitCached(t, s, room, len(texts))
}

// mixedHeights is n messages, every 7th one 30 lines tall (taller than an
// 80x24 pane), the others 1 to 3 lines; line l of message i reads mII.LL.
func mixedHeights(n int) (texts []string, lines int) {
	for i := range n {
		h := i%3 + 1
		if i%7 == 3 {
			h = 30
		}
		var b strings.Builder
		for l := range h {
			if l > 0 {
				b.WriteString("\n\n")
			}
			fmt.Fprintf(&b, "m%02d.%02d", i, l)
		}
		texts = append(texts, b.String())
		lines += h
	}
	return texts, lines
}

var lineToken = regexp.MustCompile(`m\d\d\.\d\d`)

// TestScrollByRows: paging up from the newest message to the first, and
// back down, shows every line of every message (tall ones are entered and
// scrolled through); no pane is empty; ctrl+home shows the first message
// at the top of a full pane; the "↓ N newer" line covers no row.
func TestScrollByRows(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	room := openRoom(t, owner, "tall", "Tall")
	texts, total := mixedHeights(40)
	sendAcked(t, owner, room, texts)
	tm, _, scr := startUI(t, owner, 80, 24, Options{Room: room})
	scr.waitText(t, "m39.00")
	walk := func(dir string, k tea.KeyPressMsg, done string) {
		t.Helper()
		seen := map[string]bool{}
		last := scr.text()
		for steps := 0; ; steps++ {
			toks := lineToken.FindAllString(last, -1)
			if len(toks) < 5 {
				t.Fatalf("%s: a pane with %d message lines:\n%s", dir, len(toks), last)
			}
			for _, tok := range toks {
				seen[tok] = true
			}
			if strings.Contains(last, done) || steps > 200 {
				break
			}
			prev := last
			tm.Send(k)
			last = scr.waitFor(t, dir+" step", func(s string) bool { return timelineOf(s) != timelineOf(prev) })
		}
		if len(seen) != total {
			var missing []string
			for _, txt := range texts {
				for _, l := range strings.Split(txt, "\n\n") {
					if !seen[l] {
						missing = append(missing, l)
					}
				}
			}
			t.Fatalf("%s: %d of %d lines shown; never on screen: %v", dir, len(seen), total, missing)
		}
	}
	walk("page up", keyMsg("pgup"), "m00.00")
	walk("page down", keyMsg("pgdown"), "m39.00")

	tm.Send(tea.KeyPressMsg{Code: tea.KeyHome, Mod: tea.ModCtrl})
	txt := scr.waitText(t, "m00.00")
	lines := strings.Split(txt, "\n")
	// the room's first row (the day separator above it) is the pane's top,
	// and the pane is full down to the hint
	if !strings.Contains(lines[2], "Today") || !strings.Contains(lines[3], "created the room") {
		t.Fatalf("ctrl+home: the first row is not at the pane's top:\n%s", txt)
	}
	if n := len(lineToken.FindAllString(txt, -1)); n < 6 {
		t.Fatalf("ctrl+home: %d message lines on a 24-line screen:\n%s", n, txt)
	}
	// the hint has its own line: the line above it is a row's, not covered
	// (a blank line there is one between a message's paragraphs: the line
	// above it is that message's, with more paragraphs to come)
	pane := func(i int) string { return strings.TrimSpace(strings.SplitN(lines[i], "│", 2)[1]) }
	for i, l := range lines {
		if !strings.Contains(l, "newer ·") {
			continue
		}
		if i == 0 || pane(i-1) == "" && (i < 2 || !paragraphContinues(texts, pane(i-2))) {
			t.Fatalf("the hint line is not under a row:\n%s", txt)
		}
	}
}

// paragraphContinues reports whether line shows a paragraph mNN.PP of
// texts (mixedHeights) after which message NN has another paragraph.
func paragraphContinues(texts []string, line string) bool {
	tok := lineToken.FindString(line)
	if tok == "" {
		return false
	}
	var n, p int
	if _, err := fmt.Sscanf(tok, "m%02d.%02d", &n, &p); err != nil || n >= len(texts) {
		return false
	}
	return p+1 < strings.Count(texts[n], "\n\n")+1
}

// timelineOf is a frame's message lines (the status line's clock and
// connection state change on their own).
func timelineOf(frame string) string { return strings.Join(lineToken.FindAllString(frame, -1), " ") }

// TestHistoryOfRoomJoinedInSession: a room with 700 messages (more than
// the session backfills) that the user is invited to and joins with /join
// during the session scrolls back to its first message. The invitation
// listed the room with no cursor, so its lowest loaded seq said 1 and no
// older page was ever asked for.
func TestHistoryOfRoomJoinedInSession(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	openRoom(t, owner, "lobby", "Lobby", you)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	room := "mimi://" + testDomain + "/r/big"
	// Plaintext: in an end-to-end encrypted room a member invited later
	// cannot decrypt the messages from before (session's
	// TestNewMemberCannotDecryptEarlier); this test is about paging.
	if _, err := owner.CreateRoom(ctx, session.CreateRoomOptions{Slug: "big", Name: "Big", Plaintext: true}); err != nil {
		t.Fatal(err)
	}
	texts := make([]string, 700)
	for i := range texts {
		texts[i] = fmt.Sprintf("big message %03d", i)
	}
	sendAcked(t, owner, room, texts)
	tm, _, scr := startUI(t, you, 100, 30, Options{})
	scr.waitText(t, "│Lobby")
	if _, err := owner.Invite(ctx, room, you.User()); err != nil {
		t.Fatal(err)
	}
	scr.waitText(t, "✉ Big")
	typeText(tm, "/join "+room)
	key(tm, "esc")
	key(tm, "enter")
	scr.waitText(t, "│Big", "big message 699")
	home := tea.KeyPressMsg{Code: tea.KeyHome, Mod: tea.ModCtrl}
	scr.waitFor(t, "the first message after ctrl+home", func(s string) bool {
		if strings.Contains(s, "big message 000") {
			return true
		}
		tm.Send(home)
		return false
	})
}
