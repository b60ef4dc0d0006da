package cli

import (
	"strings"
	"testing"
)

// TestSendReportsTheBuildersReason: a reply, reaction, edit or delete the
// content builder refuses is reported with the builder's reason, and nothing
// reaches the outbox. (A shadowed err once dropped the reason, and the nil
// message failed later as "mimiContent: nil message".)
func TestSendReportsTheBuildersReason(t *testing.T) {
	env := newClientEnv(t, "alice")
	env.must("alice", []string{"room", "create"}, "lobby")
	id := env.must("alice", []string{"send", "--room", "lobby"}, "hello")[0]
	zero := strings.Repeat("0", 64)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"reaction of two emojis", []string{"--react", id, "👍👎"}, "build reaction: must be one grapheme cluster"},
		{"blank reaction", []string{"--react", id, " "}, "build reaction: must be visible"},
		{"edit of the zero ID", []string{"--edit", zero, "new text"}, "build replaces: edit needs the first version's message ID"},
		{"delete of the zero ID", []string{"--delete", zero}, "build replaces: delete needs the first version's message ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := env.run("alice", []string{"send", "--room", "lobby"}, tc.args...)
			if code != 1 || !strings.Contains(errs, tc.want) || strings.Contains(errs, "nil message") {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errs, tc.want)
			}
		})
	}
	// Nothing was queued: the next send is the room's next event.
	if f := env.must("alice", []string{"send", "--room", "lobby"}, "after"); f[1] != "3" {
		t.Fatalf("seq after the refused sends = %s, want 3", f[1])
	}
}

// TestHTTPRelayURL: an http:// relay URL, with or without the /v1 path, is
// dialled as the websocket URL (it used to pass the config check and then
// fail in the dialer after retries).
func TestHTTPRelayURL(t *testing.T) {
	env := newClientEnv(t, "alice")
	for _, relay := range []string{"http://" + env.srv.Addr() + "/v1", "http://" + env.srv.Addr()} {
		flags := append([]string{}, env.flags["alice"]...)
		flags[1] = relay
		code, out, errs := runArgs(append([]string{"rooms"}, flags...))
		if code != 0 || out != "" {
			t.Fatalf("rooms --relay %s: exit %d %q %q", relay, code, out, errs)
		}
	}
}
