package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSearchCommand: `mimichat search` finds cached messages by their
// current text (end-to-end encrypted room: the cache holds the plaintext),
// marks the match, and prints network text sanitized.
func TestSearchCommand(t *testing.T) {
	env := newClientEnv(t, "alice", "bob")
	env.must("alice", []string{"room", "create"}, "--name", "Lobby", "lobby")
	env.must("bob", []string{"rooms"})
	env.must("alice", []string{"room", "invite"}, "lobby", "bob")
	env.must("bob", []string{"room", "join"}, "mimi://example.com/r/lobby")
	send := func(args ...string) string {
		f := env.must("alice", []string{"send", "--room", "lobby"}, args...)
		return f[0]
	}
	send("a haystack with a needle \x1b[2J inside")
	typo := send("neeedle typo")
	send("--edit", typo, "needle fixed")
	gone := send("needle to delete")
	send("--delete", gone)
	// bob's cache: his tail fetches the room's log
	env.run("bob", []string{"tail"}, "--room", "lobby", "--since", "0", "--count", "7", "--timeout", "5s")

	for _, user := range []string{"alice", "bob"} {
		code, out, errs := env.run(user, []string{"search"}, "--json", "need")
		if code != 0 {
			t.Fatalf("%s: search exit %d: %s", user, code, errs)
		}
		var snippets []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var r searchJSON
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%s: line %q: %v", user, l, err)
			}
			snippets = append(snippets, r.Snippet)
		}
		want := "needle fixed|a haystack with a needle \x1b[2J inside"
		if got := strings.ReplaceAll(strings.Join(snippets, "|"), "[[needle]]", "needle"); got != want {
			t.Errorf("%s: search --json snippets %q, want %q", user, got, want)
		}
	}
	code, out, _ := env.run("bob", []string{"search"}, "haystack")
	if code != 0 || !strings.Contains(out, "a [[haystack]] with a needle ␛ inside") || strings.Contains(out, "\x1b") {
		t.Errorf("search text output (exit %d): %q", code, out)
	}
	if code, _, errs := env.run("bob", []string{"search"}); code != 2 {
		t.Errorf("search with no words: exit %d (%s), want 2", code, errs)
	}
}
