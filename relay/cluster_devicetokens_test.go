package relay

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// TestClusterDeviceTokens: per-device tokens across three nodes (the
// JetStream store's store.DeviceTokens). A token issued through node 1
// (new_device_token) is bound to the phone when it connects through node 2,
// and from then on stands for the phone on every node (the laptop's token
// naming the phone is refused on node 3). Two nodes binding one fresh
// token to two devices at once bind it once. Removing the phone through
// node 1 closes its connections on nodes 2 and 3 with device_revoked
// within 2 s: the token recheck is set to an hour, so the cross-node
// announcement is what closes them. Then every node refuses the phone's
// token and a fresh token naming the phone (device_revoked), refuses its
// blob upload and its registration again, and lists the laptop only.
func TestClusterDeviceTokens(t *testing.T) {
	nodes := startCluster(t, 3, func(c *Config) { c.TokenRecheck = time.Hour })
	aliceTok := addUser(t, nodes[0].Store(), "alice")
	alice := proto.UserURI("example.com", "alice")
	laptop := newTestDevice(t, alice, "laptop", mls.CipherSuite(1))
	phone := newTestDevice(t, alice, "phone", mls.CipherSuite(1))
	tablet := newTestDevice(t, alice, "tablet", mls.CipherSuite(1))
	watch := newTestDevice(t, alice, "watch", mls.CipherSuite(1))

	lc := dialDevice(t, nodes[0].Addr(), aliceTok, laptop.uri)
	if _, ef := lc.upload(laptop.uri, laptop.keyPackages(t, 2, true)); ef != nil {
		t.Fatalf("laptop upload: %s %s", ef.Code, ef.Reason)
	}
	lc.send(&proto.NewDeviceToken{RID: lc.nextRID()})
	dtok := expect[*proto.DeviceToken](lc).Token

	pc := dialDevice(t, nodes[1].Addr(), dtok, phone.uri)
	if _, ef := pc.upload(phone.uri, phone.keyPackages(t, 2, true)); ef != nil {
		t.Fatalf("phone upload through node 2: %s %s", ef.Code, ef.Reason)
	}
	copyOnC := dialDevice(t, nodes[2].Addr(), dtok, phone.uri) // the phone's copied data directory, on node 3
	if ef := deviceHelloRefused(t, nodes[2].Addr(), aliceTok, phone.uri); ef.Code != proto.CodeAuthFailed || !strings.Contains(ef.Reason, laptop.uri) {
		t.Fatalf("the laptop's token naming the phone on node 3: %s (%s), want auth_failed naming the laptop", ef.Code, ef.Reason)
	}
	if ef := deviceHelloRefused(t, nodes[0].Addr(), dtok, laptop.uri); ef.Code != proto.CodeAuthFailed {
		t.Fatalf("the phone's token naming the laptop on node 1: %s, want auth_failed", ef.Code)
	}

	// One fresh token, two nodes binding it at once to two devices.
	lc.send(&proto.NewDeviceToken{RID: lc.nextRID()})
	fresh := expect[*proto.DeviceToken](lc).Token
	type helloResult struct {
		device string
		f      proto.Frame
	}
	results := make([]helloResult, 2)
	var wg sync.WaitGroup
	for i, d := range []string{tablet.uri, watch.uri} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{t: t, ws: dialRaw(t, nodes[1+i].Addr()), frames: make(chan proto.Frame, 16), closed: make(chan struct{})}
			t.Cleanup(func() { c.ws.Close() })
			go c.readLoop()
			c.send(&proto.Hello{V: proto.Version, Token: fresh, Client: "relay-test", Device: d})
			select {
			case f := <-c.frames:
				results[i] = helloResult{d, f}
			case <-time.After(10 * time.Second):
			}
		}()
	}
	wg.Wait()
	won := 0
	for _, r := range results {
		switch f := r.f.(type) {
		case *proto.Welcome:
			won++
		case *proto.ErrorFrame:
			if f.Code != proto.CodeAuthFailed {
				t.Fatalf("%s: hello refused with %s (%s), want auth_failed", r.device, f.Code, f.Reason)
			}
		default:
			t.Fatalf("%s: hello answered %#v", r.device, f)
		}
	}
	if won != 1 {
		t.Fatalf("%d of two nodes bound one fresh token, want exactly 1: %+v", won, results)
	}

	lc.send(&proto.RemoveDevice{RID: lc.nextRID(), Device: phone.uri})
	removed := time.Now()
	expect[*proto.OK](lc)
	for _, c := range []*client{pc, copyOnC} {
		waitFatal(t, c, proto.CodeDeviceRevoked)
	}
	if d := time.Since(removed); d > 2*time.Second {
		t.Fatalf("the phone's connections on nodes 2 and 3 were closed %v after the removal, want < 2 s", d)
	}
	t.Logf("the phone's connections on nodes 2 and 3 closed %v after the removal", time.Since(removed).Round(time.Millisecond))

	lc.send(&proto.NewDeviceToken{RID: lc.nextRID()})
	spare := expect[*proto.DeviceToken](lc).Token
	for i, n := range nodes {
		for _, tc := range []struct{ name, token, device string }{
			{"the phone's token naming the phone", dtok, phone.uri},
			{"the phone's token naming no device", dtok, ""},
			{"a fresh token naming the phone", spare, phone.uri},
		} {
			if ef := deviceHelloRefused(t, n.Addr(), tc.token, tc.device); ef.Code != proto.CodeDeviceRevoked {
				t.Errorf("node %d: %s: %s (%s), want device_revoked", i+1, tc.name, ef.Code, ef.Reason)
			}
		}
		if code, _, ref, _ := postBlob(t, n.Addr(), dtok, []byte("after")); code != http.StatusUnauthorized || ref.Code != proto.CodeDeviceRevoked {
			t.Errorf("node %d: the removed phone's blob upload: %d %s, want 401 device_revoked", i+1, code, ref.Code)
		}
		c := dialDevice(t, n.Addr(), aliceTok, laptop.uri)
		if _, ef := c.upload(phone.uri, phone.keyPackages(t, 1, false)); ef == nil || ef.Code != proto.CodeForbidden && ef.Code != proto.CodeDeviceRevoked {
			t.Errorf("node %d: the laptop registering the removed phone: %+v, want a refusal", i+1, ef)
		}
		c.send(&proto.Devices{RID: c.nextRID()})
		if dl := expect[*proto.DeviceList](c); len(dl.Devices) != 1 || dl.Devices[0].Device != laptop.uri {
			t.Errorf("node %d: devices after the removal: %+v, want the laptop only", i+1, dl.Devices)
		}
		c.ws.Close()
	}
}
