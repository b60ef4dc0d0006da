package proto

// Type names a frame type; it is the "t" key of every frame.
type Type string

// Frame types. Client to relay: hello, create_room, room_op, submit,
// subscribe, unsubscribe, history, signal, rooms, room_info.
// Relay to client: welcome, ok, ack, event, subscribed, history_page,
// signal, room_list, room_state, notice (version 2), error.
const (
	THello       Type = "hello"
	TWelcome     Type = "welcome"
	TCreateRoom  Type = "create_room"
	TRoomOp      Type = "room_op"
	TOK          Type = "ok"
	TSubmit      Type = "submit"
	TAck         Type = "ack"
	TEvent       Type = "event"
	TSubscribe   Type = "subscribe"
	TSubscribed  Type = "subscribed"
	TUnsubscribe Type = "unsubscribe"
	THistory     Type = "history"
	THistoryPage Type = "history_page"
	TSignal      Type = "signal"
	TRooms       Type = "rooms"
	TRoomList    Type = "room_list"
	TRoomInfo    Type = "room_info"
	TRoomState   Type = "room_state"
	TNotice      Type = "notice"
	TError       Type = "error"
)

// Frame is one protocol frame. Only the types of this package implement it.
type Frame interface {
	FrameType() Type
	head() *Head
}

// Head carries the "t" key. It is embedded in every frame; Encode fills it.
type Head struct {
	T Type `cbor:"t,omitempty"`
}

func (h *Head) head() *Head { return h }

// Hello is the first frame a client sends: protocol version and bearer token.
// The token may instead come in the upgrade request's Authorization header.
type Hello struct {
	Head
	V      uint64 `cbor:"v"`
	Token  string `cbor:"token,omitempty"`
	Client string `cbor:"client,omitempty"` // free-form agent name, for logs
	// Device (version 5) is this connection's device URI
	// mimi://DOMAIN/d/USER/DEVICE; its user must be the authenticated user.
	// mls_welcome frames go only to connections that named their device.
	Device string `cbor:"device,omitempty"`
}

// Welcome answers a valid hello: who the relay says you are, and its limits.
type Welcome struct {
	Head
	V          uint64 `cbor:"v"`
	User       string `cbor:"user"`   // the authenticated user's URI
	Domain     string `cbor:"domain"` // the relay's domain
	MaxFrame   uint64 `cbor:"max_frame"`
	MaxContent uint64 `cbor:"max_content"`
	RatePerSec uint64 `cbor:"rate"` // sustained writes per second allowed; 0 = unlimited
}

// Role is a member's role in a room, modelled on room-policy-03.
type Role string

// Roles in rank order; a higher rank has every capability of a lower one.
const (
	RoleMember    Role = "member"
	RoleModerator Role = "moderator"
	RoleOwner     Role = "owner"
)

// Rank orders roles: 0 for unknown, then member < moderator < owner.
func (r Role) Rank() int {
	switch r {
	case RoleMember:
		return 1
	case RoleModerator:
		return 2
	case RoleOwner:
		return 3
	}
	return 0
}

// State is a user's membership state in a room.
type State string

// Membership states. A user with no row (or one who left or was kicked) is
// StateNone; banned is a state, so a ban survives leave and rejoin attempts.
const (
	StateNone    State = "none"
	StateInvited State = "invited"
	StateJoined  State = "joined"
	StateBanned  State = "banned"
)

// History visibility policies (room-policy-03 chat history, simplified).
const (
	HistoryShared = "shared" // members read the whole log
	HistoryJoined = "joined" // members read from their latest join on
)

// Join policies.
const (
	JoinInvite = "invite" // joining needs an invitation
	JoinOpen   = "open"   // any user of the relay may join
)

// Read-receipt policies (room-policy-03 StatusNotificationPolicy
// read_receipts: "on" is optional, "off" is forbidden).
const (
	ReceiptsOn  = "on"  // members may send read receipts (the default)
	ReceiptsOff = "off" // members do not send read receipts
)

// MaxExpiry is the longest message lifetime a room may set, in seconds
// (room-policy-03 durations are uint32 seconds).
const MaxExpiry = 1<<32 - 1

// Kind is the kind of a room event. Messages and room operations share one
// ordered log per room.
type Kind string

