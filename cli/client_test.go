package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/relay"
)

// clientEnv is a real relay plus per-user flags for the client commands.
type clientEnv struct {
	t     *testing.T
	srv   *relay.Server
	flags map[string][]string // user name -> connection flags
}

func newClientEnv(t *testing.T, users ...string) *clientEnv {
	t.Helper()
	srv, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: t.TempDir(), Domain: "example.com",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	env := &clientEnv{t: t, srv: srv, flags: map[string][]string{}}
	for _, name := range users {
		u, tok, err := srv.Store().AddUser("example.com", name)
		if err != nil {
			t.Fatal(err)
		}
		env.flags[name] = []string{"--relay", "ws://" + srv.Addr() + "/v1", "--user", u.URI, "--token", tok,
			"--data-dir", t.TempDir(), "--timeout", "10s"}
	}
	return env
}

// run runs `mimichat CMD [SUB] <user's flags> ARGS...` and returns the exit
// code and the output streams.
func (e *clientEnv) run(user string, cmd []string, args ...string) (int, string, string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	full := append(append(append([]string{}, cmd...), e.flags[user]...), args...)
	code := run(full, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

// must runs a command that must succeed and returns its output fields.
func (e *clientEnv) must(user string, cmd []string, args ...string) []string {
	e.t.Helper()
	code, out, errs := e.run(user, cmd, args...)
	if code != 0 {
		e.t.Fatalf("%s %v %v: exit %d\nstdout: %s\nstderr: %s", user, cmd, args, code, out, errs)
	}
	return strings.Fields(out)
}

func TestClientCommandsEndToEnd(t *testing.T) {
	env := newClientEnv(t, "alice", "bob")
	const room = "mimi://example.com/r/lobby"
	if got := env.must("alice", []string{"room", "create"}, "--name", "Lobby", "--topic", "hi", "lobby"); len(got) != 2 || got[0] != room {
		t.Fatalf("room create printed %v", got)
	}
	// Bob's device registers first: the room is end-to-end encrypted, and
	// an invitation adds the invitee's devices to its group.
	env.must("bob", []string{"rooms"})
	env.must("alice", []string{"room", "invite"}, "lobby", "bob")
	env.must("bob", []string{"room", "join"}, room)
	env.must("alice", []string{"room", "set-topic"}, "lobby", "release day")

	sendOut := func(user string, args ...string) (string, string) {
		f := env.must(user, []string{"send", "--room", "lobby"}, args...)
		if len(f) != 2 || len(f[0]) != 64 {
			t.Fatalf("send %v printed %v, want ID and seq", args, f)
		}
		return f[0], f[1]
	}
	hello, _ := sendOut("alice", "hello **world**")
	sendOut("bob", "--reply", hello, "hi alice")
	sendOut("bob", "--react", hello, "👍")
	edited, _ := sendOut("alice", "--edit", hello, "hello everyone")
	sendOut("alice", "--delete", edited)
	sendOut("bob", "--knock")

	code, out, errs := env.run("bob", []string{"tail"}, "--room", "lobby", "--since", "0", "--json", "--count", "20", "--timeout", "3s")
	if code != 1 || !strings.Contains(errs, "deadline") {
		// 12 events exist; asking for 20 ends by the timeout.
		t.Fatalf("tail exit %d, stderr %q", code, errs)
	}
	var kinds []string
	var lines []entryLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e entryLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("tail --json line %q: %v", l, err)
		}
		lines = append(lines, e)
		kinds = append(kinds, e.Kind)
	}
	want := "create name topic invite join topic message reply reaction edit delete knock"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("tail kinds:\n got %s\nwant %s", got, want)
	}
	for i, l := range lines {
		if l.Seq != uint64(i+1) || l.Room != room {
			t.Fatalf("line %d: seq %d room %s", i, l.Seq, l.Room)
		}
	}
	byKind := map[string]entryLine{}
	for _, l := range lines {
		byKind[l.Kind] = l
	}
	if m := byKind["message"]; m.Text != "hello world" || m.ID != hello || m.Sender != "mimi://example.com/u/alice" {
		t.Errorf("message line %+v", m)
	}
	if r := byKind["reply"]; r.InReplyTo != hello || r.Text != "hi alice" {
		t.Errorf("reply line %+v", r)
	}
	if r := byKind["reaction"]; r.InReplyTo != hello || r.Text != "👍" {
		t.Errorf("reaction line %+v", r)
	}
	if e := byKind["edit"]; e.Replaces != hello || e.Text != "hello everyone" {
		t.Errorf("edit line %+v", e)
	}
	if d := byKind["delete"]; d.Replaces != hello {
		t.Errorf("delete of the edit must replace the first version: %+v", d)
	}
	if k := byKind["knock"]; !strings.Contains(k.Text, "bob") {
		t.Errorf("knock line %+v", k)
	}

	// Plain text form: one line per event, from a given seq.
	code, out, errs = env.run("alice", []string{"tail"}, "--room", room, "--since", "10", "--count", "2")
	if code != 0 {
		t.Fatalf("tail: exit %d: %s", code, errs)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	if len(got) != 2 || !strings.HasPrefix(got[0], "11 ") || !strings.Contains(got[0], " mimi://example.com/u/alice delete ") ||
		!strings.HasPrefix(got[1], "12 ") || !strings.Contains(got[1], " knock 🔔 Knock knock! bob") {
		t.Fatalf("tail text:\n%s", out)
	}

	f := env.must("bob", []string{"rooms"})
	if strings.Join(f, " ") != room+" joined member 12 Lobby" {
		t.Fatalf("rooms printed %v", f)
	}
	code, out, _ = env.run("alice", []string{"room", "info"}, "lobby")
	if code != 0 || !strings.Contains(out, "topic release day\n") || !strings.Contains(out, "member mimi://example.com/u/bob joined member\n") {
		t.Fatalf("room info: %d\n%s", code, out)
	}
	env.must("alice", []string{"room", "role"}, "lobby", "bob", "moderator")
	env.must("bob", []string{"room", "set-name"}, "lobby", "Bob's lobby")
	env.must("bob", []string{"room", "set-receipts"}, "--room", "lobby", "off")
	code, out, _ = env.run("bob", []string{"room", "info"}, "lobby")
	if code != 0 || !strings.Contains(out, "join invite\nreceipts off\nhead ") {
		t.Fatalf("room info after set-receipts: %d\n%s", code, out)
	}
	env.must("alice", []string{"room", "set-receipts"}, "lobby", "on")
	env.must("alice", []string{"room", "kick"}, "lobby", "bob", "bye")
	env.must("alice", []string{"room", "invite"}, "lobby", "bob")
	env.must("alice", []string{"room", "ban"}, "lobby", "bob", "really bye")
	env.must("alice", []string{"room", "unban"}, "lobby", "bob")
	code, _, errs = env.run("bob", []string{"send", "--room", "lobby"}, "let me in")
	if code != 1 || !strings.Contains(errs, "not_member") {
		t.Fatalf("send by a non-member: exit %d, %q", code, errs)
	}
	env.must("alice", []string{"room", "leave"}, "lobby")
}

