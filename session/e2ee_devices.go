package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// The user's devices (/devices, `mimichat devices`): the relay's directory
// of them joined with what this device's groups show (each device's
// signature key, the rooms it is in), and removal, which takes a device out
// of every room's group by a commit before the relay forgets it.

// UserDevice is one device of this user.
type UserDevice struct {
	URI         string    // mimi://host/d/USER/DEVICE
	This        bool      // the device this session runs as
	Added       time.Time // its first KeyPackage upload (zero: the relay does not list it)
	KeyPackages uint64    // single-use KeyPackages it has left on the relay
	LastResort  bool      // it has a last-resort KeyPackage on the relay
	Fingerprint string    // of its signature key, 4 groups of 4 hex digits ("" when no group shows it)
	Rooms       int       // encrypted rooms whose group (as this device has it) holds it
}

// Name is the device's last URI segment, as notices name it.
func (d UserDevice) Name() string { return d.URI[strings.LastIndexByte(d.URI, '/')+1:] }

// ErrThisDevice refuses removing the device the session runs as: it would
// register again on its next connect; remove it from another device.
var ErrThisDevice = errors.New("this is the device you are using; remove it from another of your devices")

// keyFingerprint is a short, readable fingerprint of a signature key.
func keyFingerprint(pub []byte) string {
	h := sha256.Sum256(pub)
	x := hex.EncodeToString(h[:8])
	return x[0:4] + " " + x[4:8] + " " + x[8:12] + " " + x[12:16]
}

// UserDevices lists this user's devices: those the relay has, and any
// other that a group of this device still holds a leaf of. Ordered by URI.
func (s *Session) UserDevices(ctx context.Context) ([]UserDevice, error) {
	listed, err := s.Devices(ctx)
	if err != nil {
		return nil, err
	}
	byURI := map[string]*UserDevice{}
	for _, d := range listed {
		byURI[d.Device] = &UserDevice{URI: d.Device, Added: time.UnixMilli(d.Created).UTC(), KeyPackages: d.Count,
			LastResort: d.LastResort}
	}
	s.mu.Lock()
	for _, room := range s.joinedEncryptedLocked() {
		rg, _ := s.groupLocked(room)
		if rg == nil || !rg.g.Active() {
			continue
		}
		for _, m := range rg.g.Members() {
			dc, err := m.Device()
			if err != nil || dc.UserURI() != s.opts.User {
				continue
			}
			uri := dc.DeviceURI()
			d := byURI[uri]
			if d == nil {
				d = &UserDevice{URI: uri}
				byURI[uri] = d
			}
			d.Rooms++
			if d.Fingerprint == "" {
				d.Fingerprint = keyFingerprint(m.SignatureKey)
			}
		}
	}
	s.mu.Unlock()
	me := byURI[s.device.uri]
	if me == nil {
		me = &UserDevice{URI: s.device.uri}
		byURI[s.device.uri] = me
	}
	me.This = true
	me.Fingerprint = keyFingerprint(s.device.id.SignaturePub)
	out := make([]UserDevice, 0, len(byURI))
	for _, d := range byURI {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b UserDevice) int { return strings.Compare(a.URI, b.URI) })
	return out, nil
}

// joinedEncryptedLocked lists the encrypted rooms the user is joined to.
func (s *Session) joinedEncryptedLocked() []string {
	var out []string
	for id, r := range s.rooms {
		if _, enc := s.encrypted[id]; enc && r.State == proto.StateJoined {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// DeviceRemoval is what removing a device did.
type DeviceRemoval struct {
	Rooms   []string // rooms whose group this device committed the device's removal in
	Skipped []string // rooms that hold it where this device could not commit (no usable state, refused)
}

// RemoveDevice removes one of this user's other devices: from every
// encrypted room's group by a commit (the other members process it: the
// device leaves, and it cannot decrypt what follows), then from the relay
// with its KeyPackages, so nobody can add it again. The rooms are tried
// even when one fails; the error says which failed.
func (s *Session) RemoveDevice(ctx context.Context, device string) (DeviceRemoval, error) {
	var out DeviceRemoval
	c, err := s.live()
	if err != nil {
		return out, err
	}
	if c.welcome.V < keyPackageVersion {
		return out, fmt.Errorf("session: remove device: the relay speaks protocol %d, devices need %d", c.welcome.V, keyPackageVersion)
	}
	if device == s.device.uri {
		return out, fmt.Errorf("session: remove device %s: %w", device, ErrThisDevice)
	}
	s.mu.Lock()
	rooms := s.joinedEncryptedLocked()
	s.mu.Unlock()
	var errs []error
	for _, room := range rooms {
		usable, holds := s.deviceIn(room, device)
		if !usable {
			out.Skipped = append(out.Skipped, room) // this device cannot tell, nor commit
			continue
		}
		if !holds {
			continue
		}
		removed := false
		_, err := s.commitOp(ctx, room, proto.RoomOp{Room: room, Op: proto.KindCommit},
			func(rg *roomGroup) (mls.CommitOptions, bool, error) {
				leaves := rg.leavesOfDevice(s.opts.User, device)
				removed = len(leaves) > 0
				return mls.CommitOptions{Remove: leaves}, removed, nil
			})
		switch {
		case err != nil:
			out.Skipped = append(out.Skipped, room)
			errs = append(errs, fmt.Errorf("%s: %w", room, err))
		case removed:
			out.Rooms = append(out.Rooms, room)
		}
	}
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.RemoveDevice{RID: rid, Device: device})
	var re *RelayError
	switch {
	case err != nil && errors.As(err, &re) && re.Code == proto.CodeNoSuchDevice && len(out.Rooms) > 0:
		// Gone from the relay already (an earlier, partly failed removal).
	case err != nil:
		errs = append(errs, err)
	default:
		if _, ok := f.(*proto.OK); !ok {
			errs = append(errs, fmt.Errorf("unexpected answer %s", f.FrameType()))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("session: remove device %s: %w", device, err)
	}
	return out, nil
}

// deviceIn reports whether this device has a usable group of room, and
// whether that group holds a leaf of device.
func (s *Session) deviceIn(room, device string) (usable, holds bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rg, _ := s.groupLocked(room)
	if rg == nil || rg.broken != "" || !rg.g.Active() {
		return false, false
	}
	return true, len(rg.leavesOfDevice(s.opts.User, device)) > 0
}

// leavesOfDevice lists the leaves of user's device (one, unless a group
// is damaged).
func (rg *roomGroup) leavesOfDevice(user, device string) []uint32 {
	var out []uint32
	for _, m := range rg.g.Members() {
		d, err := m.Device()
		if err == nil && d.UserURI() == user && d.DeviceURI() == device {
			out = append(out, m.Leaf)
		}
	}
	return out
}
