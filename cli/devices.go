package cli

// `mimichat devices` lists the user's devices; `mimichat devices remove
// DEVICE` removes one from every room's group and from the relay. Both go
// through the data directory's owner, as the other headless commands do.

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// deviceLine is one device of `devices`; its JSON form is --json's line.
type deviceLine struct {
	Device      string `json:"device"`
	This        bool   `json:"this,omitempty"`
	Added       string `json:"added,omitempty"`
	KeyPackages uint64 `json:"key_packages"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Rooms       int    `json:"rooms"`
}

// devicesCommand is `mimichat devices`.
func devicesCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	asJSON := fs.Bool("json", false, "print one JSON object per device")
	return func(c *call) error {
		if err := noArgs(c); err != nil {
			return err
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, _, err := cf.acquire(ctx, c, "devices")
		if err != nil {
			return err
		}
		defer h.Close()
		ds, err := h.Devices(ctx)
		if err != nil {
			return err
		}
		for _, d := range ds {
			l := deviceLine{Device: d.URI, This: d.This, KeyPackages: d.KeyPackages, Fingerprint: d.Fingerprint, Rooms: d.Rooms}
			if !d.Added.IsZero() {
				l.Added = d.Added.UTC().Format(time.RFC3339)
			}
			if *asJSON {
				if err := c.out.jsonLine(l); err != nil {
					return err
				}
				continue
			}
			mark, added, key := "-", l.Added, l.Fingerprint
			if l.This {
				mark = "this"
			}
			if added == "" {
				added = "not-on-relay"
			}
			if key == "" {
				key = "unknown"
			}
			if err := c.out.printf("%s %s %s key=%s rooms=%d key_packages=%d\n", oneLine(l.Device), mark, added,
				strings.ReplaceAll(key, " ", ""), l.Rooms, l.KeyPackages); err != nil {
				return err
			}
		}
		return nil
	}
}

// devicesRemoveCommand is `mimichat devices remove DEVICE`.
func devicesRemoveCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 60*time.Second)
	return func(c *call) error {
		if len(c.args) != 1 {
			return fmt.Errorf("%w: devices remove takes one device (its URI, or its last segment)", errUsage)
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, _, err := cf.acquire(ctx, c, "devices remove")
		if err != nil {
			return err
		}
		defer h.Close()
		device := c.args[0]
		if !strings.Contains(device, "/") {
			// A last segment, as the UI and the list show it.
			ds, err := h.Devices(ctx)
			if err != nil {
				return err
			}
			var found []string
			for _, d := range ds {
				if d.Name() == device {
					found = append(found, d.URI)
				}
			}
			if len(found) != 1 {
				return fmt.Errorf("devices remove: %d of your devices are named %q", len(found), device)
			}
			device = found[0]
		}
		res, err := h.RemoveDevice(ctx, device)
		if err != nil {
			return err
		}
		for _, r := range res.Rooms {
			if err := c.out.printf("removed-from %s\n", r); err != nil {
				return err
			}
		}
		for _, r := range res.Skipped {
			if err := c.out.printf("not-checked %s\n", r); err != nil {
				return err
			}
		}
		return c.out.printf("removed %s\n", device)
	}
}
