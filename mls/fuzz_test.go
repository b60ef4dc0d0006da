package mls

import (
	"bytes"
	"testing"
	"time"
)

// fuzzSeeds returns real messages of every wire format.
func fuzzSeeds(f *testing.F) (*Group, [][]byte) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	alice, _ := NewIdentity(cs, []byte("alice"))
	ga, err := NewGroup(alice, []byte("fuzz"), nil)
	if err != nil {
		f.Fatal(err)
	}
	bob := newMember(f, cs, "bob")
	res, err := ga.Commit(CommitOptions{Add: [][]byte{bob.KeyPackage}})
	if err != nil {
		f.Fatal(err)
	}
	ga.MergePendingCommit()
	gb, err := JoinFromWelcome(res.Welcome, bob, JoinOptions{})
	if err != nil {
		f.Fatal(err)
	}
	app, _ := ga.Encrypt([]byte("hello"), []byte("ad"))
	ga.PublicHandshake = true
	prop, _ := ga.ProposeUpdate()
	ga.PublicHandshake = false
	commit, _ := ga.Commit(CommitOptions{ForcePath: true})
	ga.ClearPendingCommit()
	gi, _ := ga.GroupInfo(true)
	return gb, [][]byte{bob.KeyPackage, res.Welcome, res.Commit, app, prop, commit.Commit, gi}
}

// FuzzParseMessage: any accepted MLSMessage re-encodes to the same bytes.
func FuzzParseMessage(f *testing.F) {
	_, seeds := fuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		if out := m.Bytes(); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, out)
		}
	})
}

// FuzzParseRatchetTree: any accepted tree re-encodes to the same bytes and hashes without panicking.
func FuzzParseRatchetTree(f *testing.F) {
	g, _ := fuzzSeeds(f)
	f.Add(g.RatchetTree())
	f.Fuzz(func(t *testing.T, b []byte) {
		tree, err := parseRatchetTree(b)
		if err != nil {
			return
		}
		if out := tree.bytes(); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs")
		}
		tree.rootHash(g.s)
		tree.validate(g.s, []byte("fuzz"), nil)
	})
}

// FuzzProcess: a member fed arbitrary bytes errors cleanly and keeps its epoch.
func FuzzProcess(f *testing.F) {
	g, seeds := fuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	saved, err := g.Save()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := LoadGroup(saved)
		if err != nil {
			t.Fatal(err)
		}
		m.Process(b)
	})
}

// FuzzLoadGroup: corrupted saved state is refused without panicking.
func FuzzLoadGroup(f *testing.F) {
	g, _ := fuzzSeeds(f)
	saved, _ := g.Save()
	f.Add(saved)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := LoadGroup(b); err == nil {
			m.Encrypt([]byte("x"), nil)
		}
	})
}

// FuzzParseAppDataDictionary: an accepted dictionary re-encodes to the same
// bytes, and the encoder accepts what the parser accepted (sorted, unique).
func FuzzParseAppDataDictionary(f *testing.F) {
	f.Add(lastResortExtension().Data)
	f.Add([]byte{6, 0, 1, 1, 0, 0, 4, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := ParseAppDataDictionary(b)
		if err != nil {
			return
		}
		out, err := EncodeAppDataDictionary(entries)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs or fails (%v):\n in %x\nout %x", err, b, out)
		}
	})
}

// FuzzInspectKeyPackage: arbitrary bytes never panic the key package server's parser.
func FuzzInspectKeyPackage(f *testing.F) {
	id, _ := NewIdentity(X25519_AES128GCM_SHA256_Ed25519, []byte("fuzz"))
	for _, opts := range [][]KeyPackageOption{nil, {WithLastResort()}} {
		kpb, err := NewKeyPackage(id, opts...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(kpb.KeyPackage)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if info, err := InspectKeyPackage(b, time.Time{}); err == nil && len(info.Ref) == 0 {
			t.Fatal("accepted key package without a reference")
		}
	})
}

// FuzzParseDeviceURI: an accepted device URI is exactly the URI its parts rebuild.
func FuzzParseDeviceURI(f *testing.F) {
	f.Add("mimi://example.com/d/alice/laptop")
	f.Add("mimi://a.example/d/b/c/d")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeviceURI(s)
		if err != nil {
			return
		}
		if d.DeviceURI() != s {
			t.Fatalf("%q parsed as %+v", s, d)
		}
		if again, err := NewDeviceCredential(d.UserURI(), d.Device); err != nil || again != d {
			t.Fatalf("%q: user URI round trip %+v %v", s, again, err)
		}
	})
}

// FuzzHubProcess: a hub view fed arbitrary bytes errors cleanly, and a
// refused message leaves the view unchanged.
func FuzzHubProcess(f *testing.F) {
	g, seeds := fuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	gi, err := g.GroupInfo(true)
	if err != nil {
		f.Fatal(err)
	}
	hub, err := NewHubGroup(gi, nil)
	if err != nil {
		f.Fatal(err)
	}
	saved, _ := hub.Save()
	f.Add(gi)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := LoadHubGroup(saved)
		if err != nil {
			t.Fatal(err)
		}
		// A GroupInfo read in place (CheckGroupInfo, SaveBeside): no panic,
		// and a state saved beside it loads back beside it.
		h.CheckGroupInfo(b)
		if st, err := h.SaveBeside(b); err != nil {
			t.Fatal(err)
		} else if _, err := LoadHubGroupBeside(st, b); err != nil {
			t.Fatalf("a state saved beside a GroupInfo does not load beside it: %v", err)
		}
		if _, err := h.Process(b); err != nil && !bytes.Equal(h.GroupContext(), hub.GroupContext()) {
			t.Fatal("a refused message changed the view")
		}
		PeekMessage(b)
		WelcomeRecipients(b)
		NewHubGroup(b, nil)
	})
}

// FuzzLoadHubGroup: corrupted hub state is refused without panicking.
func FuzzLoadHubGroup(f *testing.F) {
	g, _ := fuzzSeeds(f)
	gi, _ := g.GroupInfo(true)
	hub, err := NewHubGroup(gi, nil)
	if err != nil {
		f.Fatal(err)
	}
	saved, _ := hub.Save()
	f.Add(saved)
	beside, _ := hub.SaveBeside(gi)
	f.Add(beside)
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := LoadHubGroup(b); err == nil {
			h.Members()
			h.PendingSelfRemoves()
		}
		if h, err := LoadHubGroupBeside(b, gi); err == nil {
			h.Members()
		}
	})
}
