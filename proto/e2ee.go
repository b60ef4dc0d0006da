package proto

import "strings"

// End-to-end encrypted rooms (version 5). A room created with a GroupInfo is
// an MLS group whose group ID is the room URI. The relay is the group's hub:
// it verifies every handshake (commits and proposals travel as
// PublicMessages) against its own view of the group, orders them in the
// room log, routes Welcomes to the devices they are for, and keeps the
// latest GroupInfo for external joins. Application messages are
// PrivateMessages the relay cannot read. The keys these frames add to
// hello, create_room, room_op, event, room_state, room_list and error are in
// frames.go.

// Frame types of end-to-end encrypted rooms (version 5).
const (
	TWelcomes     Type = "welcomes"
	TWelcomeList  Type = "welcome_list"
	TMLSWelcome   Type = "mls_welcome"
	TGetGroupInfo Type = "get_group_info"
	TGroupInfo    Type = "group_info"
)

// Limits of end-to-end encrypted rooms.
const (
	// MaxMLSMessage caps one MLS message of a frame (a commit, a proposal,
	// a Welcome, a GroupInfo with its ratchet tree), in bytes. A GroupInfo
	// with the tree grows by about 330 bytes a member.
	MaxMLSMessage = 4 << 20
	// DefaultMaxHandshakeFrame is the largest create_room or room_op frame
	// the relay accepts when it carries MLS messages (a Welcome and a
	// GroupInfo with the ratchet tree of a large room), in bytes. Other
	// frames keep welcome.max_frame.
	DefaultMaxHandshakeFrame = 8 << 20
	// MaxLeaveProposals caps room_op.proposals: Remove proposals of the
	// leaver's other devices.
	MaxLeaveProposals = 64
)

// Welcomes asks for the Welcomes stored for one of the connection's user's
// devices. Answer: welcome_list. Version 9 pages the list (welcome_pages.go):
// Room asks for one room's Welcomes only, AfterRoom and AfterSeq for those
// after the last entry of the previous page.
type Welcomes struct {
	Head
	RID       uint64 `cbor:"rid"`
	Device    string `cbor:"device"`
	Room      string `cbor:"room,omitempty"`
	AfterRoom string `cbor:"after_room,omitempty"`
	AfterSeq  uint64 `cbor:"after_seq,omitempty"`
}

// PendingWelcome is one stored Welcome: the room it joins and the seq of the
// invite event that carried its commit. The device joins from it and
// subscribes to Room with since = Seq. RatchetTree (version 8) is the
// relay's ratchet tree of the Welcome's epoch (the ratchet_tree extension's
// data), kept with the Welcome when the inviter spoke version 8: its
// Welcome may leave the tree out, and the joiner checks the tree against
// the tree hash inside the Welcome.
//
// Version 9: an entry too large for a frame on its own leaves the tree out
// (TreeSize is then its length), and if still too large the Welcome too
// (WelcomeSize); the client reads them with get_welcome_part.
type PendingWelcome struct {
	Room        string `cbor:"room"`
	Seq         uint64 `cbor:"seq"`
	Welcome     []byte `cbor:"welcome,omitempty"`
	RatchetTree []byte `cbor:"ratchet_tree,omitempty"`
	WelcomeSize uint64 `cbor:"welcome_size,omitempty"`
	TreeSize    uint64 `cbor:"tree_size,omitempty"`
}

// WelcomeList answers welcomes with the Welcomes stored for Device: all of
// them before version 9; from version 9 a page of them, More saying
// whether later ones are left for the next request.
type WelcomeList struct {
	Head
	RID      uint64           `cbor:"rid"`
	Device   string           `cbor:"device"`
	Welcomes []PendingWelcome `cbor:"welcomes"`
	More     bool             `cbor:"more,omitempty"`
}

// MLSWelcome is pushed to the live connections whose hello named Device when
// an invite stores a Welcome for it.
type MLSWelcome struct {
	Head
	Room    string `cbor:"room"`
	Seq     uint64 `cbor:"seq"`
	Device  string `cbor:"device"`
	Welcome []byte `cbor:"welcome"`
}

