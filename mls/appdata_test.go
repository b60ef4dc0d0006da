package mls

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// signKeyPackage re-signs kp with id after a test changed its extensions.
func signKeyPackage(t *testing.T, id *Identity, kp *KeyPackage) []byte {
	t.Helper()
	s, _ := lookupSuite(id.CipherSuite)
	var w writer
	kp.encodeTBS(&w)
	sig, err := s.signWithLabel(id.SignaturePriv, "KeyPackageTBS", w.b)
	if err != nil {
		t.Fatal(err)
	}
	kp.Signature = sig
	return (&Message{WireFormat: WireKeyPackage, KeyPackage: kp}).Bytes()
}

func TestLastResortKeyPackage(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	id, _ := NewIdentity(cs, []byte("mimi://example.com/d/alice/laptop"))
	normal, err := NewKeyPackage(id)
	if err != nil {
		t.Fatal(err)
	}
	last, err := NewKeyPackage(id, WithLastResort())
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ParseMessage(last.KeyPackage)
	// draft-ietf-mls-extensions: extension app_data_dictionary (0x0006) whose
	// AppDataDictionary holds one ComponentData {component_id 0x0004, data<V> empty}.
	var ext writer
	encodeExtensions(&ext, m.KeyPackage.Extensions)
	if got, want := hex.EncodeToString(ext.b), "0700060403000400"; got != want {
		t.Fatalf("last resort extensions encode as %s, want %s", got, want)
	}

	legacyKP, _ := ParseMessage(normal.KeyPackage)
	legacyKP.KeyPackage.Extensions = []Extension{{Type: ExtensionLastResortLegacy}}
	legacy := signKeyPackage(t, id, legacyKP.KeyPackage)

	otherKP, _ := ParseMessage(normal.KeyPackage)
	other, _ := EncodeAppDataDictionary([]ComponentData{{ComponentID: 0x0001, Data: []byte{0}}, {ComponentID: 0x8000, Data: []byte("x")}})
	otherKP.KeyPackage.Extensions = []Extension{{Type: ExtensionAppDataDictionary, Data: other}}
	otherComponents := signKeyPackage(t, id, otherKP.KeyPackage)

	badKP, _ := ParseMessage(normal.KeyPackage)
	badKP.KeyPackage.Extensions = []Extension{{Type: ExtensionAppDataDictionary, Data: []byte{6, 0, 4, 0, 0, 3, 0}}} // 4 then 3: unsorted
	unsorted := signKeyPackage(t, id, badKP.KeyPackage)

	tampered := append([]byte(nil), last.KeyPackage...)
	tampered[bytes.Index(tampered, []byte{0, 6, 4, 3, 0, 4, 0})+5] = 5 // component 0x0005: signature no longer verifies

	for _, tc := range []struct {
		name       string
		kp         []byte
		lastResort bool
		err        error
	}{
		{"normal", normal.KeyPackage, false, nil},
		{"last resort", last.KeyPackage, true, nil},
		{"legacy last_resort_key_package extension", legacy, true, nil},
		{"other components only", otherComponents, false, nil},
		{"unsorted dictionary", unsorted, false, ErrBadValue},
		{"tampered component", tampered, false, ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := InspectKeyPackage(tc.kp, time.Now())
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.LastResort != tc.lastResort || info.CipherSuite != cs || string(info.Credential.Identity) != string(id.Credential.Identity) {
				t.Fatalf("info %+v", info)
			}
			if !bytes.Equal(info.SignatureKey, id.SignaturePub) || len(info.Ref) != 32 || !info.NotAfter.After(time.Now().Add(89*24*time.Hour)) {
				t.Fatalf("info %+v", info)
			}
		})
	}
}

func TestLastResortKeyPackageJoinsTwice(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	bobID, _ := NewIdentity(cs, []byte("bob"))
	bob, err := NewKeyPackage(bobID, WithLastResort(), WithLifetime(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	info, err := InspectKeyPackage(bob.KeyPackage, time.Now())
	if err != nil || !info.LastResort || info.NotAfter.After(time.Now().Add(2*time.Hour)) {
		t.Fatalf("info %+v: %v", info, err)
	}
	if _, err := InspectKeyPackage(bob.KeyPackage, time.Now().Add(3*time.Hour)); !errors.Is(err, ErrInvalidKeyPackage) {
		t.Fatalf("expired key package: %v", err)
	}
	for _, groupID := range []string{"room one", "room two"} {
		aliceID, _ := NewIdentity(cs, []byte("alice"))
		ga, _ := NewGroup(aliceID, []byte(groupID), nil)
		res, err := ga.Commit(CommitOptions{Add: [][]byte{bob.KeyPackage}})
		if err != nil {
			t.Fatal(err)
		}
		ga.MergePendingCommit()
		gb, err := JoinFromWelcome(res.Welcome, bob, JoinOptions{})
		if err != nil {
			t.Fatalf("%s: %v", groupID, err)
		}
		if !bytes.Equal(ga.EpochAuthenticator(), gb.EpochAuthenticator()) {
			t.Fatalf("%s: members disagree", groupID)
		}
	}
	if _, err := NewKeyPackage(bobID, WithLifetime(0)); err == nil {
		t.Fatal("zero lifetime accepted")
	}
}
