package booth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay"
	"mimichat/session"
	"mimichat/ui"
)

// TestPoolAccountsOnARealRelay: --relay URL --accounts FILE. A relay of
// its own (no demo, no peers), two accounts made as `relay user add` makes
// them and appended to a file; two visitors get them and chat in the
// --rooms room; a third is told every account is in use.
func TestPoolAccountsOnARealRelay(t *testing.T) {
	dir := t.TempDir()
	srv, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: filepath.Join(dir, "relay"), Domain: "booth.example",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	url := "ws://" + srv.Addr() + "/v1"
	var file strings.Builder
	file.WriteString("# booth accounts\n")
	tokens := map[string]string{}
	for _, n := range []string{"ann", "ben", "host"} {
		u, tok, err := srv.Store().AddUser("booth.example", n)
		if err != nil {
			t.Fatal(err)
		}
		tokens[n] = tok
		if n != "host" {
			fmt.Fprintf(&file, "user  %s\ntoken %s\n\n", u.URI, tok)
		}
	}
	// The operator's own account opens the room the visitors join.
	host, err := session.Open(session.Options{Relay: url, User: proto.UserURI("booth.example", "host"), Token: tokens["host"],
		DataDir: filepath.Join(dir, "host")})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	host.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := host.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := host.CreateRoom(ctx, session.CreateRoomOptions{Slug: "lobby", Name: "Lobby", Join: proto.JoinOpen})
	if err != nil {
		t.Fatal(err)
	}
	accPath := filepath.Join(dir, "accounts")
	if err := os.WriteFile(accPath, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	pool, err := LoadPoolAccounts(accPath, url, filepath.Join(dir, "visitors"), []string{res.Room})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Start(Config{Listen: "127.0.0.1:0", HostKey: filepath.Join(dir, "host_key"), Accounts: pool,
		UI: ui.Options{Theme: "dark", Notify: "off"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	// "ben" asks for ben's account and gets it; "zed" gets the free one.
	ben := dialVisitor(t, b.Addr(), "ben", 100, 30)
	zed := dialVisitor(t, b.Addr(), "zed", 100, 30)
	ben.waitFor(t, "ben", "/u/ben", 20*time.Second)
	zed.waitFor(t, "zed", "/u/ann", 20*time.Second)
	zed.waitFor(t, "zed", "Lobby", 10*time.Second)
	zed.typeText(t, "hi from the pool\r")
	ben.waitFor(t, "ben", "hi from the pool", 10*time.Second)
	third := dialVisitor(t, b.Addr(), "cat", 100, 30)
	third.waitFor(t, "cat", "Every visitor account of this booth is in use", 10*time.Second)
}

func TestAccountsFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, text string
		line       int
	}{
		{"token first", "token t\n", 1},
		{"not a URI", "user ann\ntoken t\n", 1},
		{"no token", "user mimi://x/u/ann\n", 1},
		{"twice", "user mimi://x/u/ann\ntoken a\nuser mimi://x/u/ann\ntoken b\n", 3},
		{"empty token", "user mimi://x/u/ann\ntoken\n", 2},
		{"empty", "# nobody\n", 1},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
		os.WriteFile(p, []byte(tt.text), 0o600)
		_, err := LoadPoolAccounts(p, "ws://127.0.0.1:1/v1", dir, nil)
		var ae *AccountsFileError
		if !errors.As(err, &ae) || ae.Line != tt.line {
			t.Errorf("%s: %v, want an AccountsFileError at line %d", tt.name, err, tt.line)
		}
	}
}
