package ui

import (
	"strings"
	"testing"
)

// TestMentionRank: @ completion matches the name shown and the user's
// local name, best first; the domain matches only a query that looks like
// an address. "@e" listed every member of example.com before.
func TestMentionRank(t *testing.T) {
	const (
		alice = "mimi://example.com/u/alice"
		bob   = "mimi://example.com/u/bob"
		carol = "mimi://example.com/u/carol"
		bea   = "mimi://example.com/u/bea"
		abe   = "mimi://example.com/u/abe"
		jo    = "mimi://example.com/u/x7"
	)
	members := []struct{ name, uri string }{
		{"Alice", alice}, {"Bob", bob}, {"Carol", carol}, {"Abe", abe}, {"Bea", bea}, {"Mary Jo", jo},
	}
	for _, tc := range []struct {
		q    string
		want []string // names, in order
	}{
		{"e", []string{"Alice", "Abe", "Bea"}},         // contains, in the room's order; not the domain
		{"b", []string{"Bob", "Bea", "Abe"}},           // starts before contains
		{"jo", []string{"Mary Jo"}},                    // a word of the name
		{"x7", []string{"Mary Jo"}},                    // the local name
		{"exam", nil},                                  // the domain alone is no match
		{"example.com/u/b", []string{"Bob", "Bea"}},    // an address
		{"mimi://example.com/u/ca", []string{"Carol"}}, // a whole URI
		{"ca", []string{"Carol"}},
	} {
		var items []compItem
		var ranks []int
		for _, m := range members {
			if r := mentionRank(tc.q, m.name, m.uri); r >= 0 {
				items = append(items, compItem{label: m.name})
				ranks = append(ranks, r)
			}
		}
		sortByRank(items, ranks)
		var got []string
		for _, it := range items {
			got = append(got, it.label)
		}
		if len(got) != len(tc.want) {
			t.Errorf("@%s: %q, want %q", tc.q, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("@%s: %q, want %q", tc.q, got, tc.want)
				break
			}
		}
	}
}

// TestMentionCompletionSkipsDomain: on screen, "@e" lists the member whose
// name has an e, not every member of the relay's domain.
func TestMentionCompletionSkipsDomain(t *testing.T) {
	rl := startRelay(t)
	owner, bob, you := rl.session("owner"), rl.session("bob"), rl.session("you")
	room := openRoom(t, owner, "lobby", "Lobby", bob, you)
	tm, _, scr := startUI(t, you, 120, 30, Options{Room: room})
	scr.waitFor(t, "3 members", func(s string) bool { return strings.Contains(s, "Members 3") })
	typeText(tm, "hi @e")
	s := scr.waitText(t, "@owner  "+owner.User())
	if strings.Contains(s, "@bob  ") {
		t.Fatalf("@e lists bob, whose name has no e:\n%s", s)
	}
}
