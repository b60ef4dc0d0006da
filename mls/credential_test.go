package mls

import (
	"errors"
	"testing"
)

func TestDeviceCredential(t *testing.T) {
	for _, tc := range []struct {
		uri   string
		want  DeviceCredential
		field string // "" when valid
	}{
		{"mimi://example.com/d/alice/laptop", DeviceCredential{"example.com", "alice", "laptop"}, ""},
		{"mimi://a.example/d/bob/ClientB1", DeviceCredential{"a.example", "bob", "ClientB1"}, ""},
		{"mimi://127.0.0.1:7000/d/carol/d-1_x", DeviceCredential{"127.0.0.1:7000", "carol", "d-1_x"}, ""},
		{"https://example.com/d/alice/laptop", DeviceCredential{}, "uri"},
		{"mimi://example.com/u/alice", DeviceCredential{}, "uri"},
		{"mimi://example.com/d/alice", DeviceCredential{}, "uri"},
		{"mimi:///d/alice/laptop", DeviceCredential{}, "host"},
		{"mimi://example.com/d//laptop", DeviceCredential{}, "user"},
		{"mimi://example.com/d/alice/", DeviceCredential{}, "device"},
		{"mimi://example.com/d/alice/lap/top", DeviceCredential{}, "device"},
		{"mimi://example.com/d/alice/lap top", DeviceCredential{}, "device"},
		{"mimi://example.com/d/al\x1bice/laptop", DeviceCredential{}, "user"},
		{"mimi://example.com/d/alice/laptop?x", DeviceCredential{}, "device"},
		{"mimi://example.com/d/alice/\xff", DeviceCredential{}, "device"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			d, err := ParseDeviceURI(tc.uri)
			if tc.field != "" {
				var ce *CredentialError
				if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrCredential) {
					t.Fatalf("err %v, want a CredentialError on %s", err, tc.field)
				}
				return
			}
			if err != nil || d != tc.want || d.DeviceURI() != tc.uri {
				t.Fatalf("got %+v (%v)", d, err)
			}
			again, err := NewDeviceCredential(d.UserURI(), d.Device)
			if err != nil || again != d || d.UserURI() != "mimi://"+d.Host+"/u/"+d.User {
				t.Fatalf("from user URI %s: %+v %v", d.UserURI(), again, err)
			}
		})
	}
}

func TestDeviceIdentityInGroup(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	alice, _ := NewDeviceCredential("mimi://example.com/u/alice", "laptop")
	bob, _ := NewDeviceCredential("mimi://example.com/u/bob", "phone")
	aliceID, err := NewDeviceIdentity(cs, alice)
	if err != nil {
		t.Fatal(err)
	}
	bobID, _ := NewDeviceIdentity(cs, bob)
	bobKP, _ := NewKeyPackage(bobID)
	g, _ := NewGroup(aliceID, []byte("mimi://example.com/g/room"), nil)
	if _, err := g.Commit(CommitOptions{Add: [][]byte{bobKP.KeyPackage}}); err != nil {
		t.Fatal(err)
	}
	g.MergePendingCommit()
	var users []string
	for _, m := range g.Members() {
		d, err := m.Device()
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, d.UserURI())
	}
	if len(users) != 2 || users[0] != "mimi://example.com/u/alice" || users[1] != "mimi://example.com/u/bob" {
		t.Fatalf("members' users %v", users)
	}
	if _, err := NewDeviceIdentity(cs, DeviceCredential{Host: "example.com", User: "alice"}); !errors.Is(err, ErrCredential) {
		t.Fatalf("identity without a device: %v", err)
	}
	plain, _ := NewIdentity(cs, []byte("alice"))
	if _, err := (Member{Credential: plain.Credential}).Device(); !errors.Is(err, ErrCredential) {
		t.Fatalf("plain basic credential: %v", err)
	}
	if _, err := ParseDeviceCredential(Credential{Type: CredentialX509}); !errors.Is(err, ErrCredential) {
		t.Fatalf("x509 credential: %v", err)
	}
}
