package booth

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/demo"
	"mimichat/ui"
)

// startBooth runs the demo (no live script: the screens change only when
// the test acts) and a booth on loopback port 0 serving it.
func startBooth(t *testing.T, cfg Config) (*Booth, *demo.Demo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := demo.Start(ctx, demo.Options{Dir: t.TempDir(), NoScript: true, Pace: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	cfg.Listen = "127.0.0.1:0"
	if cfg.HostKey == "" {
		cfg.HostKey = filepath.Join(t.TempDir(), "host_key")
	}
	cfg.Accounts = NewDemoAccounts(d)
	if cfg.UI.Theme == "" {
		cfg.UI = ui.Options{Theme: "auto", Notify: "off"}
	}
	b, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b, d
}

// waitVisitors waits until the booth counts n visitors.
func waitVisitors(t *testing.T, b *Booth, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Visitors() != n {
		if time.Now().After(deadline) {
			t.Fatalf("the booth counts %d visitors, want %d", b.Visitors(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestThreeVisitorsSeeEachOther: three SSH visitors, each with their own
// account and terminal size, chat in the demo's rooms; what one sends shows
// on the others' screens, and so does a knock; a resize redraws at the new
// size; a visitor who drops leaves the others chatting; the host's files
// are out of reach.
func TestThreeVisitorsSeeEachOther(t *testing.T) {
	b, _ := startBooth(t, Config{})
	ann := dialVisitor(t, b.Addr(), "Ann", 80, 24)
	// Ann is in before the others arrive: they learn she is online from
	// the booth, not from her client's first announcement.
	ann.waitFor(t, "ann", "online", 20*time.Second)
	ann.waitFor(t, "ann", "General", 5*time.Second)
	ben := dialVisitor(t, b.Addr(), "ben", 160, 48)
	// Same SSH user name as the first: a different account.
	ann2 := dialVisitor(t, b.Addr(), "ann", 100, 30)
	for _, v := range []struct {
		who string
		sc  *screen
		uri string
	}{{"ann", ann, "/u/ann"}, {"ben", ben, "/u/ben"}, {"ann-2", ann2, "/u/ann-2"}} {
		v.sc.waitFor(t, v.who, "online", 20*time.Second)
		v.sc.waitFor(t, v.who, v.uri, 5*time.Second)
		v.sc.waitFor(t, v.who, "General", 5*time.Second)
	}
	waitVisitors(t, b, 3)

	ann.typeText(t, "hello from ann over ssh\r")
	ben.waitFor(t, "ben", "hello from ann over ssh", 10*time.Second)
	ann2.waitFor(t, "ann-2", "hello from ann over ssh", 10*time.Second)
	ben.typeText(t, "ben says hi\r")
	ann.waitFor(t, "ann", "ben says hi", 10*time.Second)
	ann2.waitFor(t, "ann-2", "ben says hi", 10*time.Second)

	// A knock from one visitor rings on another's screen.
	ann2.typeText(t, "/knock\r")
	ben.waitFor(t, "ben", "ann-2 knocked", 10*time.Second)

	// The 160-column visitor's member list shows the other visitors
	// online, whichever arrived first.
	ben.waitFor(t, "ben", "Members", 5*time.Second)
	ben.waitForLineEnd(t, "ben", "● ann", 10*time.Second)
	ben.waitForLineEnd(t, "ben", "● ann-2", 10*time.Second)
	if w := ann.widest(); w > 80 {
		t.Errorf("ann's 80-column screen has a line %d cells wide", w)
	}
	ann.resize(t, 132, 40)
	deadline := time.Now().Add(10 * time.Second)
	for ann.widest() <= 100 {
		if time.Now().After(deadline) {
			t.Fatalf("after a resize to 132 columns ann's widest line is %d cells:\n%s", ann.widest(), ann.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ann.waitFor(t, "ann", "Members", 5*time.Second)

	// Not the host's: no file of the booth's machine can be sent.
	ann2.typeText(t, "/attach /etc/passwd\r")
	ann2.waitFor(t, "ann-2", "attach is not available here", 5*time.Second)

	ann.drop()
	waitVisitors(t, b, 2)
	// The dropped visitor is offline for the others; nothing else changed.
	ben.waitForLineEnd(t, "ben", "○ ann", 10*time.Second)
	ben.waitForLineEnd(t, "ben", "● ann-2", 5*time.Second)
	ben.typeText(t, "still here after ann left\r")
	ann2.waitFor(t, "ann-2", "still here after ann left", 10*time.Second)
	if strings.Contains(ann2.text(), "root:") {
		t.Fatalf("a host file reached a visitor's screen:\n%s", ann2.text())
	}
}
