package mls

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestHubSaveBeside: a state saved beside a GroupInfo carrying the view's
// tree leaves the tree out and loads back, given that GroupInfo, to the same
// view, which goes on following the group; any other GroupInfo keeps the
// tree in the state, and a state without its tree refuses to load from
// anything but a GroupInfo whose tree hashes to the saved context's.
func TestHubSaveBeside(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	aliceID, _ := NewIdentity(cs, []byte("alice"))
	alice, err := NewGroup(aliceID, []byte("beside"), nil)
	if err != nil {
		t.Fatal(err)
	}
	alice.PublicHandshake = true
	gi0, err := alice.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := NewHubGroup(gi0, nil)
	if err != nil {
		t.Fatal(err)
	}
	commit := func(opts CommitOptions) *CommitResult {
		t.Helper()
		res, err := alice.Commit(opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hub.Process(res.Commit); err != nil {
			t.Fatal(err)
		}
		if err := hub.CheckGroupInfo(res.GroupInfo); err != nil {
			t.Fatal(err)
		}
		if err := alice.MergePendingCommit(); err != nil {
			t.Fatal(err)
		}
		return res
	}
	var adds [][]byte
	for _, name := range []string{"bob", "carol", "dave"} {
		adds = append(adds, newMember(t, cs, name).KeyPackage)
	}
	res1 := commit(CommitOptions{Add: adds})
	res2 := commit(CommitOptions{ForcePath: true})
	noTree, err := alice.GroupInfo(false)
	if err != nil {
		t.Fatal(err)
	}
	full, err := hub.Save()
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name     string
		beside   []byte
		withTree bool
	}{
		{"the epoch's GroupInfo", res2.GroupInfo, false},
		{"a past epoch's GroupInfo", res1.GroupInfo, true},
		{"a GroupInfo without the tree", noTree, true},
		{"no GroupInfo", nil, true},
		{"not a GroupInfo", res2.Commit, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := hub.SaveBeside(c.beside)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(st), `"Tree"`); got != c.withTree {
				t.Fatalf("state has a tree: %v, want %v (%d bytes; Save: %d)", got, c.withTree, len(st), len(full))
			}
			loaded, err := LoadHubGroupBeside(st, c.beside)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(loaded.GroupContext(), hub.GroupContext()) || !bytes.Equal(loaded.RatchetTree(), hub.RatchetTree()) {
				t.Fatal("the loaded view differs from the saved one")
			}
			if c.withTree {
				return
			}
			if len(st) >= len(full)/2 {
				t.Fatalf("state without the tree is %d bytes, with it %d", len(st), len(full))
			}
			for _, bad := range []struct {
				name string
				gi   []byte
			}{{"none", nil}, {"a past epoch's", res1.GroupInfo}, {"one without the tree", noTree}, {"a commit", res2.Commit}, {"garbage", []byte{1, 2, 3}}} {
				if _, err := LoadHubGroupBeside(st, bad.gi); !errors.Is(err, ErrState) {
					t.Errorf("loaded beside %s GroupInfo: %v, want ErrState", bad.name, err)
				}
			}
			if _, err := LoadHubGroup(st); !errors.Is(err, ErrState) {
				t.Errorf("LoadHubGroup of a state without its tree: %v, want ErrState", err)
			}
			// The loaded view follows the next commit as the original does.
			next, err := alice.Commit(CommitOptions{ForcePath: true})
			if err != nil {
				t.Fatal(err)
			}
			defer alice.ClearPendingCommit()
			if _, err := loaded.Process(next.Commit); err != nil {
				t.Fatal(err)
			}
			if err := loaded.CheckGroupInfo(next.GroupInfo); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHubCheckGroupInfo: the GroupInfo check (signed bytes taken from the
// message, tree compared by node encodings) accepts the epoch's GroupInfo
// with or without the tree and refuses any changed byte.
func TestHubCheckGroupInfo(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	aliceID, _ := NewIdentity(cs, []byte("alice"))
	alice, err := NewGroup(aliceID, []byte("check"), nil)
	if err != nil {
		t.Fatal(err)
	}
	alice.PublicHandshake = true
	gi0, err := alice.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := NewHubGroup(gi0, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := alice.Commit(CommitOptions{Add: [][]byte{newMember(t, cs, "bob").KeyPackage, newMember(t, cs, "carol").KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Process(res.Commit); err != nil {
		t.Fatal(err)
	}
	if err := alice.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	noTree, err := alice.GroupInfo(false)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { b := bytes.Clone(res.GroupInfo); b[i] ^= 1; return b }
	for _, c := range []struct {
		name string
		gi   []byte
		want error // nil: accepted
	}{
		{"the epoch's GroupInfo", res.GroupInfo, nil},
		{"without the tree", noTree, nil},
		{"a past epoch's", gi0, ErrWrongEpoch},
		{"signature byte changed", flip(len(res.GroupInfo) - 1), ErrSignature},
		{"tree byte changed", flip(len(res.GroupInfo) - 200), ErrSignature},
		{"trailing byte", append(bytes.Clone(res.GroupInfo), 0), ErrTrailingBytes},
	} {
		if err := hub.CheckGroupInfo(c.gi); c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// SaveBeside reads the GroupInfo it is given, not one CheckGroupInfo saw:
	// a caller reusing its buffer does not make it leave out a tree the
	// buffer no longer carries.
	buf := bytes.Clone(res.GroupInfo)
	if err := hub.CheckGroupInfo(buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, noTree)
	buf = buf[:len(noTree)]
	st, err := hub.SaveBeside(buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadHubGroupBeside(st, buf); err != nil {
		t.Fatalf("a state saved beside a reused buffer: %v", err)
	}
}
