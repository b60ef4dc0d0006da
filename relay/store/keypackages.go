package store

import (
	"context"
	"errors"
	"time"
)

// KeyPackageDirectory is the part of Store that keeps devices (MLS clients)
// and the KeyPackages they upload for others to claim when adding their
// user to a group.
type KeyPackageDirectory interface {
	// PutKeyPackages registers device d (when new) and stores kps for it in
	// one transaction. A KeyPackage whose Ref is already stored is skipped (a
	// retried upload); a last-resort one replaces the device's stored
	// last-resort KeyPackage of the same suite. A device URI registered to
	// another user is ErrConflict; more than lim.Devices devices for the
	// user, or more than lim.KeyPackages single-use KeyPackages for the
	// device, is ErrLimit and stores nothing. It returns the device's
	// standing after the upload.
	PutKeyPackages(ctx context.Context, d Device, kps []KeyPackage, lim Limits, now time.Time) (DeviceStatus, error)
	// ClaimKeyPackages takes, in one transaction, one KeyPackage of suite
	// for each device of user (ordered by device URI) unexpired at now: the
	// oldest single-use one, which is deleted, or else the last-resort one,
	// which is kept. Concurrent claims never get the same single-use
	// KeyPackage. Expired KeyPackages of the user's devices are deleted.
	ClaimKeyPackages(ctx context.Context, user string, suite uint16, now time.Time) ([]Claim, error)
	// Devices lists user's devices ordered by URI, with their counts of
	// KeyPackages unexpired at now.
	Devices(ctx context.Context, user string, now time.Time) ([]DeviceStatus, error)
	// RemoveDevice deletes user's device and all its KeyPackages; a device
	// that is not user's is ErrNotFound.
	RemoveDevice(ctx context.Context, user, device string) error
}

// ErrLimit is returned when an upload would exceed a Limits bound.
var ErrLimit = errors.New("store: over the limit")

// Device is one MLS client of a user.
type Device struct {
	URI     string    // mimi://DOMAIN/d/USER/DEVICE
	User    string    // the user URI
	Created time.Time // first upload, millisecond precision
}

// DeviceStatus is a device and what it has in the directory.
type DeviceStatus struct {
	Device
	Count      int  // single-use KeyPackages left (unexpired)
	LastResort bool // an unexpired last-resort KeyPackage is stored
}

// KeyPackage is one stored KeyPackage: its bytes (opaque to the store) and
// what the relay read from them when it checked the upload.
type KeyPackage struct {
	Ref        []byte // KeyPackageRef (RFC 9420 §5.2); unique
	Suite      uint16
	LastResort bool
	NotAfter   time.Time // whole seconds
	Data       []byte
}

// Limits bound what one user stores in the directory.
type Limits struct {
	Devices     int // devices per user
	KeyPackages int // single-use KeyPackages per device
}

// ClaimStatus is a device's outcome in a claim.
type ClaimStatus int

// Claim outcomes (protocol-06 KeyMaterialClientCode).
const (
	Claimed           ClaimStatus = iota // KeyPackage holds the device's KeyPackage
	Exhausted                            // no unexpired KeyPackage left
	NothingCompatible                    // unexpired KeyPackages, none of the suite
)

// Claim is one device's part of a claim.
type Claim struct {
	Device     string
	Status     ClaimStatus
	KeyPackage KeyPackage // when Status is Claimed
	Left       int        // single-use KeyPackages the device has left (any suite)
}
