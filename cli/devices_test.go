package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDevicesCommands: `mimichat devices add` gives the phone a token of
// its own (the laptop's is bound to the laptop: the phone is refused with
// it); `mimichat devices` lists the user's devices (each data directory is
// one; this one marked) and `devices remove NAME` removes another, whose
// token is then refused as revoked; removing this device is refused.
func TestDevicesCommands(t *testing.T) {
	env := newClientEnv(t, "alice")
	laptop := append([]string{}, env.flags["alice"]...)
	phone := append([]string{}, laptop...)
	for i := range phone {
		if phone[i] == "--data-dir" {
			phone[i+1] = t.TempDir()
		}
	}
	env.must("alice", []string{"rooms"}) // the laptop's first use binds alice's token to it
	env.flags["alice"] = phone
	if code, _, errs := env.run("alice", []string{"rooms"}); code != 1 || !strings.Contains(errs, "auth_failed") {
		t.Fatalf("the phone with the laptop's token: exit %d, stderr %q; want auth_failed", code, errs)
	}
	env.flags["alice"] = laptop
	tokFile := filepath.Join(t.TempDir(), "phone.token")
	if got := env.must("alice", []string{"devices", "add"}, "--out", tokFile); len(got) != 4 || got[0] != "token-file" || got[1] != tokFile {
		t.Fatalf("devices add printed %v", got)
	}
	if fi, err := os.Stat(tokFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v; want mode 0600", fi, err)
	}
	if code, _, _ := env.run("alice", []string{"devices", "add"}, "--out", tokFile); code == 0 {
		t.Fatal("devices add overwrote an existing file")
	}
	for i := range phone {
		if phone[i] == "--token" {
			phone[i], phone[i+1] = "--token-file", tokFile
		}
	}
	list := func(flags []string) []deviceLine {
		t.Helper()
		env.flags["alice"] = flags
		_, out, _ := env.run("alice", []string{"devices"}, "--json")
		var ls []deviceLine
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var d deviceLine
			if err := json.Unmarshal([]byte(l), &d); err != nil {
				t.Fatalf("devices --json line %q: %v", l, err)
			}
			ls = append(ls, d)
		}
		return ls
	}
	phoneDevices := list(phone) // registers the phone's device
	phoneAt := slices.IndexFunc(phoneDevices, func(d deviceLine) bool { return d.This })
	if len(phoneDevices) != 2 || phoneAt < 0 {
		t.Fatalf("the phone's first listing: %+v, want the laptop and the phone (marked)", phoneDevices)
	}
	phoneURI := phoneDevices[phoneAt].Device
	ls := list(laptop)
	if len(ls) != 2 {
		t.Fatalf("alice's devices: %+v, want the laptop and the phone", ls)
	}
	var this string
	for _, d := range ls {
		// The phone's key shows only through a group both are in.
		if d.This == (d.Device == phoneURI) || d.Added == "" || (d.This && len(d.Fingerprint) != 19) {
			t.Fatalf("device line %+v (the phone is %s)", d, phoneURI)
		}
		if d.This {
			this = d.Device
		}
	}
	env.flags["alice"] = laptop
	if code, _, errs := env.run("alice", []string{"devices", "remove"}, this); code == 0 || !strings.Contains(errs, "this is the device you are using") {
		t.Fatalf("removing this device: exit %d, stderr %q", code, errs)
	}
	name := phoneURI[strings.LastIndexByte(phoneURI, '/')+1:]
	if got := env.must("alice", []string{"devices", "remove"}, name); len(got) != 2 || got[0] != "removed" || got[1] != phoneURI {
		t.Fatalf("devices remove printed %v", got)
	}
	if ls := list(laptop); len(ls) != 1 || ls[0].Device != this {
		t.Fatalf("alice's devices after the removal: %+v", ls)
	}
	env.flags["alice"] = phone
	if code, _, errs := env.run("alice", []string{"rooms"}); code != 1 || !strings.Contains(errs, "device_revoked") {
		t.Fatalf("the removed phone: exit %d, stderr %q; want device_revoked", code, errs)
	}
	env.flags["alice"] = laptop
	if code, _, errs := env.run("alice", []string{"devices", "remove"}, "nosuch"); code == 0 || !strings.Contains(errs, `0 of your devices are named "nosuch"`) {
		t.Fatalf("removing an unknown device: exit %d, stderr %q", code, errs)
	}
}
