package mls

import (
	"encoding/hex"
	"testing"
	"time"
)

// Interop with ts-mls for the draft-ietf-mls-extensions features ts-mls can
// express: it has no SelfRemove or last-resort support of its own, but it
// writes arbitrary KeyPackage extensions, capabilities and custom proposals.

const interopSuite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"

// TestInteropTSMLSLastResort: a last-resort key package written by ts-mls is
// recognised, and both implementations join by Welcome from a last-resort
// key package the other marked.
func TestInteropTSMLSLastResort(t *testing.T) {
	ts := startTS(t)
	tsKP := ts.bytes(ts.call(map[string]any{"op": "init", "suite": interopSuite, "name": "ts", "lastResort": true}), "keyPackage")
	info, err := InspectKeyPackage(tsKP, time.Now())
	if err != nil || !info.LastResort {
		t.Fatalf("ts-mls last-resort key package: %+v %v", info, err)
	}
	cs := X25519_AES128GCM_SHA256_Ed25519
	goID, _ := NewIdentity(cs, []byte("go"))
	g1, _ := NewGroup(goID, []byte("last resort interop"), nil)
	res, err := g1.Commit(CommitOptions{Add: [][]byte{tsKP}})
	if err != nil {
		t.Fatal(err)
	}
	g1.MergePendingCommit()
	ts.call(map[string]any{"op": "join", "welcome": hex.EncodeToString(res.Welcome)})
	ts.agree(g1)

	id2, _ := NewIdentity(cs, []byte("go2"))
	kp2, err := NewKeyPackage(id2, WithLastResort())
	if err != nil {
		t.Fatal(err)
	}
	reply := ts.call(map[string]any{"op": "commit", "add": []string{hex.EncodeToString(kp2.KeyPackage)}, "public": true})
	if _, err := g1.Process(ts.bytes(reply, "commit")); err != nil {
		t.Fatal(err)
	}
	g2, err := JoinFromWelcome(ts.bytes(reply, "welcome"), kp2, JoinOptions{})
	if err != nil {
		t.Fatalf("joining from ts-mls's Welcome for a last-resort key package: %v", err)
	}
	ts.agree(g1, g2)
	for _, m := range g1.Members() {
		if m.Leaf == g2.LeafIndex() && string(m.Credential.Identity) != "go2" {
			t.Fatalf("leaf %d is %q", m.Leaf, m.Credential.Identity)
		}
	}
}
