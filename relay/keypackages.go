package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mimichat/mls"
	"mimichat/proto"
	"mimichat/relay/store"
)

// The KeyPackage directory (protocol version 3): devices upload
// KeyPackages, other users' clients claim one per device to add the user to
// an MLS group. The relay reads each upload with mls.InspectKeyPackage (it
// never sees a private key) so it hands out only valid, unexpired
// KeyPackages of the device that uploaded them.

// Directory bounds: enough for a user's handful of devices and a generous
// batch each, small enough that one user cannot fill the relay's disk.
const (
	maxDevicesPerUser       = 32
	maxKeyPackagesPerDevice = 200
	// keyPackagesLowWater: a claim that leaves a device with fewer
	// single-use KeyPackages pushes key_packages_low to its user.
	keyPackagesLowWater = 5
)

// keyPackageVersion is the first protocol version with these frames.
const keyPackageVersion = 3

// keyPackageFrame handles a KeyPackage directory frame; ok is false for
// other frames. It sends the answer or the refusal itself (with the rid).
func (c *conn) keyPackageFrame(f proto.Frame) (ok bool) {
	var rid uint64
	var ref *refusal
	switch f := f.(type) {
	case *proto.UploadKeyPackages:
		rid = f.RID
		ref = c.versioned(f, func() *refusal { return c.uploadKeyPackages(f) })
	case *proto.ClaimKeyPackages:
		rid = f.RID
		ref = c.versioned(f, func() *refusal { return c.claimKeyPackages(f) })
	case *proto.Devices:
		rid = f.RID
		ref = c.versioned(f, func() *refusal { return c.devices(f) })
	case *proto.RemoveDevice:
		rid = f.RID
		ref = c.versioned(f, func() *refusal { return c.removeDevice(f) })
	case *proto.NewDeviceToken:
		rid = f.RID
		ref = c.versioned(f, func() *refusal { return c.newDeviceToken(f) })
	case *proto.KeyPackagesStored, *proto.KeyMaterial, *proto.DeviceList, *proto.KeyPackagesLow, *proto.DeviceToken:
		ref = refuse(proto.CodeUnknownType, "a client does not send %s frames", f.FrameType())
	default:
		return false
	}
	if ref != nil {
		c.send(errFrame(rid, "", ref))
	}
	return true
}

// versioned runs fn when the connection speaks a version with the
// directory; an older client cannot have meant to send f.
func (c *conn) versioned(f proto.Frame, fn func() *refusal) *refusal {
	if c.v < keyPackageVersion {
		return refuse(proto.CodeUnknownType, "%s needs protocol version %d; the connection speaks %d", f.FrameType(), keyPackageVersion, c.v)
	}
	return fn()
}

func storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// ownDevice parses a device URI and refuses one of another user.
func (c *conn) ownDevice(uri string) (mls.DeviceCredential, *refusal) {
	d, err := mls.ParseDeviceURI(uri)
	if err != nil {
		return d, &refusal{code: proto.CodeBadField, field: "device", reason: err.Error()}
	}
	if d.UserURI() != c.user {
		return d, refuse(proto.CodeForbidden, "device %s is not a device of %s", uri, c.user)
	}
	return d, nil
}

func (c *conn) uploadKeyPackages(f *proto.UploadKeyPackages) *refusal {
	if _, ref := c.ownDevice(f.Device); ref != nil {
		return ref
	}
	if c.device != "" && f.Device != c.device && deviceTokens(c.srv.db) != nil {
		// A device's token registers that device only.
		return refuse(proto.CodeForbidden, "this connection is device %s, not %s", c.device, f.Device)
	}
	if wait, ok := c.srv.limits.write(c.user, time.Now()); !ok {
		return rateLimited(wait, "more than %g writes per second", c.srv.cfg.RatePerSec)
	}
	now := time.Now()
	kps := make([]store.KeyPackage, 0, len(f.KeyPackages))
	for i, b := range f.KeyPackages {
		info, err := mls.InspectKeyPackage(b, now)
		if err != nil {
			return &refusal{code: proto.CodeBadKeyPackage, field: "key_packages", reason: fmt.Sprintf("key package %d: %v", i, err)}
		}
		d, err := mls.ParseDeviceCredential(info.Credential)
		if err != nil {
			return &refusal{code: proto.CodeBadKeyPackage, field: "key_packages", reason: fmt.Sprintf("key package %d: credential: %v", i, err)}
		}
		if d.DeviceURI() != f.Device {
			return &refusal{code: proto.CodeBadKeyPackage, field: "key_packages",
				reason: fmt.Sprintf("key package %d names device %s, not %s", i, d.DeviceURI(), f.Device)}
		}
		kps = append(kps, store.KeyPackage{Ref: info.Ref, Suite: uint16(info.CipherSuite), LastResort: info.LastResort,
			NotAfter: info.NotAfter, Data: b})
	}
	ctx, cancel := storeCtx()
	defer cancel()
	st, err := c.srv.db.PutKeyPackages(ctx, store.Device{URI: f.Device, User: c.user, Created: now},
		kps, store.Limits{Devices: maxDevicesPerUser, KeyPackages: maxKeyPackagesPerDevice}, now)
	switch {
	case errors.Is(err, store.ErrLimit):
		return refuse(proto.CodeTooMany, "at most %d devices per user and %d key packages per device", maxDevicesPerUser, maxKeyPackagesPerDevice)
	case errors.Is(err, store.ErrConflict):
		return refuse(proto.CodeForbidden, "device %s belongs to another user", f.Device)
	case errors.Is(err, store.ErrRevoked):
		return refuse(proto.CodeDeviceRevoked, "%s", revokedReason(f.Device))
	case err != nil:
		c.log.Error("store key packages", "device", f.Device, "err", err)
		return refuse(proto.CodeInternal, "storage failed; retry")
	}
	c.send(&proto.KeyPackagesStored{RID: f.RID, Device: f.Device, Count: uint64(st.Count), LastResort: st.LastResort})
	return nil
}

