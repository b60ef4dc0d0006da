package cli

import (
	"encoding/json"
	"fmt"
	"mimichat/owner"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// hostile is text another user controls (a room name, a topic, a message):
// a screen clear, an OSC 52 clipboard write ended by BEL, a lone BEL, a
// right-to-left override, a UTF-8 encoded C1 CSI (U+009B) and DEL.
const hostile = "Evil\x1b[2J\x1b]52;c;aGFja2Vk\x07 ding\x07 \u202egnp.exe \u009b31mred\x7f end"

// rawControl names the first character in s a terminal would act on, or ""
// when there is none (line breaks and tabs are the output's own layout).
func rawControl(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8 (a raw 8-bit C1?)"
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return fmt.Sprintf("control %U", r)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return fmt.Sprintf("bidi control %U", r)
		}
	}
	return ""
}

// checkNeutralized fails when stdout or stderr of a command has a raw
// control, and when any of want (the visible replacements) is missing from
// the two together.
func checkNeutralized(t *testing.T, what, stdout, stderr string, want ...string) {
	t.Helper()
	for name, s := range map[string]string{"stdout": stdout, "stderr": stderr} {
		if c := rawControl(s); c != "" {
			t.Errorf("%s: %s has a raw %s: %q", what, name, c, s)
		}
	}
	for _, w := range want {
		if !strings.Contains(stdout+stderr, w) {
			t.Errorf("%s: output lacks %q:\nstdout %q\nstderr %q", what, w, stdout, stderr)
		}
	}
}

// The visible forms of hostile's parts, as the terminal client shows them.
var hostileShown = []string{"Evil␛␛ ding␇ ⟪RLO⟫gnp.exe ␛red␡ end"}