// GetGroupInfo asks for an encrypted room's latest GroupInfo, for an
// external join. Answer: group_info.
type GetGroupInfo struct {
	Head
	RID  uint64 `cbor:"rid"`
	Room string `cbor:"room"`
}

// GroupInfo answers get_group_info: the latest GroupInfo of the room's
// current Epoch, and the proposals the relay holds for that epoch
// (PublicMessages: SelfRemoves and Removes of leavers), which an external
// joiner commits. RatchetTree (version 7) is the relay's ratchet tree of
// Epoch (the ratchet_tree extension's data), sent when the GroupInfo leaves
// the tree out; the joiner checks it against the GroupInfo's tree hash.
type GroupInfo struct {
	Head
	RID         uint64   `cbor:"rid"`
	Room        string   `cbor:"room"`
	Epoch       uint64   `cbor:"epoch"`
	GroupInfo   []byte   `cbor:"group_info"`
	Proposals   [][]byte `cbor:"proposals,omitempty"`
	RatchetTree []byte   `cbor:"ratchet_tree,omitempty"`
}

// TreeApartVersion is the first protocol version whose group_info may carry
// RatchetTree, and whose clients leave the tree out of their GroupInfos.
const TreeApartVersion = 7

// WelcomeTreeVersion is the first protocol version whose welcome_list
// entries may carry RatchetTree, and whose clients leave the tree out of a
// Welcome when every joiner's KeyPackage says it takes the tree apart
// (mls.ExtensionWelcomeTreeApart).
const WelcomeTreeVersion = 8

func (*Welcomes) FrameType() Type     { return TWelcomes }
func (*WelcomeList) FrameType() Type  { return TWelcomeList }
func (*MLSWelcome) FrameType() Type   { return TMLSWelcome }
func (*GetGroupInfo) FrameType() Type { return TGetGroupInfo }
func (*GroupInfo) FrameType() Type    { return TGroupInfo }

// newE2EEFrame returns an empty frame of version 5's types, or nil.
func newE2EEFrame(t Type) Frame {
	switch t {
	case TWelcomes:
		return new(Welcomes)
	case TWelcomeList:
		return new(WelcomeList)
	case TMLSWelcome:
		return new(MLSWelcome)
	case TGetWelcomePart:
		return new(GetWelcomePart)
	case TWelcomePart:
		return new(WelcomePart)
	case TGetGroupInfo:
		return new(GetGroupInfo)
	case TGroupInfo:
		return new(GroupInfo)
	}
	return nil
}

// validateE2EEFrame checks the field rules of a version 5 frame; handled is
// false for other frames.
func validateE2EEFrame(f Frame) (handled bool, err error) {
	switch f := f.(type) {
	case *Welcomes:
		return true, validateWelcomes(f)
	case *WelcomeList:
		if err := needDevice("device", f.Device); err != nil {
			return true, err
		}
		for _, w := range f.Welcomes {
			if err := validatePendingWelcome(w); err != nil {
				return true, err
			}
		}
	case *GetWelcomePart:
		return true, validateGetWelcomePart(f)
	case *WelcomePart:
		return true, validateWelcomePart(f)
	case *MLSWelcome:
		return true, firstErr(needURI("room", f.Room), needSeq("seq", f.Seq), needDevice("device", f.Device),
			needMLS("welcome", f.Welcome))
	case *GetGroupInfo:
		return true, needURI("room", f.Room)
	case *GroupInfo:
		if err := firstErr(needURI("room", f.Room), needMLS("group_info", f.GroupInfo), maxMLS("ratchet_tree", f.RatchetTree)); err != nil {
			return true, err
		}
		return true, validateMLSList("proposals", f.Proposals)
	default:
		return false, nil
	}
	return true, nil
}

// validateCreateRoomMLS checks create_room's version 5 keys.
func validateCreateRoomMLS(f *CreateRoom) error {
	if len(f.GroupInfo) == 0 {
		if f.Suite != 0 {
			return badField("suite", "only with group_info")
		}
		return nil
	}
	if f.Room == "" {
		return badField("room", "required with group_info: the group ID is the room URI")
	}
	if f.Suite == 0 {
		return badField("suite", "required with group_info")
	}
	return maxMLS("group_info", f.GroupInfo)
}

