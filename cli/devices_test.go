package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDevicesCommands: `mimichat devices` lists the user's devices (each
// data directory is one; this one marked) and `devices remove NAME`
// removes another; removing this device is refused.
func TestDevicesCommands(t *testing.T) {
	env := newClientEnv(t, "alice")
	laptop := append([]string{}, env.flags["alice"]...)
	phone := append([]string{}, laptop...)
	for i := range phone {
		if phone[i] == "--data-dir" {
			phone[i+1] = t.TempDir()
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
	if len(phoneDevices) != 1 || !phoneDevices[0].This {
		t.Fatalf("the phone's first listing: %+v", phoneDevices)
	}
	phoneURI := phoneDevices[0].Device
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
	env.flags["alice"] = laptop
	if code, _, errs := env.run("alice", []string{"devices", "remove"}, "nosuch"); code == 0 || !strings.Contains(errs, `0 of your devices are named "nosuch"`) {
		t.Fatalf("removing an unknown device: exit %d, stderr %q", code, errs)
	}
}