func (c *conn) claimKeyPackages(f *proto.ClaimKeyPackages) *refusal {
	// A claim uses up another user's KeyPackages: it counts as a write.
	if wait, ok := c.srv.limits.write(c.user, time.Now()); !ok {
		return rateLimited(wait, "more than %g writes per second", c.srv.cfg.RatePerSec)
	}
	ctx, cancel := storeCtx()
	defer cancel()
	answer := &proto.KeyMaterial{RID: f.RID, User: f.User, Devices: []proto.DeviceKeyMaterial{}}
	if _, err := c.srv.db.UserByURI(ctx, f.User); errors.Is(err, store.ErrNotFound) {
		answer.Status = proto.ClaimUserUnknown
		c.send(answer)
		return nil
	} else if err != nil {
		c.log.Error("claim: read user", "user", f.User, "err", err)
		return refuse(proto.CodeInternal, "storage failed; retry")
	}
	claims, err := c.srv.db.ClaimKeyPackages(ctx, f.User, f.Suite, time.Now())
	if err != nil {
		c.log.Error("claim key packages", "user", f.User, "err", err)
		return refuse(proto.CodeInternal, "storage failed; retry")
	}
	got := 0
	for _, cl := range claims {
		d := proto.DeviceKeyMaterial{Device: cl.Device}
		switch cl.Status {
		case store.Claimed:
			d.Status, d.KeyPackage = proto.DeviceSuccess, cl.KeyPackage.Data
			got++
		case store.NothingCompatible:
			d.Status = proto.DeviceNothingCompatible
		default:
			d.Status = proto.DeviceExhausted
		}
		answer.Devices = append(answer.Devices, d)
	}
	switch {
	case got > 0 && got == len(claims):
		answer.Status = proto.ClaimSuccess
	case got > 0:
		answer.Status = proto.ClaimPartialSuccess
	default:
		answer.Status = proto.ClaimNoCompatibleMaterial
	}
	c.send(answer)
	for _, cl := range claims {
		if cl.Status == store.Claimed && cl.Left < keyPackagesLowWater {
			c.srv.hub.users.keyPackagesLow(f.User, cl.Device, cl.Left)
		}
	}
	return nil
}

// keyPackagesLow pushes key_packages_low to user's connections that speak
// a version with the directory.
func (u *userConns) keyPackagesLow(user, device string, left int) {
	frame, err := proto.Encode(&proto.KeyPackagesLow{Device: device, Count: uint64(left)})
	if err != nil {
		return
	}
	u.mu.RLock()
	defer u.mu.RUnlock()
	for c := range u.users[user] {
		if c.v >= keyPackageVersion {
			c.enqueue(outItem{kind: itemFrame, data: frame})
		}
	}
}

func (c *conn) devices(f *proto.Devices) *refusal {
	ctx, cancel := storeCtx()
	defer cancel()
	ds, err := c.srv.db.Devices(ctx, c.user, time.Now())
	if err != nil {
		c.log.Error("list devices", "user", c.user, "err", err)
		return refuse(proto.CodeInternal, "storage failed; retry")
	}
	out := &proto.DeviceList{RID: f.RID, Devices: make([]proto.DeviceInfo, 0, len(ds))}
	for _, d := range ds {
		out.Devices = append(out.Devices, proto.DeviceInfo{Device: d.URI, Created: d.Created.UnixMilli(),
			Count: uint64(d.Count), LastResort: d.LastResort})
	}
	c.send(out)
	return nil
}

func (c *conn) removeDevice(f *proto.RemoveDevice) *refusal {
	if _, ref := c.ownDevice(f.Device); ref != nil {
		return ref
	}
	ctx, cancel := storeCtx()
	defer cancel()
	var err error
	if dt := deviceTokens(c.srv.db); dt != nil {
		// Removal revokes the device's tokens and URI for good.
		err = dt.RevokeDevice(ctx, c.user, f.Device, time.Now())
	} else {
		err = c.srv.db.RemoveDevice(ctx, c.user, f.Device)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(proto.CodeNoSuchDevice, "%s has no device %s", c.user, f.Device)
	case err != nil:
		c.log.Error("remove device", "device", f.Device, "err", err)
		return refuse(proto.CodeInternal, "storage failed; retry")
	}
	c.send(&proto.OK{RID: f.RID})
	if deviceTokens(c.srv.db) != nil {
		c.srv.closeDevice(c.user, f.Device)
		c.srv.announceRevoked(c.user, f.Device)
	}
	return nil
}