func TestClientCommandUsageErrors(t *testing.T) {
	env := newClientEnv(t, "alice")
	tests := []struct {
		cmd  []string
		args []string
		msg  string
	}{
		{[]string{"send"}, []string{"hi"}, "--room is required"},
		{[]string{"send"}, []string{"--room", "r"}, "TEXT is required"},
		{[]string{"send"}, []string{"--room", "r", "--reply", "00", "x"}, "--reply: message ID"},
		{[]string{"send"}, []string{"--room", "r", "--knock", "--delete", strings.Repeat("0", 64)}, "exclude each other"},
		{[]string{"send"}, []string{"--room", "r", "--delete", strings.Repeat("0", 64), "text"}, "takes no TEXT"},
		{[]string{"tail"}, []string{}, "--room is required"},
		{[]string{"room"}, nil, "missing subcommand"},
		{[]string{"room", "fly"}, nil, "unknown subcommand"},
		{[]string{"room"}, []string{"fly"}, `unknown subcommand "fly"`},
		{[]string{"room"}, []string{"--json"}, "missing subcommand"},
		{[]string{"relay", "user"}, nil, "missing subcommand"},
		{[]string{"room", "invite"}, []string{"lobby"}, "takes 2 to 2 arguments"},
		{[]string{"room", "role"}, []string{"lobby", "bob", "king"}, "want member, moderator or owner"},
		{[]string{"room", "set-receipts"}, []string{"--room", "lobby", "maybe"}, "want on or off"},
		{[]string{"room", "set-receipts"}, []string{"lobby"}, "takes 2 to 2 arguments"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(append(tc.cmd, tc.args...), " "), func(t *testing.T) {
			var code int
			var errs string
			if tc.args == nil && tc.cmd[0] == "room" || tc.cmd[0] == "relay" {
				var out, eb bytes.Buffer
				code = run(tc.cmd, stdio{in: strings.NewReader(""), out: &out, err: &eb})
				errs = eb.String()
			} else {
				code, _, errs = env.run("alice", tc.cmd, tc.args...)
			}
			if code != 2 || !strings.Contains(errs, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errs, tc.msg)
			}
		})
	}
}

