package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"slices"
	"strings"
	"testing"
)

// TestParseArgs: flags are taken wherever they are on the line, knowing
// which take a value; "--" ends them.
func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		pos  []string
		room string
		json bool
		err  string
	}{
		{"flags first", []string{"--room", "r", "hello"}, []string{"hello"}, "r", false, ""},
		{"flag after text", []string{"--room", "r", "hello", "--json"}, []string{"hello"}, "r", true, ""},
		{"value flag after text", []string{"hello", "--room", "r", "world"}, []string{"hello", "world"}, "r", false, ""},
		{"equals form", []string{"hello", "--room=r"}, []string{"hello"}, "r", false, ""},
		{"single dash", []string{"-room", "r", "-json", "x"}, []string{"x"}, "r", true, ""},
		{"double dash ends flags", []string{"--room", "r", "--", "--literal", "--json"}, []string{"--literal", "--json"}, "r", false, ""},
		{"double dash first", []string{"--", "--room"}, []string{"--room"}, "", false, ""},
		{"value that looks like a flag", []string{"--room", "--json"}, nil, "--json", false, ""},
		{"lone dash is positional", []string{"-", "--json"}, []string{"-"}, "", true, ""},
		{"bool with value", []string{"--json=false", "x"}, []string{"x"}, "", false, ""},
		{"unknown flag", []string{"x", "--nope"}, nil, "", false, "flag provided but not defined: -nope"},
		{"missing value", []string{"x", "--room"}, nil, "", false, "flag needs an argument: -room"},
		{"help", []string{"x", "--help"}, nil, "", false, flag.ErrHelp.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlagSet(&command{name: "t"})
			room := fs.String("room", "", "")
			asJSON := fs.Bool("json", false, "")
			pos, err := parseArgs(fs, tc.args)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %v, want error %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pos, tc.pos) || *room != tc.room || *asJSON != tc.json {
				t.Fatalf("got pos %q room %q json %v; want %q %q %v", pos, *room, *asJSON, tc.pos, tc.room, tc.json)
			}
		})
	}
}

// TestFindCommand: the command and subcommand words are found, also after
// flags of the command they name; flags alone go to the default command.
func TestFindCommand(t *testing.T) {
	tests := []struct {
		args []string
		path string
		rest []string
	}{
		{[]string{"send", "--room", "r", "hi"}, "send", []string{"--room", "r", "hi"}},
		{[]string{"room", "info", "r", "--json"}, "room info", []string{"r", "--json"}},
		{[]string{"room", "--timeout", "5s", "info", "r"}, "room info", []string{"--timeout", "5s", "r"}},
		{[]string{"--config", "f", "rooms"}, "rooms", []string{"--config", "f"}},
		{[]string{"--config", "f", "room", "invite", "lobby", "bob"}, "room invite", []string{"--config", "f", "lobby", "bob"}},
		{[]string{"--config", "f", "room", "--json", "info", "lobby"}, "room info", []string{"--config", "f", "--json", "lobby"}},
		{[]string{"--json", "room", "invite", "lobby", "bob"}, "", []string{"--json", "room", "invite", "lobby", "bob"}},
		{[]string{"--data", "d", "relay", "user", "list"}, "relay user list", []string{"--data", "d"}},
		{[]string{"--theme", "dark", "relay", "user"}, "", []string{"--theme", "dark", "relay", "user"}},
		{[]string{"relay", "user", "--data", "d", "add", "alice"}, "relay user add", []string{"--data", "d", "alice"}},
		{[]string{"relay", "user", "list", "--data", "d"}, "relay user list", []string{"--data", "d"}},
		{[]string{"relay", "--listen", "user"}, "relay", []string{"--listen", "user"}},
		{[]string{"send", "--room", "r", "room"}, "send", []string{"--room", "r", "room"}},
		{[]string{"--theme", "demo"}, "", []string{"--theme", "demo"}},
		{[]string{"content", "decode", "-"}, "content decode", []string{"-"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, path, rest, ok := find(&command{name: "mimichat", subs: commands}, nil, tc.args)
			if got := strings.Join(path, " "); got != tc.path || ok != (tc.path != "") || !slices.Equal(rest, tc.rest) {
				t.Fatalf("got %q %q ok=%v; want %q %q", got, rest, ok, tc.path, tc.rest)
			}
		})
	}
}

