package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"
)

// Store keeps the relay's durable state: the meta record (the domain),
// users and their token hashes, rooms and their members, each room's log,
// and the metadata of attachment blobs. The relay's single writer is the
// only caller of AppendBatch; every other method may be called from any
// goroutine, concurrently with it.
type Store interface {
	// Domain returns the domain recorded by SetDomain, or "" if none is.
	Domain(ctx context.Context) (string, error)
	// SetDomain records the domain once; a second, different one is
	// ErrConflict (URIs already issued would lie).
	SetDomain(ctx context.Context, domain string) error

	// AddUser records u and the SHA-256 of its token. A taken name, URI or
	// token hash is ErrExists.
	AddUser(ctx context.Context, u User, tokenHash []byte) error
	// Users lists every user ordered by name.
	Users(ctx context.Context) ([]User, error)
	// UserByToken returns the user holding the token with this hash, or
	// ErrNotFound.
	UserByToken(ctx context.Context, tokenHash []byte) (User, error)
	// UserByURI returns the user with this URI, or ErrNotFound.
	UserByURI(ctx context.Context, uri string) (User, error)
	// SetTokenHash replaces user name's token hash (rotation, revocation);
	// an unknown name is ErrNotFound, a taken hash ErrExists.
	SetTokenHash(ctx context.Context, name string, tokenHash []byte) error
	// RemoveUser deletes user name and its token hash (room memberships and
	// events naming the user stay); an unknown name is ErrNotFound.
	RemoveUser(ctx context.Context, name string) error

	// LoadRooms returns every room with its members and the stamp of its
	// last event (zero for a room without events).
	LoadRooms(ctx context.Context) ([]RoomState, error)
	// AppendBatch stores b in one durable transaction (and keeps no
	// reference to b or its slices after it returns): when it returns nil
	// everything in b survives a crash; when it returns an error nothing of
	// b is stored. Rooms and members are upserted in order, then events
	// appended in order, then groups upserted, Welcomes stored (one per
	// device, room and seq; a second is ErrDuplicate) and DropWelcomes
	// deleted, in that order. A group of a room neither stored nor in
	// b.Rooms is ErrNotFound. An event whose room is neither stored nor in
	// b.Rooms is ErrNotFound; one whose Seq is not its room's last seq + 1,
	// or whose TS is below the room's last TS, is ErrConflict; one whose Key
	// is already in its room (stored or earlier in b) is ErrDuplicate.
	AppendBatch(ctx context.Context, b Batch) error
	// Submitted returns, for each of keys, the stamp of the event of room
	// stored under that key, or the zero Stamp if there is none. It is how
	// the writer answers a resubmission with the original seq and ts.
	Submitted(ctx context.Context, room string, keys [][]byte) ([]Stamp, error)
	// Head returns the stamp of room's last event (zero if it has none).
	Head(ctx context.Context, room string) (Stamp, error)
	// EventsAfter returns up to limit events of room with Seq > after, in
	// ascending order.
	EventsAfter(ctx context.Context, room string, after uint64, limit int) ([]Event, error)
	// EventsBefore returns the newest up to limit events of room with
	// from <= Seq < before, in ascending order, and whether older events in
	// that range remain.
	EventsBefore(ctx context.Context, room string, from, before uint64, limit int) ([]Event, bool, error)

	// AddBlob records a stored blob's metadata; a taken ID is ErrExists.
	AddBlob(ctx context.Context, b Blob) error
	// Blob returns the metadata of blob id, or ErrNotFound.
	Blob(ctx context.Context, id string) (Blob, error)
	// BlobUsage returns the bytes of blobs uploader stored after since and
	// the creation time of the oldest of them (zero if none).
	BlobUsage(ctx context.Context, uploader string, since time.Time) (int64, time.Time, error)

	// DeleteEventsBefore deletes the events whose TS is below ts (ms),
	// except each room's last event, which keeps the room's head (the next
	// seq continues from it). It returns how many it deleted.
	DeleteEventsBefore(ctx context.Context, ts int64) (int64, error)
	// DeleteBlobsBefore deletes the metadata of blobs created before t and
	// returns their IDs (the caller removes their bytes).
	DeleteBlobsBefore(ctx context.Context, t time.Time) ([]string, error)

	// KeyPackageDirectory: devices and their KeyPackages (keypackages.go).
	KeyPackageDirectory
	// GroupDirectory: encrypted rooms' Welcomes and KeyPackage owners
	// (groups.go).
	GroupDirectory

	// Close makes everything durable and releases the backend.
	Close() error
}