// Event kinds. Every one except KindMessage and KindCreate is also an Op a
// client may request with a room_op frame.
const (
	KindMessage    Kind = "message"
	KindCreate     Kind = "create"
	KindName       Kind = "name"
	KindTopic      Kind = "topic"
	KindAvatar     Kind = "avatar"
	KindHistory    Kind = "history"     // Value: HistoryShared or HistoryJoined
	KindJoinPolicy Kind = "join_policy" // Value: JoinInvite or JoinOpen
	KindReceipts   Kind = "receipts"    // Value: ReceiptsOn or ReceiptsOff (version 2)
	KindInvite     Kind = "invite"
	KindJoin       Kind = "join"
	KindLeave      Kind = "leave"
	KindKick       Kind = "kick"
	KindBan        Kind = "ban"
	KindUnban      Kind = "unban"
	KindRole       Kind = "role"
	KindCommit     Kind = "commit" // version 5: an MLS commit that changes no policy state
	KindExpiry     Kind = "expiry" // version 5: Value: message lifetime in seconds, "0" for none (room-policy-03 message expiration)
)

// Kinds lists every Kind above, so code relating each kind to something
// else (session's table of timeline events, the protocol docs test) can
// check that it covers them all. Add a new kind here too.
var Kinds = [...]Kind{KindMessage, KindCreate, KindName, KindTopic, KindAvatar, KindHistory, KindJoinPolicy,
	KindReceipts, KindInvite, KindJoin, KindLeave, KindKick, KindBan, KindUnban, KindRole, KindCommit, KindExpiry}

// CreateRoom asks for a new room; the creator becomes its owner. Room is an
// optional local name (the relay makes the URI mimi://DOMAIN/r/ROOM); empty
// means the relay picks one. History and Join default to shared and invite.
// With GroupInfo (version 5) the room is end-to-end encrypted: GroupInfo is
// the creator's one-member MLS group at epoch 0 with the ratchet tree, its
// group ID the room URI, Suite its cipher suite; Room is then required.
type CreateRoom struct {
	Head
	RID       uint64 `cbor:"rid"`
	Room      string `cbor:"room,omitempty"`
	Name      string `cbor:"name,omitempty"`
	Topic     string `cbor:"topic,omitempty"`
	History   string `cbor:"history,omitempty"`
	Join      string `cbor:"join,omitempty"`
	Suite     uint16 `cbor:"suite,omitempty"`
	GroupInfo []byte `cbor:"group_info,omitempty"`
}

// RoomOp asks for one room operation. Op is a Kind other than message and
// create. Target is the user URI acted on (invite, kick, ban, unban, role);
// Role is the new role (role); Value is the new name, topic, avatar URL or
// policy. Reason is shown to members (kick, ban).
//
// In an encrypted room (version 5) a membership operation carries its MLS
// handshake: MLS is one PublicMessage (a commit, or for leave a SelfRemove
// proposal), Proposals the leaver's Remove proposals of its other devices
// (leave), Welcome the commit's Welcome (invite), GroupInfo the committer's
// GroupInfo of the new epoch with the ratchet tree (every commit).
type RoomOp struct {
	Head
	RID       uint64   `cbor:"rid"`
	Room      string   `cbor:"room"`
	Op        Kind     `cbor:"op"`
	Target    string   `cbor:"target,omitempty"`
	Role      Role     `cbor:"role,omitempty"`
	Value     string   `cbor:"value,omitempty"`
	Reason    string   `cbor:"reason,omitempty"`
	MLS       []byte   `cbor:"mls,omitempty"`
	Proposals [][]byte `cbor:"proposals,omitempty"`
	Welcome   []byte   `cbor:"welcome,omitempty"`
	GroupInfo []byte   `cbor:"group_info,omitempty"`
}

// OK answers create_room, room_op and unsubscribe. For an operation it gives
// the event's place in the room log.
type OK struct {
	Head
	RID  uint64 `cbor:"rid"`
	Room string `cbor:"room,omitempty"`
	Seq  uint64 `cbor:"seq,omitempty"`
	TS   int64  `cbor:"ts,omitempty"`
}

// Submit posts one message: MIMI content bytes and the message ID the client
// computed. RID is the client's submit id; the ack carries it back.
type Submit struct {
	Head
	RID     uint64 `cbor:"rid"`
	Room    string `cbor:"room"`
	ID      []byte `cbor:"id"`
	Content []byte `cbor:"content"`
}

// Ack confirms a submit is durably stored: its sequence number and hub
// accepted timestamp. Dup is true when the message ID was already stored; Seq
// and TS are then those of the original.
type Ack struct {
	Head
	RID  uint64 `cbor:"rid"`
	Room string `cbor:"room"`
	ID   []byte `cbor:"id"`
	Seq  uint64 `cbor:"seq"`
	TS   int64  `cbor:"ts"`
	Dup  bool   `cbor:"dup,omitempty"`
}

