package ui

// /devices: the user's devices (each data directory is one MLS device) in a
// box, and removing one: a confirmation, then a commit taking it out of
// every room's group and its removal from the relay. Listing and removal
// talk to the relay and the cache, so both run in a tea.Cmd.

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/render"
	"mimichat/session"
)

var deviceCommands = []*command{
	{name: "devices", help: "list your devices (this one marked, key fingerprints); enter on one removes it from every room",
		target: targetNone, run: runDevices},
}

// deviceTimeout bounds a listing or a removal (a removal commits in every
// room that holds the device).
const deviceTimeout = 60 * time.Second

func runDevices(m *Model, c *call) tea.Cmd {
	if strings.TrimSpace(c.arg) != "" {
		m.setNotice("usage: /devices (then choose a device to remove it)")
		return nil
	}
	return m.loadDevices()
}

// loadDevices lists the devices in the background and opens the box.
func (m *Model) loadDevices() tea.Cmd {
	s := m.s
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), deviceTimeout)
		defer cancel()
		ds, err := s.UserDevices(ctx)
		return funcMsg(func(m *Model) tea.Cmd {
			m.onDevices(ds, err)
			return nil
		})
	}
}

// onDevices opens the devices box.
func (m *Model) onDevices(ds []session.UserDevice, err error) {
	if err != nil {
		m.setRefusal("cannot list your devices: " + err.Error())
		return
	}
	m.ov = &devicesDialog{km: m.km, devices: ds, remove: m.confirmRemoveDevice}
}

// confirmRemoveDevice is the question asked before removing d (nil, with
// a notice, for this device).
func (m *Model) confirmRemoveDevice(d session.UserDevice) dialog {
	if d.This {
		m.setNotice("this is the device you are using: remove it from another of your devices")
		return nil
	}
	q := "Remove device " + render.SanitizeLine(d.Name()) + "? It leaves every room and cannot read new messages."
	s := m.s
	return newConfirmDialog(m.km, q, func() tea.Cmd {
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), deviceTimeout)
			defer cancel()
			res, err := s.RemoveDevice(ctx, d.URI)
			return funcMsg(func(m *Model) tea.Cmd {
				m.onDeviceRemoved(d, res, err)
				return nil
			})
		}
	})
}

// onDeviceRemoved says what the removal did.
func (m *Model) onDeviceRemoved(d session.UserDevice, res session.DeviceRemoval, err error) {
	name := render.SanitizeLine(d.Name())
	if err != nil {
		m.setRefusal("removing device " + name + ": " + err.Error())
		return
	}
	msg := fmt.Sprintf("removed device %s (from %d rooms)", name, len(res.Rooms))
	if len(res.Skipped) > 0 {
		msg += fmt.Sprintf("; %d rooms this device holds no keys of may still have it", len(res.Skipped))
	}
	m.setNotice(msg)
}

// devicesDialog lists the devices, four lines each, and removes the
// selected one on accept (after a confirmation). Keys: the picker context.
type devicesDialog struct {
	km      *keys.Keymap
	devices []session.UserDevice
	sel     int
	remove  func(d session.UserDevice) dialog
}

func (d *devicesDialog) Context() keys.Context { return keys.Picker }

func (d *devicesDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	a, _ := d.km.Action(keys.Picker, k.String())
	switch a {
	case keys.SelectPrev:
		d.sel = max(0, d.sel-1)
	case keys.SelectNext:
		d.sel = max(0, min(len(d.devices)-1, d.sel+1))
	case keys.PageUp:
		d.sel = max(0, d.sel-pickerPage)
	case keys.PageDown:
		d.sel = max(0, min(len(d.devices)-1, d.sel+pickerPage))
	case keys.Accept:
		if d.sel < len(d.devices) {
			// The confirmation replaces this box (or a notice
			// explains why not).
			return d.remove(d.devices[d.sel]), nil
		}
		return nil, nil
	case keys.Cancel:
		return nil, nil
	}
	return d, nil
}

// deviceLines is one device's lines in the box.
func deviceLines(th *render.Theme, dv session.UserDevice, selected bool, inner int) []string {
	s := &th.Styles
	st, mark := s.PickerItem, "  "
	if selected {
		st, mark = s.PickerSelected, "› "
	}
	head := mark + render.SanitizeLine(dv.Name())
	if dv.This {
		head += "  (this device)"
	}
	key := "key unknown"
	if dv.Fingerprint != "" {
		key = "key " + dv.Fingerprint
	}
	key += fmt.Sprintf(" · in %d rooms", dv.Rooms)
	seen := "not on the relay"
	if !dv.Added.IsZero() {
		seen = "added " + dv.Added.UTC().Format("2006-01-02 15:04 UTC") + fmt.Sprintf(" · %d KeyPackages left", dv.KeyPackages)
	}
	line := func(t string) string { return s.Muted.Render(render.TruncateLine("    "+t, inner)) }
	return []string{
		st.Render(padLine(render.TruncateLine(head, inner), inner)),
		line(render.SanitizeLine(dv.URI)),
		line(key),
		line(seen),
	}
}

func (d *devicesDialog) View(th *render.Theme, width, height int) string {
	inner := width - 4
	per := 4
	room := max(1, (height-4)/per) // devices that fit: frame and hint lines aside
	top := max(0, d.sel-room+1)    // the selection stays in view
	var body []string
	for i := top; i < len(d.devices) && i < top+room; i++ {
		body = append(body, deviceLines(th, d.devices[i], i == d.sel, inner)...)
	}
	if len(d.devices) == 0 {
		body = append(body, th.Styles.Muted.Render("no devices"))
	}
	hint := keyHint(d.km, keys.Picker, keys.Accept) + " removes the selected device · " +
		keyHint(d.km, keys.Picker, keys.Cancel) + " closes"
	body = append(body, th.Styles.Muted.Render(render.TruncateLine(hint, inner)))
	return box(th, width, fmt.Sprintf("Your devices (%d)", len(d.devices)), body)
}
