package store

import (
	"context"
	"time"
)

// GroupDirectory is the part of Store that keeps what end-to-end encrypted
// rooms (protocol version 5) add: each encrypted room's MLS group as the
// relay follows it (Group, written in AppendBatch with the event that
// changed it), the Welcomes waiting for devices, and which device uploaded
// each KeyPackage (so the relay can route a Welcome, which names
// KeyPackageRefs, to devices).
type GroupDirectory interface {
	// Welcomes returns the Welcomes stored for device, ordered by room and
	// seq.
	Welcomes(ctx context.Context, device string) ([]Welcome, error)
	// DeleteWelcomesBefore deletes the Welcomes stored before t and
	// returns how many it deleted.
	DeleteWelcomesBefore(ctx context.Context, t time.Time) (int64, error)
	// KeyPackageOwner returns the device that uploaded the KeyPackage with
	// this KeyPackageRef, whether or not it was claimed since (PutKeyPackages
	// records the ref; a claim keeps it; RemoveDevice and the KeyPackage's
	// expiry drop it), or ErrNotFound.
	KeyPackageOwner(ctx context.Context, ref []byte) (Device, error)
}

// Group is an encrypted room's MLS group as the relay follows it. AppendBatch
// upserts it by Room; LoadRooms returns it with its room.
type Group struct {
	Room      string
	Suite     uint16 // MLS cipher suite
	Epoch     uint64
	State     []byte // the relay's view (mls.HubGroup.Save), opaque to the store
	GroupInfo []byte // the latest GroupInfo with the ratchet tree, for external joins
}

// Welcome is an MLS Welcome waiting for one device: it joins Room from the
// invite event Seq.
type Welcome struct {
	Device  string // device URI
	User    string // the device's user URI
	Room    string
	Seq     uint64
	Data    []byte    // the MLSMessage Welcome
	Created time.Time // millisecond precision
}

// RoomUser names one user's membership of one room; AppendBatch deletes
// that user's Welcomes for that room (the membership ended).
type RoomUser struct {
	Room string
	User string
}