// TestFlagsAnywhereEndToEnd: the command lines of issue 11 against a real
// relay.
func TestFlagsAnywhereEndToEnd(t *testing.T) {
	env := newClientEnv(t, "alice")
	env.must("alice", []string{"room", "create"}, "lobby")
	// Flags after the text are flags, not words of the message.
	env.must("alice", []string{"send", "--room", "lobby"}, "hello", "--timeout", "5s")
	env.must("alice", []string{"send"}, "two", "words", "--room", "lobby")
	// "--" ends the flags.
	env.must("alice", []string{"send", "--room", "lobby"}, "--", "--literal", "--timeout", "5s")
	_, out, errs := env.run("alice", []string{"tail"}, "--room", "lobby", "--since", "0", "--json", "--count", "4")
	var texts []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e entryLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("tail line %q: %v (stderr %s)", l, err, errs)
		}
		if e.Kind == "message" {
			texts = append(texts, e.Text)
		}
	}
	if want := []string{"hello", "two words", "--literal --timeout 5s"}; !slices.Equal(texts, want) {
		t.Fatalf("sent texts %q, want %q", texts, want)
	}
	// A flag after the room argument of a subcommand.
	code, out, errs := env.run("alice", []string{"room", "info", "lobby"}, "--json")
	var info struct {
		Room string `json:"room"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil || info.Room != "mimi://example.com/r/lobby" ||
		strings.Contains(out, `"RID"`) || strings.Contains(out, `"T"`) {
		t.Fatalf("room info lobby --json: exit %d %q %q", code, out, errs)
	}
	// The connection flags before the command word: `mimichat --relay … rooms --json`.
	code, out, errs = env.run("alice", nil, "rooms", "--json")
	if code != 0 || !strings.Contains(out, `"Room":"mimi://example.com/r/lobby"`) {
		t.Fatalf("FLAGS rooms --json: exit %d %q %q", code, out, errs)
	}
	code, out, errs = env.run("alice", nil, "room", "set-topic", "lobby", "flags first")
	if code != 0 || !strings.HasPrefix(out, "mimi://example.com/r/lobby ") {
		t.Fatalf("FLAGS room set-topic: exit %d %q %q", code, out, errs)
	}
}

// TestDefaultCommandTakesFlags: `mimichat --theme dark` runs chat (here it
// finds no account and says so), and chat reads the flag: a bad theme is
// refused as --theme before anything else.
func TestDefaultCommandTakesFlags(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	code, _, errs := runArgs([]string{"--theme", "dark"})
	if code != 1 || !strings.Contains(errs, "no account configured") {
		t.Fatalf("mimichat --theme dark: exit %d %q; want chat's missing-account message", code, errs)
	}
	code, _, errs = runArgs([]string{"--no-read-receipts", "--relay", "ftp://x"})
	if code != 1 || !strings.Contains(errs, "client.relay") {
		t.Fatalf("mimichat --relay ftp://x: exit %d %q", code, errs)
	}
	code, _, errs = runArgs([]string{"--theme", "dark", "lobby"})
	if code != 2 || !strings.Contains(errs, `unexpected argument "lobby"`) {
		t.Fatalf("mimichat --theme dark lobby: exit %d %q", code, errs)
	}
	code, _, errs = runArgs([]string{"lobby"})
	if code != 2 || !strings.Contains(errs, `unknown command "lobby"`) {
		t.Fatalf("mimichat lobby: exit %d %q", code, errs)
	}
}

// runArgs runs a command line with empty stdin.
func runArgs(args []string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}