// validateOpMLS checks room_op's version 5 keys: which ops may carry which.
// Whether the room needs them is the relay's to say.
func validateOpMLS(f *RoomOp) error {
	if err := firstErr(maxMLS("mls", f.MLS), maxMLS("welcome", f.Welcome), maxMLS("group_info", f.GroupInfo)); err != nil {
		return err
	}
	if err := validateMLSList("proposals", f.Proposals); err != nil {
		return err
	}
	switch f.Op {
	case KindInvite, KindKick, KindBan, KindJoin, KindLeave, KindCommit:
	default:
		for _, k := range []struct {
			name string
			set  bool
		}{{"mls", len(f.MLS) > 0}, {"proposals", len(f.Proposals) > 0}, {"welcome", len(f.Welcome) > 0},
			{"group_info", len(f.GroupInfo) > 0}} {
			if k.set {
				return badField(k.name, "op %q carries no MLS message", f.Op)
			}
		}
		return nil
	}
	if f.Op == KindCommit && len(f.MLS) == 0 {
		return badField("mls", "required with op %q", KindCommit)
	}
	if len(f.Welcome) > 0 && f.Op != KindInvite {
		return badField("welcome", "only with op %q", KindInvite)
	}
	if len(f.Welcome) > 0 && len(f.MLS) == 0 {
		return badField("welcome", "only with the commit in mls")
	}
	if len(f.Proposals) > 0 && f.Op != KindLeave {
		return badField("proposals", "only with op %q", KindLeave)
	}
	if len(f.Proposals) > 0 && len(f.MLS) == 0 {
		return badField("proposals", "only with the SelfRemove proposal in mls")
	}
	if f.Op == KindLeave {
		if len(f.GroupInfo) > 0 {
			return badField("group_info", "not with op %q: leaving proposes, it does not commit", KindLeave)
		}
		return nil
	}
	if len(f.MLS) > 0 && len(f.GroupInfo) == 0 {
		return badField("group_info", "required with a commit: the new epoch's GroupInfo with the ratchet tree")
	}
	if len(f.GroupInfo) > 0 && len(f.MLS) == 0 {
		return badField("group_info", "only with a commit in mls")
	}
	return nil
}

// validateEventMLS checks an event's version 5 keys.
func validateEventMLS(e *Event) error {
	if err := maxMLS("mls", e.MLS); err != nil {
		return err
	}
	if err := validateMLSList("proposals", e.Proposals); err != nil {
		return err
	}
	if e.Kind == KindCommit && len(e.MLS) == 0 {
		return badField("mls", "a commit event carries its commit")
	}
	if len(e.Proposals) > 0 && e.Kind != KindLeave {
		return badField("proposals", "only in a %q event", KindLeave)
	}
	return nil
}

func validateMLSList(field string, list [][]byte) error {
	if len(list) > MaxLeaveProposals {
		return badField(field, "at most %d, got %d", MaxLeaveProposals, len(list))
	}
	for i, m := range list {
		if len(m) == 0 || len(m) > MaxMLSMessage {
			return badField(field, "entry %d is %d bytes; 1 to %d", i, len(m), MaxMLSMessage)
		}
	}
	return nil
}

func needMLS(field string, b []byte) error {
	if len(b) == 0 {
		return badField(field, "missing")
	}
	return maxMLS(field, b)
}

func maxMLS(field string, b []byte) error {
	if len(b) > MaxMLSMessage {
		return badField(field, "longer than %d bytes", MaxMLSMessage)
	}
	return nil
}

func needSeq(field string, seq uint64) error {
	if seq == 0 {
		return badField(field, "sequence numbers start at 1")
	}
	return nil
}

// needDevice checks the shape of a device URI mimi://DOMAIN/d/USER/DEVICE;
// the relay parses it fully (mls.ParseDeviceURI).
func needDevice(field, s string) error {
	if err := needURI(field, s); err != nil {
		return err
	}
	rest := s[len("mimi://"):]
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 || !strings.HasPrefix(rest[slash:], "/d/") {
		return badField(field, "must be a device URI mimi://DOMAIN/d/USER/DEVICE")
	}
	return nil
}
