package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/history/cache"
	"mimichat/session"
)

// A room made by importing a vCon shows what the history said of it: the
// description above the member list, the members it named (the relay does
// not know the room) with their display names, the owner marked.
func TestImportedRoomProfile(t *testing.T) {
	r := startRelay(t)
	u, tok, err := r.srv.Store().AddUser(testDomain, "alice")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := session.OpenStore(filepath.Join(dir, session.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.Open("../history/testdata/spec/vcon/unkept.json")
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	if _, _, _, err := cache.ImportFile(st, doc, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(session.Options{Relay: "ws://" + r.srv.Addr() + "/v1", User: u.URI, Token: tok, DataDir: dir,
		Backoff: session.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, scr := startUI(t, s, 150, 30, Options{Room: "mimi://example.com/r/offsite"})
	if err := s.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	scr.waitText(t, "About", "Where and when we meet", "Members 2")
	scr.waitFor(t, "Alice Liddell, owner", func(s string) bool { return strings.Contains(s, "Alice Liddell ★") })
	scr.waitMember(t, "bob")
}

// TestProfileRefreshAndMemberNames: a profile saved into the running
// client's cache (as an import into its data directory does) shows without
// a restart, and the member overlay and @-completion use its display
// names, with the URI after them (issue 15).
func TestProfileRefreshAndMemberNames(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "names", "Names", you)
	tm, _, scr := startUI(t, you, 150, 30, Options{Room: room})
	scr.waitMember(t, "owner")
	err := you.Store().SaveProfile(room, session.RoomProfile{}, []session.MemberProfile{{User: owner.User(), Name: "Olive Owner", Role: "owner"}})
	if err != nil {
		t.Fatal(err)
	}
	scr.waitMember(t, "Olive Owner")
	typeText(tm, "/members")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitFor(t, "the overlay names Olive Owner with her URI", func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if i := strings.Index(l, "Olive Owner ★ owner"); i >= 0 && strings.Contains(l[i:], owner.User()) {
				return true
			}
		}
		return false
	})
	key(tm, "esc")
	typeText(tm, "@oli")
	scr.waitText(t, "@Olive Owner  "+owner.User())
}
