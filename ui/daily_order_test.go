package ui

// Room numbers stay put (issue 14 #13).

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRoomNumbersStayPut: a rename moves no room in the list, a restart
// keeps the numbers, and a room joined later comes last whatever its name.
func TestRoomNumbersStayPut(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	open := rl.reopener("you")
	you := open()
	alpha := openRoom(t, owner, "alpha", "Alpha", you)
	openRoom(t, owner, "beta", "Beta", you)
	openRoom(t, owner, "gamma", "Gamma", you)
	list := func(s string) string { // the room list column, rows joined
		var rows []string
		ls := strings.Split(s, "\n")
		if len(ls) < 5 {
			return ""
		}
		for _, l := range ls[1:5] {
			rows = append(rows, strings.TrimSpace(strings.SplitN(l, "│", 2)[0]))
		}
		return strings.Join(rows, ",")
	}
	want := func(scr *screen, rows string) {
		t.Helper()
		scr.waitFor(t, "room list "+rows, func(s string) bool { return list(s) == rows })
	}
	tm, _, scr := startUI(t, you, 100, 20, Options{Room: alpha})
	want(scr, "1 Alpha,2 Beta,3 Gamma,")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := owner.SetName(ctx, alpha, "Zulu"); err != nil {
		t.Fatal(err)
	}
	want(scr, "1 Zulu,2 Beta,3 Gamma,")
	tm.Send(keyMsgMod('1'))
	scr.waitFor(t, "alt+1 opens Zulu", func(s string) bool { return startsWithRoom(s, "Zulu") })
	tm.Quit()
	you.Close()

	you = open()
	tm, _, scr = startUI(t, you, 100, 20, Options{})
	want(scr, "1 Zulu,2 Beta,3 Gamma,")
	openRoom(t, owner, "aardvark", "Aardvark", you)
	want(scr, "1 Zulu,2 Beta,3 Gamma,4 Aardvark")
	tm.Send(keyMsgMod('3'))
	scr.waitFor(t, "alt+3 opens Gamma", func(s string) bool { return startsWithRoom(s, "Gamma") })
}