func TestClientConfigFileAndBadToken(t *testing.T) {
	env := newClientEnv(t, "alice")
	dir := t.TempDir()
	fl := env.flags["alice"]
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(fl[5]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("[client]\nrelay = %q\nuser = %q\ntoken_file = \"token\"\ndata_dir = \"data\"\n", fl[1], fl[3])
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"room", "create", "--config", path, "cfg"}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != 0 || !strings.HasPrefix(out.String(), "mimi://example.com/r/cfg ") {
		t.Fatalf("room create with --config: %d %q %q", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "mimichat.db")); err != nil {
		t.Fatalf("data_dir relative to the config file: %v", err)
	}
	// A wrong token stops at once with the relay's reason, not a timeout.
	out.Reset()
	errb.Reset()
	start := time.Now()
	// (In a new data directory: one that has its own token uses it first.)
	code = run([]string{"rooms", "--config", path, "--token", "mct_wrong", "--data-dir", t.TempDir()}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != 1 || !strings.Contains(errb.String(), "auth_failed") || time.Since(start) > 5*time.Second {
		t.Fatalf("bad token: exit %d after %v, %q", code, time.Since(start), errb.String())
	}
	// A config error names the key.
	if err := os.WriteFile(path, []byte("[client]\nrelay = \"ftp://x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	code = run([]string{"rooms", "--config", path}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != 1 || !strings.Contains(errb.String(), "client.relay") {
		t.Fatalf("bad config: exit %d, %q", code, errb.String())
	}
}

func TestSendWhileRelayDownIsDeliveredByTheNextRun(t *testing.T) {
	env := newClientEnv(t, "alice")
	env.must("alice", []string{"room", "create"}, "lobby")
	// Same user and data dir, but a relay address where nothing listens.
	down := append([]string{}, env.flags["alice"]...)
	down[1] = "ws://127.0.0.1:1/v1"
	var out, errb bytes.Buffer
	code := run(append(append([]string{"send"}, down...), "--timeout", "1s", "--room", "lobby", "written offline"),
		stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != ExitPending || !strings.Contains(errb.String(), "stays in the outbox") || !strings.Contains(errb.String(), "do not send it again") {
		t.Fatalf("send with the relay down: exit %d, %q", code, errb.String())
	}
	env.must("alice", []string{"send", "--room", "lobby"}, "written online")
	_, tailOut, _ := env.run("alice", []string{"tail"}, "--room", "lobby", "--since", "0", "--json", "--count", "3")
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(tailOut), "\n") {
		var e entryLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		count[e.Text]++
	}
	if count["written offline"] != 1 || count["written online"] != 1 {
		t.Fatalf("log after the second run: %v\n%s", count, tailOut)
	}
}
