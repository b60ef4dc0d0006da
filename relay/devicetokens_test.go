package relay

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// deviceHelloRefused says hello with token naming device ("" for none) and
// returns the fatal error frame the relay answers with.
func deviceHelloRefused(t *testing.T, addr, token, device string) *proto.ErrorFrame {
	t.Helper()
	c := &client{t: t, ws: dialRaw(t, addr), frames: make(chan proto.Frame, 16), closed: make(chan struct{})}
	t.Cleanup(func() { c.ws.Close() })
	go c.readLoop()
	c.send(&proto.Hello{V: proto.Version, Token: token, Client: "relay-test", Device: device})
	switch f := c.next(5 * time.Second).(type) {
	case *proto.ErrorFrame:
		if !f.Fatal {
			t.Fatalf("hello refused without fatal: %+v", f)
		}
		if !c.waitClosed(5 * time.Second) {
			t.Fatal("the relay kept a refused connection open")
		}
		return f
	default:
		t.Fatalf("hello with %s: got %#v, want a refusal", device, f)
	}
	return nil
}

// waitFatal waits until c's connection gets a fatal error and closes.
func waitFatal(t *testing.T, c *client, code proto.Code) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case f := <-c.frames:
			if ef, ok := f.(*proto.ErrorFrame); ok && ef.Fatal {
				if ef.Code != code {
					t.Fatalf("%s closed with %s (%s), want %s", c.user, ef.Code, ef.Reason, code)
				}
				if !c.waitClosed(5 * time.Second) {
					t.Fatalf("%s: connection open after the fatal error", c.user)
				}
				return
			}
		case <-time.After(time.Until(deadline)):
			t.Fatalf("%s: no fatal %s within 5 s", c.user, code)
		}
	}
}