// Event is one entry of a room's log. Sender is the user URI the relay
// authenticated. Messages carry ID and Content; operations carry Target,
// Role, Value and Reason as in RoomOp.
type Event struct {
	Head
	Room    string `cbor:"room"`
	Seq     uint64 `cbor:"seq"`
	TS      int64  `cbor:"ts"` // hub accepted timestamp, ms since the epoch
	Sender  string `cbor:"from"`
	Kind    Kind   `cbor:"kind"`
	ID      []byte `cbor:"id,omitempty"`
	Content []byte `cbor:"content,omitempty"`
	Target  string `cbor:"target,omitempty"`
	Role    Role   `cbor:"role,omitempty"`
	Value   string `cbor:"value,omitempty"`
	Reason  string `cbor:"reason,omitempty"`
	// MLS and Proposals (version 5) are the operation's handshake messages
	// in an encrypted room, as in RoomOp, for every member to process in
	// log order.
	MLS       []byte   `cbor:"mls,omitempty"`
	Proposals [][]byte `cbor:"proposals,omitempty"`
}

// Subscribe asks for every event of Room after sequence number Since (0 for
// all the client may see), then live events, with no gap and no duplicate.
type Subscribe struct {
	Head
	RID   uint64 `cbor:"rid"`
	Room  string `cbor:"room"`
	Since uint64 `cbor:"since"`
}

// Subscribed answers subscribe before the replayed events. Head is the last
// sequence number when the subscription started; From is the first sequence
// number the user may read (history visibility).
type Subscribed struct {
	Head
	RID      uint64 `cbor:"rid"`
	Room     string `cbor:"room"`
	LastSeq  uint64 `cbor:"head"`
	FirstSeq uint64 `cbor:"from"`
}

// Unsubscribe stops live events of Room.
type Unsubscribe struct {
	Head
	RID  uint64 `cbor:"rid"`
	Room string `cbor:"room"`
}

// History asks for up to Limit events before sequence number Before (0 means
// the newest), for scrollback.
type History struct {
	Head
	RID    uint64 `cbor:"rid"`
	Room   string `cbor:"room"`
	Before uint64 `cbor:"before"`
	Limit  uint64 `cbor:"limit"`
}

// HistoryPage answers history with events in ascending order. More is true
// when older visible events remain.
type HistoryPage struct {
	Head
	RID    uint64  `cbor:"rid"`
	Room   string  `cbor:"room"`
	Events []Event `cbor:"events"`
	More   bool    `cbor:"more,omitempty"`
}

// Signal kinds: ephemeral, never stored.
const (
	SignalTyping   = "typing"   // Value: "start" or "stop"
	SignalPresence = "presence" // Value: "online", "away" or "offline"
)

// Signal is an ephemeral notice fanned out to the room's connected members.
// From is set by the relay; a client leaves it empty.
type Signal struct {
	Head
	Room  string `cbor:"room"`
	Kind  string `cbor:"kind"`
	Value string `cbor:"value,omitempty"`
	From  string `cbor:"from,omitempty"`
}

// Rooms asks for the rooms the user is in or invited to.
type Rooms struct {
	Head
	RID uint64 `cbor:"rid"`
}

// RoomSummary is one line of a room list. Receipts is the read-receipt
// policy; the relay leaves it out for version 1 clients. Encrypted, Suite
// and Epoch (version 5) describe an end-to-end encrypted room's MLS group;
// Expiry (version 5) is the room's message lifetime in seconds (0: none).
type RoomSummary struct {
	Room      string `cbor:"room"`
	Name      string `cbor:"name,omitempty"`
	Topic     string `cbor:"topic,omitempty"`
	Role      Role   `cbor:"role"`
	State     State  `cbor:"state"`
	Head      uint64 `cbor:"head"`
	Receipts  string `cbor:"receipts,omitempty"`
	Encrypted bool   `cbor:"encrypted,omitempty"`
	Suite     uint16 `cbor:"suite,omitempty"`
	Epoch     uint64 `cbor:"epoch,omitempty"`
	Expiry    uint32 `cbor:"expiry,omitempty"`
}

// RoomList answers rooms.
type RoomList struct {
	Head
	RID   uint64        `cbor:"rid"`
	Rooms []RoomSummary `cbor:"rooms"`
}

// RoomInfo asks for a room's current state and member list.
type RoomInfo struct {
	Head
	RID  uint64 `cbor:"rid"`
	Room string `cbor:"room"`
}

