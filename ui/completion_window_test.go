package ui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

var completionRow = regexp.MustCompile(`│ /[a-z-]+  `)

// TestSlashCompletionFitsScreen: `/` alone lists every command. The list
// was drawn whole above the composer, so at 80x24 (and at 160x48) it pushed
// the room header and its first items off the top: the selected item,
// /reply, and then /react after tab, could not be seen. It now shows a
// page of at most completionRows items holding the selection, and says
// which ones out of how many.
func TestSlashCompletionFitsScreen(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "lobby", "Lobby", you)
	n := len(slashCommands())
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			tm, _, scr := startUI(t, you, size[0], size[1], Options{Room: room})
			scr.waitText(t, "Lobby", "Write a message")
			// visible waits for sel drawn selected and the page from–to
			// listed, then checks the header and the list's height.
			visible := func(sel string, from, to int) {
				t.Helper()
				page := fmt.Sprintf(" %d–%d of %d", from, to, n)
				scr.waitRaw(t, sel+" selected on "+page, func(raw string) bool {
					return strings.Contains(ansi.Strip(raw), page) && selectedRow(raw, sel)
				})
				s := scr.text()
				lines := strings.Split(s, "\n")
				if !strings.HasPrefix(lines[0], "Rooms") || !strings.Contains(lines[0], "Lobby") {
					t.Errorf("the room header is gone under the list:\n%s", s)
				}
				if c := len(completionRow.FindAllString(s, -1)); c > completionRows {
					t.Errorf("%d completion rows, want at most %d:\n%s", c, completionRows, s)
				}
			}
			typeText(tm, "/")
			visible("/reply", 1, completionRows)
			key(tm, "tab")
			visible("/react", 1, completionRows)
			tm.Send(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
			tm.Send(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}) // past the first: the last command
			last := slashCommands()[n-1].slash
			from := (n-1)/completionRows*completionRows + 1
			visible("/"+last, from, n)
			key(tm, "esc")
		})
	}
}

// selectedRow reports whether the frame draws the completion item sel with
// a background: the codes between the pane's border and the item set one.
func selectedRow(raw, sel string) bool {
	for _, l := range strings.Split(raw, "\n") {
		if i := strings.Index(l, " "+sel+"  "); i >= 0 {
			if b := strings.LastIndex(l[:i], "│"); b >= 0 && strings.Contains(l[b:i], "48;") {
				return true
			}
		}
	}
	return false
}

// TestCompletionOpensAtFirst: a completion list opened with the selection
// its previous list was left at: `/`, tab, tab (the third command), the
// line cleared, then `@e` (now `@o`) opened the member list with its third member
// highlighted, and enter inserted a mention of someone the user never
// chose. A list that opens now starts at its first item.
func TestCompletionOpensAtFirst(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	bob := rl.session("bob")
	carol := rl.session("carol")
	you := rl.session("you")
	room := openRoom(t, owner, "lobby", "Lobby", bob, carol, you)
	tm, _, scr := startUI(t, you, 130, 30, Options{Room: room}) // the member pane from 120 columns
	scr.waitFor(t, "4 members", func(s string) bool { return strings.Contains(s, "Members 4") })
	typeText(tm, "/")
	key(tm, "tab")
	key(tm, "tab")
	third := "/" + slashCommands()[2].slash
	scr.waitRaw(t, third+" selected", func(raw string) bool { return selectedRow(raw, third) })
	key(tm, "ctrl+u") // clear the line: the list closes
	scr.waitFor(t, "list closed", func(s string) bool { return !strings.Contains(s, third+"  ") })
	typeText(tm, "@o") // every member's name has an o
	scr.waitText(t, "@owner  ", "@bob  ", "@carol  ")
	raw := scr.waitRaw(t, "a member selected", func(raw string) bool {
		return selectedRow(raw, "@owner") || selectedRow(raw, "@bob") || selectedRow(raw, "@carol")
	})
	first := ""
	for _, l := range strings.Split(ansi.Strip(raw), "\n") {
		if i := strings.Index(l, "│ @"); i >= 0 {
			first = strings.Fields(l[i+len("│ "):])[0]
			break
		}
	}
	if !selectedRow(raw, first) {
		t.Errorf("the new list does not start at its first item %s:\n%s", first, ansi.Strip(raw))
	}
}
