package proto

// Version 9: Welcomes at scale. A welcome_list held every Welcome stored for
// a device, each with its invite's ratchet tree (about 209 bytes a member):
// a few invites to rooms of tens of thousands of members made a frame
// larger than a client reads (MaxRelayFrame), and the client's read failed
// the connection every time it asked. From version 9 the relay pages the
// list so each frame stays within MaxRelayFrame, and an entry too large for
// a frame on its own is listed with its sizes instead of its bytes, which
// the client reads in parts with get_welcome_part: the ratchet tree
// "out of band" of draft-ietf-mimi-protocol's RatchetTreeOption, the
// Welcome itself the same way. No Welcome is left out of a page.

// Frame types of version 9.
const (
	TGetWelcomePart Type = "get_welcome_part"
	TWelcomePart    Type = "welcome_part"
)

// Welcome parts: what get_welcome_part reads.
const (
	PartWelcome     = "welcome"      // the MLSMessage Welcome
	PartRatchetTree = "ratchet_tree" // the relay's ratchet tree of the Welcome's epoch
)

const (
	// WelcomePagesVersion is the first protocol version whose welcome_list
	// is paged (welcomes.room, after_room, after_seq; welcome_list.more),
	// whose entries may carry welcome_size and tree_size, and which has
	// get_welcome_part.
	WelcomePagesVersion = 9
	// MaxRelayFrame is the largest frame carrying MLS messages the relay
	// sends (welcome_list, welcome_part): the largest frame every client
	// since version 5 reads (DefaultMaxHandshakeFrame). A version 5–8
	// connection whose Welcomes do not fit one welcome_list gets the error
	// welcomes_too_large instead.
	MaxRelayFrame = DefaultMaxHandshakeFrame
	// MaxWelcomeTree caps a tree_size: a ratchet tree of about five
	// million members, far beyond what the relay can hold in a group.
	MaxWelcomeTree = 1 << 30
)

// CodeWelcomesTooLarge refuses welcomes from a version 5–8 connection when
// the device's Welcomes do not fit one frame of MaxRelayFrame bytes; version
// 9 pages them.
const CodeWelcomesTooLarge Code = "welcomes_too_large"

// GetWelcomePart asks for bytes of a stored Welcome (Part "welcome") or of
// the ratchet tree kept with it (Part "ratchet_tree") from Offset, for an
// entry of welcome_list that gave its size instead. Answer: welcome_part.
type GetWelcomePart struct {
	Head
	RID    uint64 `cbor:"rid"`
	Device string `cbor:"device"`
	Room   string `cbor:"room"`
	Seq    uint64 `cbor:"seq"`
	Part   string `cbor:"part"`
	Offset uint64 `cbor:"offset,omitempty"`
}

// WelcomePart answers get_welcome_part: Data is the part's bytes from
// Offset, as many as fit the frame; Size is the whole part's length, so the
// client asks again from Offset + len(Data) until it has Size bytes.
type WelcomePart struct {
	Head
	RID    uint64 `cbor:"rid"`
	Device string `cbor:"device"`
	Room   string `cbor:"room"`
	Seq    uint64 `cbor:"seq"`
	Part   string `cbor:"part"`
	Offset uint64 `cbor:"offset,omitempty"`
	Size   uint64 `cbor:"size"`
	Data   []byte `cbor:"data"`
}

func (*GetWelcomePart) FrameType() Type { return TGetWelcomePart }
func (*WelcomePart) FrameType() Type    { return TWelcomePart }

func validateWelcomes(f *Welcomes) error {
	if err := needDevice("device", f.Device); err != nil {
		return err
	}
	if f.Room != "" {
		if err := needURI("room", f.Room); err != nil {
			return err
		}
	}
	switch {
	case f.AfterRoom != "":
		return needURI("after_room", f.AfterRoom)
	case f.AfterSeq != 0:
		return badField("after_seq", "only with after_room")
	}
	return nil
}

// validatePendingWelcome: an entry carries its Welcome or its size, and its
// tree, its size, or neither.
func validatePendingWelcome(w PendingWelcome) error {
	if err := firstErr(needURI("room", w.Room), needSeq("seq", w.Seq)); err != nil {
		return err
	}
	switch {
	case len(w.Welcome) > 0 && w.WelcomeSize > 0:
		return badField("welcome_size", "only when welcome is left out")
	case w.WelcomeSize > MaxMLSMessage:
		return badField("welcome_size", "at most %d", MaxMLSMessage)
	case w.WelcomeSize == 0:
		if err := needMLS("welcome", w.Welcome); err != nil {
			return err
		}
	}
	switch {
	case len(w.RatchetTree) > 0 && w.TreeSize > 0:
		return badField("tree_size", "only when ratchet_tree is left out")
	case w.TreeSize > MaxWelcomeTree:
		return badField("tree_size", "at most %d", MaxWelcomeTree)
	}
	return nil
}

func needPart(p string) error {
	if p != PartWelcome && p != PartRatchetTree {
		return badField("part", "must be %q or %q", PartWelcome, PartRatchetTree)
	}
	return nil
}

func validateGetWelcomePart(f *GetWelcomePart) error {
	return firstErr(needDevice("device", f.Device), needURI("room", f.Room), needSeq("seq", f.Seq), needPart(f.Part))
}

func validateWelcomePart(f *WelcomePart) error {
	if err := firstErr(needDevice("device", f.Device), needURI("room", f.Room), needSeq("seq", f.Seq), needPart(f.Part)); err != nil {
		return err
	}
	switch {
	case f.Size == 0 || f.Size > MaxWelcomeTree:
		return badField("size", "1 to %d", MaxWelcomeTree)
	case f.Offset >= f.Size:
		return badField("offset", "%d is not before size %d", f.Offset, f.Size)
	case len(f.Data) == 0 || uint64(len(f.Data)) > f.Size-f.Offset:
		return badField("data", "%d bytes from offset %d of %d", len(f.Data), f.Offset, f.Size)
	}
	return nil
}