// Member is one user's membership in a room.
type Member struct {
	User  string `cbor:"user"`
	Role  Role   `cbor:"role"`
	State State  `cbor:"state"`
}

// RoomState answers room_info. Receipts is the read-receipt policy; the
// relay leaves it out for version 1 clients. Encrypted, Suite and Epoch
// (version 5) describe an end-to-end encrypted room's MLS group; Expiry
// (version 5) is the room's message lifetime in seconds (0: none).
type RoomState struct {
	Head
	RID       uint64   `cbor:"rid"`
	Room      string   `cbor:"room"`
	Name      string   `cbor:"name,omitempty"`
	Topic     string   `cbor:"topic,omitempty"`
	Avatar    string   `cbor:"avatar,omitempty"`
	History   string   `cbor:"history"`
	Join      string   `cbor:"join"`
	Receipts  string   `cbor:"receipts,omitempty"`
	LastSeq   uint64   `cbor:"head"`
	Members   []Member `cbor:"members"`
	Encrypted bool     `cbor:"encrypted,omitempty"`
	Suite     uint16   `cbor:"suite,omitempty"`
	Epoch     uint64   `cbor:"epoch,omitempty"`
	Expiry    uint32   `cbor:"expiry,omitempty"`
}

// ErrorFrame reports a refused request or bad input. RID names the request
// (0 when none applies). Fatal means the relay closes the connection next.
// RetryMS (version 4) is how long to wait before retrying a rate_limited
// request, in milliseconds. Epoch (version 5) is the room's current MLS
// epoch, with stale_epoch.
type ErrorFrame struct {
	Head
	RID     uint64 `cbor:"rid,omitempty"`
	Room    string `cbor:"room,omitempty"`
	Code    Code   `cbor:"code"`
	Field   string `cbor:"field,omitempty"`
	Reason  string `cbor:"reason"`
	Fatal   bool   `cbor:"fatal,omitempty"`
	RetryMS uint64 `cbor:"retry_ms,omitempty"`
	Epoch   uint64 `cbor:"epoch,omitempty"`
}

func (*Hello) FrameType() Type       { return THello }
func (*Welcome) FrameType() Type     { return TWelcome }
func (*CreateRoom) FrameType() Type  { return TCreateRoom }
func (*RoomOp) FrameType() Type      { return TRoomOp }
func (*OK) FrameType() Type          { return TOK }
func (*Submit) FrameType() Type      { return TSubmit }
func (*Ack) FrameType() Type         { return TAck }
func (*Event) FrameType() Type       { return TEvent }
func (*Subscribe) FrameType() Type   { return TSubscribe }
func (*Subscribed) FrameType() Type  { return TSubscribed }
func (*Unsubscribe) FrameType() Type { return TUnsubscribe }
func (*History) FrameType() Type     { return THistory }
func (*HistoryPage) FrameType() Type { return THistoryPage }
func (*Signal) FrameType() Type      { return TSignal }
func (*Rooms) FrameType() Type       { return TRooms }
func (*RoomList) FrameType() Type    { return TRoomList }
func (*RoomInfo) FrameType() Type    { return TRoomInfo }
func (*RoomState) FrameType() Type   { return TRoomState }
func (*ErrorFrame) FrameType() Type  { return TError }

// newFrame returns an empty frame of type t, or nil for an unknown type.
func newFrame(t Type) Frame {
	switch t {
	case THello:
		return new(Hello)
	case TWelcome:
		return new(Welcome)
	case TCreateRoom:
		return new(CreateRoom)
	case TRoomOp:
		return new(RoomOp)
	case TOK:
		return new(OK)
	case TSubmit:
		return new(Submit)
	case TAck:
		return new(Ack)
	case TEvent:
		return new(Event)
	case TSubscribe:
		return new(Subscribe)
	case TSubscribed:
		return new(Subscribed)
	case TUnsubscribe:
		return new(Unsubscribe)
	case THistory:
		return new(History)
	case THistoryPage:
		return new(HistoryPage)
	case TSignal:
		return new(Signal)
	case TRooms:
		return new(Rooms)
	case TRoomList:
		return new(RoomList)
	case TRoomInfo:
		return new(RoomInfo)
	case TRoomState:
		return new(RoomState)
	case TNotice:
		return new(Notice)
	case TError:
		return new(ErrorFrame)
	}
	if f := newE2EEFrame(t); f != nil {
		return f
	}
	if f := newSubscribeRoomsFrame(t); f != nil {
		return f
	}
	if f := newDeviceTokenFrame(t); f != nil {
		return f
	}
	return newKeyPackageFrame(t)
}