// Errors a Store returns, wrapped with context; test them with errors.Is.
var (
	ErrNotFound  = errors.New("store: not found")
	ErrExists    = errors.New("store: already exists")
	ErrConflict  = errors.New("store: conflicts with what is stored")
	ErrDuplicate = errors.New("store: submission key already in the room")
)

// KeySize is the length of a submission key.
const KeySize = sha256.Size

// Key is a message's submission key.
type Key = [KeySize]byte

// SubmitKey returns a message's submission key: the SHA-256 of its content
// bytes. The relay dedupes submits on it, per room, because the bytes are
// all it can see (content may be end-to-end encrypted) and a client's retry
// resends exactly the same bytes.
func SubmitKey(content []byte) Key { return sha256.Sum256(content) }

// Stamp is where an event sits in its room's log: its sequence number and
// hub timestamp (ms since the UNIX epoch). Seq 0 means no event.
type Stamp struct {
	Seq uint64
	TS  int64
}

// Event is one entry of a room's log.
type Event struct {
	Room  string
	Seq   uint64 // 1, 2, 3, … with no gap
	TS    int64  // hub timestamp, ms; never decreasing within a room
	Key   []byte // messages: the SubmitKey (unique in the room); nil otherwise
	Ends  string // the user whose membership this event ends, or ""
	Frame []byte // the encoded event frame, opaque to the store
}

// Room is a room's metadata.
type Room struct {
	URI        string
	Name       string
	Topic      string
	Avatar     string
	History    string
	JoinPolicy string
	Receipts   string
	Expiry     uint32 // message lifetime in seconds (0: none), enforced through EventExpirer
}

// Member is one user's standing in a room.
type Member struct {
	Room    string
	User    string
	Role    string
	State   string
	JoinSeq uint64 // seq of the event that began the current membership
}

// RoomState is a room as LoadRooms returns it. Group is the MLS group of an
// encrypted room, nil for a plaintext one. Last is never ahead of the
// state returned with it: every change up to Last is in Members, Group and
// the settings (a store written by others while it loads reads Last
// first; the state may then hold later changes too).
type RoomState struct {
	Room
	Last    Stamp
	Members []Member
	Group   *Group
}

// Batch is what one group commit stores.
type Batch struct {
	Rooms        []Room
	Members      []Member
	Events       []Event
	Groups       []Group    // encrypted rooms' groups, upserted by room
	Welcomes     []Welcome  // Welcomes to store
	DropWelcomes []RoomUser // memberships whose Welcomes to delete
}

// User is one account.
type User struct {
	Name    string
	URI     string
	Created time.Time // whole seconds
}

// Blob is an attachment blob's metadata (its bytes live beside the store).
type Blob struct {
	ID       string
	Uploader string // user URI
	Size     int64
	SHA256   []byte
	Created  time.Time // millisecond precision
}

// EventExpirer is a Store that can delete a room's expired events, which
// the relay needs to honour rooms' message expiry policies (a room_op
// expiry on a store without it is refused).
type EventExpirer interface {
	// ExpireRoomEvents deletes room's events whose TS is below ts (ms),
	// its last event included; the room's last stamp is kept, so Head,
	// LoadRooms and AppendBatch continue its seqs after it. It returns how
	// many it deleted.
	ExpireRoomEvents(ctx context.Context, room string, ts int64) (int64, error)
}