// TestHostileRoomTextIsNeutralized: a room name, topic and message set
// through a real relay reach `rooms`, `room info` and `tail` (text) of
// another member with every control made visible; their --json output
// keeps the exact text with the controls escaped; refusals that quote a
// hostile room or user name print it neutralized on stderr.
func TestHostileRoomTextIsNeutralized(t *testing.T) {
	env := newClientEnv(t, "alice", "bob")
	env.must("alice", []string{"room", "create"}, "--name", hostile, "--topic", hostile, "lobby")
	env.must("bob", []string{"rooms"}) // bob's device, for the encrypted room's invitation
	env.must("alice", []string{"room", "invite"}, "lobby", "bob")

	// Invited: bob only lists his rooms.
	code, out, errs := env.run("bob", []string{"rooms"})
	if code != 0 {
		t.Fatalf("rooms: exit %d, stderr %q", code, errs)
	}
	checkNeutralized(t, "rooms", out, errs, hostileShown...)

	env.must("bob", []string{"room", "join"}, "lobby")
	env.must("alice", []string{"send", "--room", "lobby"}, hostile)

	code, out, errs = env.run("bob", []string{"room", "info"}, "lobby")
	if code != 0 {
		t.Fatalf("room info: exit %d, stderr %q", code, errs)
	}
	checkNeutralized(t, "room info", out, errs, "name "+hostileShown[0], "topic "+hostileShown[0])

	// create, name, topic, invite, join, message.
	code, out, errs = env.run("bob", []string{"tail"}, "--room", "lobby", "--since", "0", "--count", "6")
	if code != 0 {
		t.Fatalf("tail: exit %d, stderr %q", code, errs)
	}
	checkNeutralized(t, "tail", out, errs, "/alice message "+hostileShown[0]+"\n")

	t.Run("json", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			cmd   []string
			args  []string
			exact func(line []byte) []string // the hostile fields, decoded
		}{
			{"rooms", []string{"rooms"}, []string{"--json"}, func(line []byte) []string {
				var r struct{ Name, Topic string }
				json.Unmarshal(line, &r)
				return []string{r.Name, r.Topic}
			}},
			{"room info", []string{"room", "info"}, []string{"--json", "lobby"}, func(line []byte) []string {
				var r struct{ Name, Topic string }
				json.Unmarshal(line, &r)
				return []string{r.Name, r.Topic}
			}},
			{"tail", []string{"tail"}, []string{"--json", "--room", "lobby", "--since", "5", "--count", "1"}, func(line []byte) []string {
				var e entryLine
				json.Unmarshal(line, &e)
				return []string{e.Text}
			}},
		} {
			code, out, errs := env.run("bob", tc.cmd, tc.args...)
			if code != 0 {
				t.Fatalf("%s: exit %d, stderr %q", tc.name, code, errs)
			}
			checkNeutralized(t, tc.name+" --json", out, errs)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for _, f := range tc.exact([]byte(lines[len(lines)-1])) {
				if f != hostile {
					t.Errorf("%s --json: decoded %q, want the exact %q", tc.name, f, hostile)
				}
			}
		}
	})

	// The same commands while another process owns bob's data directory:
	// what its owner relays over the control socket is printed the same way.
	t.Run("through the owner", func(t *testing.T) {
		dataDir := ""
		for i, f := range env.flags["bob"] {
			if f == "--data-dir" {
				dataDir = env.flags["bob"][i+1]
			}
		}
		tailDone := make(chan string, 1)
		go func() {
			// Only new events: it ends with alice's next message.
			code, out, errs := env.run("bob", []string{"tail"}, "--room", "lobby", "--count", "1")
			tailDone <- fmt.Sprintf("exit %d\n%s%s", code, out, errs)
		}()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(dataDir, owner.SocketFile)); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the tail never served the data directory's control socket")
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, tc := range []struct {
			name string
			cmd  []string
			args []string
			exit int
			want string
		}{
			{"rooms", []string{"rooms"}, nil, 0, hostileShown[0]},
			{"room info", []string{"room", "info"}, []string{"lobby"}, 0, "topic " + hostileShown[0]},
			{"tail", []string{"tail"}, []string{"--room", "lobby", "--since", "5", "--count", "1"}, 0, "/alice message " + hostileShown[0]},
			{"room info refused", []string{"room", "info"}, []string{"mimi://example.com/r/x" + hostile}, 1, "x" + hostileShown[0]},
			{"send refused", []string{"send"}, []string{"--room", "mimi://example.com/r/x" + hostile, "hi"}, 1, "x" + hostileShown[0]},
		} {
			code, out, errs := env.run("bob", tc.cmd, tc.args...)
			if code != tc.exit {
				t.Errorf("%s: exit %d, want %d; stderr %q", tc.name, code, tc.exit, errs)
			}
			checkNeutralized(t, tc.name+" through the owner", out, errs, tc.want)
		}
		env.must("alice", []string{"send", "--room", "lobby"}, hostile)
		select {
		case got := <-tailDone:
			checkNeutralized(t, "the owning tail", got, "", "exit 0\n", "/alice message "+hostileShown[0])
		case <-time.After(15 * time.Second):
			t.Fatal("the owning tail did not print alice's message")
		}
	})

	t.Run("refusals", func(t *testing.T) {
		badRoom := "mimi://example.com/r/x" + hostile
		for _, tc := range []struct {
			name string
			cmd  []string
			args []string
		}{
			{"room info of a room the relay does not have", []string{"room", "info"}, []string{badRoom}},
			{"send to a room the relay does not have", []string{"send"}, []string{"--room", badRoom, "hi"}},
			{"tail of a room that is not the user's", []string{"tail"}, []string{"--room", badRoom, "--count", "1"}},
		} {
			code, out, errs := env.run("alice", tc.cmd, tc.args...)
			if code != 1 {
				t.Errorf("%s: exit %d, want 1; stderr %q", tc.name, code, errs)
			}
			checkNeutralized(t, tc.name, out, errs, "x"+hostileShown[0])
		}
		// The refused send stays Failed with the relay's reason.
		code, out, errs := env.run("alice", []string{"outbox", "list"})
		if code != 0 {
			t.Fatalf("outbox list: exit %d, stderr %q", code, errs)
		}
		checkNeutralized(t, "outbox list", out, errs, "x"+hostileShown[0])
		code, out, errs = env.run("alice", []string{"outbox", "list"}, "--json")
		if code != 0 {
			t.Fatalf("outbox list --json: exit %d, stderr %q", code, errs)
		}
		checkNeutralized(t, "outbox list --json", out, errs)
		var item outboxLine
		if err := json.Unmarshal([]byte(out), &item); err != nil || !strings.Contains(item.Error, "x"+hostile) {
			t.Errorf("outbox list --json: %v, error %q, want the exact room name in it", err, item.Error)
		}
	})
}