// TestDeviceTokens: the user's token binds to the first device that names
// itself with it; another device needs a token of its own (new_device_token),
// which binds to it; a device's connection registers only that device.
// Removing the phone closes its live connections (a copy's too) with
// device_revoked, and from then on its token is refused with that code —
// naming the device or not, over the websocket and for blob uploads — the
// device cannot be registered again, not even with a fresh token; after a
// restart too. The laptop goes on; rotating the user's token logs every
// device out.
func TestDeviceTokens(t *testing.T) {
	data := t.TempDir()
	s := startRelay(t, Config{RatePerSec: -1, Data: data, TokenRecheck: 50 * time.Millisecond})
	aliceTok := addUser(t, s.Store(), "alice")
	alice := proto.UserURI("example.com", "alice")
	laptop := newTestDevice(t, alice, "laptop", mls.CipherSuite(1))
	phone := newTestDevice(t, alice, "phone", mls.CipherSuite(1))
	tablet := newTestDevice(t, alice, "tablet", mls.CipherSuite(1))

	lc := dialDevice(t, s.Addr(), aliceTok, laptop.uri)
	if _, ef := lc.upload(laptop.uri, laptop.keyPackages(t, 2, true)); ef != nil {
		t.Fatalf("laptop upload: %s %s", ef.Code, ef.Reason)
	}
	if ef := deviceHelloRefused(t, s.Addr(), aliceTok, phone.uri); ef.Code != proto.CodeAuthFailed || !strings.Contains(ef.Reason, laptop.uri) {
		t.Fatalf("the laptop's token naming the phone: %s (%s), want auth_failed naming the laptop", ef.Code, ef.Reason)
	}
	// Without a device named, the laptop's token is still the laptop.
	implicit := dial(t, s.Addr(), aliceTok)
	if _, ef := implicit.upload(tablet.uri, tablet.keyPackages(t, 1, false)); ef == nil || ef.Code != proto.CodeForbidden {
		t.Fatalf("the laptop's token registering the tablet: %+v, want forbidden", ef)
	}

	lc.send(&proto.NewDeviceToken{RID: lc.nextRID()})
	dtok := expect[*proto.DeviceToken](lc)
	if !strings.HasPrefix(dtok.Token, tokenPrefix) || dtok.Token == aliceTok || time.UnixMilli(dtok.Expires).Before(time.Now().Add(24*time.Hour)) {
		t.Fatalf("device token %+v", dtok)
	}
	pc := dialDevice(t, s.Addr(), dtok.Token, phone.uri)
	if _, ef := pc.upload(phone.uri, phone.keyPackages(t, 2, true)); ef != nil {
		t.Fatalf("phone upload: %s %s", ef.Code, ef.Reason)
	}
	stolen := dialDevice(t, s.Addr(), dtok.Token, phone.uri) // a copy of the phone's data directory, running
	if ef := deviceHelloRefused(t, s.Addr(), dtok.Token, laptop.uri); ef.Code != proto.CodeAuthFailed {
		t.Fatalf("the phone's token naming the laptop: %s, want auth_failed", ef.Code)
	}
	if code, _, _, _ := postBlob(t, s.Addr(), dtok.Token, []byte("ciphertext")); code != http.StatusCreated {
		t.Fatalf("phone's blob upload before removal: %d", code)
	}

	lc.send(&proto.RemoveDevice{RID: lc.nextRID(), Device: phone.uri})
	expect[*proto.OK](lc)
	waitFatal(t, pc, proto.CodeDeviceRevoked)
	waitFatal(t, stolen, proto.CodeDeviceRevoked)

	// A spare token, unbound, as the thief might also hold.
	lc.send(&proto.NewDeviceToken{RID: lc.nextRID()})
	spare := expect[*proto.DeviceToken](lc).Token
	refusedForGood := func(s *Server) {
		t.Helper()
		for _, tc := range []struct{ name, token, device string }{
			{"the phone's token naming the phone", dtok.Token, phone.uri},
			{"the phone's token naming no device", dtok.Token, ""},
			{"the phone's token naming a new device", dtok.Token, tablet.uri},
			{"a fresh token naming the phone", spare, phone.uri},
		} {
			if ef := deviceHelloRefused(t, s.Addr(), tc.token, tc.device); ef.Code != proto.CodeDeviceRevoked || strings.Contains(ef.Reason, tc.token) {
				t.Errorf("%s: %s (%s), want device_revoked", tc.name, ef.Code, ef.Reason)
			}
		}
		code, _, ref, _ := postBlob(t, s.Addr(), dtok.Token, []byte("after"))
		if code != http.StatusUnauthorized || ref.Code != proto.CodeDeviceRevoked {
			t.Errorf("the removed phone's blob upload: %d %s, want 401 device_revoked", code, ref.Code)
		}
		// Registering the phone again, from a connection that names no
		// device (an unbound token acts as the user), is refused too.
		legacy := dial(t, s.Addr(), spare)
		if _, ef := legacy.upload(phone.uri, phone.keyPackages(t, 1, false)); ef == nil || ef.Code != proto.CodeDeviceRevoked {
			t.Errorf("registering the removed phone again: %+v, want device_revoked", ef)
		}
		legacy.ws.Close()
		lc := dialDevice(t, s.Addr(), aliceTok, laptop.uri)
		lc.send(&proto.Devices{RID: lc.nextRID()})
		if dl := expect[*proto.DeviceList](lc); len(dl.Devices) != 1 || dl.Devices[0].Device != laptop.uri {
			t.Errorf("devices after the removal: %+v, want the laptop only", dl.Devices)
		}
		lc.ws.Close()
	}
	refusedForGood(s)
	// The laptop's live connection was not touched.
	lc.send(&proto.Devices{RID: lc.nextRID()})
	expect[*proto.DeviceList](lc)

	s.Shutdown(t.Context())
	s = startRelay(t, Config{RatePerSec: -1, Data: data, TokenRecheck: 50 * time.Millisecond})
	refusedForGood(s)

	// Rotating alice's token (relay user rotate) logs every device out;
	// the new token binds to the first device using it.
	lc = dialDevice(t, s.Addr(), aliceTok, laptop.uri)
	newTok, err := s.Store().RotateToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	waitFatal(t, lc, proto.CodeAuthFailed)
	if ef := deviceHelloRefused(t, s.Addr(), aliceTok, laptop.uri); ef.Code != proto.CodeAuthFailed {
		t.Fatalf("the old token after rotation: %s", ef.Code)
	}
	dialDevice(t, s.Addr(), newTok, laptop.uri)
	if ef := deviceHelloRefused(t, s.Addr(), newTok, tablet.uri); ef.Code != proto.CodeAuthFailed {
		t.Fatalf("the rotated token on a second device: %s, want auth_failed", ef.Code)
	}
	if ef := deviceHelloRefused(t, s.Addr(), newTok, phone.uri); ef.Code != proto.CodeAuthFailed {
		t.Fatalf("the rotated token naming the removed phone: %s", ef.Code)
	}
	// The operator's extra token for a new device.
	opTok, _, err := s.Store().AddDeviceToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	dialDevice(t, s.Addr(), opTok, tablet.uri)
}

// TestExternalJoinNeedsTheDevicesConnection: with per-device tokens a
// device joins a group by external commit only on a connection of its own
// (its token bound to it, or binding to it at hello); an unbound token on a
// connection that names no device acts as the user and could otherwise
// join as any device, a removed one included.
func TestExternalJoinNeedsTheDevicesConnection(t *testing.T) {
	e := newE2ERoom(t, "ext")
	alice := proto.UserURI("example.com", "alice")
	phone := newTestDevice(t, alice, "phone", mls.CipherSuite(1))
	tok := e.deviceToken(t, "alice", "phone")
	commit := func(c *client) *proto.ErrorFrame {
		t.Helper()
		c.send(&proto.GetGroupInfo{RID: c.nextRID(), Room: e.room})
		gi := expect[*proto.GroupInfo](c)
		g, ext, err := mls.JoinExternal(gi.GroupInfo, phone.id, mls.ExternalJoinOptions{})
		if err != nil {
			t.Fatal(err)
		}
		g.PublicHandshake = true
		newGI, err := g.GroupInfo(true)
		if err != nil {
			t.Fatal(err)
		}
		_, ef := c.op(e.room, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = ext, newGI })
		return ef
	}
	if ef := commit(dial(t, e.s.Addr(), tok)); ef == nil || ef.Code != proto.CodeBadCommit || !strings.Contains(ef.Reason, "hello.device") {
		t.Fatalf("external commit on a connection naming no device: %+v, want bad_commit", ef)
	}
	if ef := commit(dialDevice(t, e.s.Addr(), tok, phone.uri)); ef != nil {
		t.Fatalf("external commit on the phone's own connection: %s %s", ef.Code, ef.Reason)
	}
}
