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
	// WelcomeEntries returns the Welcomes stored for device without their
	// bytes or trees: each one's room, seq and sizes, ordered by room and
	// seq. A page of Welcomes (protocol version 9) is planned from them, so
	// it reads only the bytes it sends.
	WelcomeEntries(ctx context.Context, device string) ([]WelcomeEntry, error)
	// WelcomeData returns the bytes of the one Welcome stored for device
	// from room's invite seq, without reading its tree or the device's
	// other Welcomes; ErrNotFound when none is stored.
	WelcomeData(ctx context.Context, device, room string, seq uint64) ([]byte, error)
	// WelcomeTree returns the ratchet tree kept beside the one Welcome
	// stored for device from room's invite seq, nil when it keeps none,
	// without reading its Welcome's bytes or the device's other Welcomes;
	// ErrNotFound when no such Welcome is stored.
	WelcomeTree(ctx context.Context, device, room string, seq uint64) ([]byte, error)
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
	GroupInfo []byte // the latest GroupInfo (with or without the ratchet tree), for external joins
	// TreeWidth and TreeChunks hold the relay's ratchet tree in
	// mls.TreeChunkNodes-node chunks (protocol version 7: the GroupInfo may
	// leave the tree out). In a Batch, TreeChunks are only the chunks that
	// changed: each is upserted by (Room, Index), and chunks at or past
	// ceil(TreeWidth/64) are dropped. LoadRooms returns every chunk in index
	// order. TreeWidth 0: no chunks (an older row; the tree is in State or
	// GroupInfo), and a Batch then leaves the stored chunks alone.
	TreeWidth  uint32
	TreeChunks []TreeChunk
}

// TreeChunk is one chunk of a group's ratchet tree (mls EncodeTreeChunk).
type TreeChunk struct {
	Index uint32
	Data  []byte
}

// TreeChunkNodes is how many tree nodes a TreeChunk holds (mls.TreeChunkNodes).
const TreeChunkNodes = 64

// TreeChunkCount is how many chunks a tree of width nodes has.
func TreeChunkCount(width uint32) uint32 { return (width + TreeChunkNodes - 1) / TreeChunkNodes }

// Welcome is an MLS Welcome waiting for one device: it joins Room from the
// invite event Seq.
type Welcome struct {
	Device  string // device URI
	User    string // the device's user URI
	Room    string
	Seq     uint64
	Data    []byte    // the MLSMessage Welcome
	Created time.Time // millisecond precision
	// RatchetTree is the relay's ratchet tree of the Welcome's epoch
	// (protocol version 8: the Welcome may leave it out, and the joiner
	// checks it against the Welcome's tree hash); nil when not kept.
	RatchetTree []byte
}

// WelcomeEntry is a stored Welcome as WelcomeEntries lists it: where it
// joins and how large it and its tree are, without their bytes.
type WelcomeEntry struct {
	Room     string
	Seq      uint64
	Size     int // bytes of the Welcome (len(Welcome.Data))
	TreeSize int // bytes of its ratchet tree, 0 when it keeps none
}

// RoomUser names one user's membership of one room; AppendBatch deletes
// that user's Welcomes for that room (the membership ended).
type RoomUser struct {
	Room string
	User string
}
