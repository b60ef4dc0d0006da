package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"mimichat/session"
)

// deviceSession opens (and starts) another session of user with token:
// another data directory, so another device.
func (r *testRelay) deviceSession(uri, tok string) *session.Session {
	r.t.Helper()
	s, err := session.Open(session.Options{Relay: "ws://" + r.srv.Addr() + "/v1", User: uri, Token: tok,
		DataDir: r.t.TempDir(), Backoff: session.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		RoomsPoll: 200 * time.Millisecond})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close() })
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitOnline(ctx); err != nil {
		r.t.Fatal(err)
	}
	return s
}

// TestDevicesCommand: /devices lists alice's two devices as the relay and
// her groups know them (this one marked, key fingerprints); choosing the
// phone and confirming removes it from the room's group (bob's group loses
// its leaf) and from the relay.
func TestDevicesCommand(t *testing.T) {
	rl := startRelay(t)
	u, tok, err := rl.srv.Store().AddUser(testDomain, "alice")
	if err != nil {
		t.Fatal(err)
	}
	alice := rl.deviceSession(u.URI, tok)
	bob := rl.session("bob")
	room := openRoom(t, alice, "devices", "Devices", bob)
	phoneTok, _, err := rl.srv.Store().AddDeviceToken("alice") // alice's own token is the laptop's
	if err != nil {
		t.Fatal(err)
	}
	phone := rl.deviceSession(u.URI, phoneTok)
	// The phone joins the room's group by external commit on its own.
	deadline := time.Now().Add(10 * time.Second)
	for bob.Crypto(room).Members != 3 || alice.Crypto(room).Members != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the phone never joined the group: %+v", bob.Crypto(room))
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm, _, scr := startUI(t, alice, 130, 30, Options{Room: room})
	scr.waitText(t, "🔒")
	typeText(tm, "/devices")
	key(tm, "esc") // close completion
	key(tm, "enter")
	ds, err := alice.UserDevices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var phoneAt int
	want := []string{"Your devices (2)", "(this device)"}
	for i, d := range ds {
		want = append(want, d.Name(), "key "+d.Fingerprint, "in 1 rooms")
		if d.URI == phone.Device() {
			phoneAt = i
		}
	}
	scr.waitText(t, want...)
	for range phoneAt {
		key(tm, "down")
	}
	key(tm, "enter")
	name := phone.Device()[strings.LastIndexByte(phone.Device(), '/')+1:]
	scr.waitText(t, "Remove device "+name+"?")
	key(tm, "y")
	scr.waitText(t, "removed device "+name+" (from 1 rooms)")
	for bob.Crypto(room).Members != 2 {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("bob's group still holds the phone: %+v", bob.Crypto(room))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !phone.Crypto(room).Removed {
		deadline := time.Now().Add(5 * time.Second)
		for !phone.Crypto(room).Removed && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !phone.Crypto(room).Removed {
			t.Fatalf("the phone does not know it was removed: %+v", phone.Crypto(room))
		}
	}
	if ds, err := alice.Devices(context.Background()); err != nil || len(ds) != 1 {
		t.Fatalf("the relay's devices of alice after the removal: %+v %v", ds, err)
	}
	// This device cannot be removed from itself.
	typeText(tm, "/devices")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitText(t, "Your devices (1)")
	key(tm, "enter")
	scr.waitText(t, "this is the device you are using")
}

// TestDevicesGolden: the devices box at 80x24 and 160x48 over a room,
// with a fixed list (device names, times and keys of a live run differ).
func TestDevicesGolden(t *testing.T) {
	added := time.Date(2026, 12, 5, 21, 14, 0, 0, time.UTC)
	list := []session.UserDevice{
		{URI: "mimi://example.com/d/you/3f9a8b7c6d5e4f30", This: true, Added: added, KeyPackages: 10, LastResort: true,
			Fingerprint: "a1b2 c3d4 e5f6 0718", Rooms: 4},
		{URI: "mimi://example.com/d/you/phone-77c1e0", Added: added.Add(26 * time.Hour), KeyPackages: 3, LastResort: true,
			Fingerprint: "9e8d 7c6b 5a49 3827", Rooms: 2},
		{URI: "mimi://example.com/d/you/old-tablet", Fingerprint: "0f1e 2d3c 4b5a 6978", Rooms: 1},
	}
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			// One room of a test relay: the demo numbers its rooms in
			// the order they arrive, which varies.
			rl := startRelay(t)
			alice := rl.session("alice")
			room := openRoom(t, alice, "devices", "Devices")
			tm, _, scr := startUI(t, alice, size.w, size.h, Options{Room: room, Languages: []string{"en"}})
			scr.waitText(t, "🔒", "renamed the room to Devices")
			tm.Send(funcMsg(func(m *Model) tea.Cmd { m.onDevices(list, nil); return nil }))
			key(tm, "down")
			scr.waitText(t, "Your devices (3)", "› phone-77c1e0")
			txt := scr.settle(300 * time.Millisecond)
			for i, l := range strings.Split(txt, "\n") {
				if w := ansi.StringWidth(l); w > size.w {
					t.Errorf("line %d is %d wide", i, w)
				}
			}
			checkGolden(t, fmtSize(size.w, size.h)+"-devices", normalize(txt))
		})
	}
}
