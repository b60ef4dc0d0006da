package content

// The room timeline executes messages in hub order (the relay's per-room
// sequence): edits and deletes replace bodies while keeping every version,
// reactions and receipts fold into the message they name, replies and
// threads are resolved, expiry is scheduled, and replacements are authorized
// against the room policy (content-08 §9.3). docs/timeline.md has the rules.
//
// Concurrency: a Timeline is safe for one writer and many readers at once.
// Writers take a mutex; readers take its read side, or hold it for a whole
// frame through Read. Version changes on every change, without locking, so
// a UI can skip redrawing when nothing happened.

import (
	"errors"
	"sort"
	"sync"
	"sync/atomic"
)

// Envelope is one message as the relay delivered it.
type Envelope struct {
	Seq     uint64    // the hub's per-room sequence number (the order of execution)
	HubTime int64     // hub accepted timestamp, ms since the UNIX epoch
	Sender  string    // user URI as authenticated by the relay
	ID      MessageID // derived message ID (§3.3)
	Raw     []byte    // the exact bytes received; kept, and aliased by the compact body
	Msg     *Message  // decoded Raw; if nil, TimelineOptions.Decode is used
}

// TimelineOptions configures a Timeline. The zero value works: the default
// room policy, no local user, Decode, and bounds of 4096 held and 1024 listed
// refusals.
type TimelineOptions struct {
	LocalUser string // user URI of this client's user: mentions, unread, relative expiry
	Policy    RoomPolicy
	// InitialRoles are roles known before the first room event (a room
	// snapshot); roles from room events take over from their sequence number.
	InitialRoles map[string]MemberRole
	// MaxHeld bounds the holding area for items whose target has not arrived.
	MaxHeld int
	// MaxRefusals bounds the list returned by Refused (oldest dropped first).
	MaxRefusals int
	// RoomURI, when set, makes Apply recompute every envelope's ID from
	// Sender, RoomURI and Raw (§3.3) and refuse a mismatch; leave it empty
	// when the caller has verified IDs already.
	RoomURI string
	// Decode turns Raw into a Message when an Envelope has no Msg; nil
	// means the package's Decode.
	Decode func([]byte) (*Message, error)
	// Highlight, when set, reports whether a single part's content holds
	// one of the local user's highlight words: such a message counts as a
	// mention (flag, counter) like a link to LocalUser does.
	Highlight func(content []byte) bool
}

// Outcome says what Apply did with an envelope.
type Outcome uint8

const (
	Applied Outcome = iota // in the state now
	Held                   // waiting for its target to arrive
	Refused                // kept out of the state; see Refused()
)

// Timeline is the executed state of one room.
type Timeline struct {
	mu      sync.RWMutex
	version atomic.Uint64
	opts    TimelineOptions

	recs  recordStore
	ids   idTable
	names interner // senders and members
	strs  interner // content types, languages, topics
	local uint32   // interned LocalUser; 0 if unset

	visible []uint32 // record numbers (or event numbers with eventBit), in hub order
	events  []RoomEvent
	maxSeq  uint64

	roles        map[uint32][]roleChange
	initialRoles map[uint32]MemberRole

	threads       map[uint32]*thread // by interned topic
	unknownParent map[uint32]MessageID
	waitingReply  map[MessageID][]uint32 // replies whose parent has not arrived

	held      heldArea
	refusals  []Refusal
	refusedN  int
	knocks    []uint32 // knock records, in arrival order
	expiry    expiryHeap
	relUnread []uint32 // heads with relative expiry not yet read
	marker    uint64   // read marker: messages with seq <= marker are read
	unread    int
	mentions  int
}

const eventBit = 1 << 31

// NewTimeline returns an empty timeline.
func NewTimeline(opts TimelineOptions) *Timeline {
	if opts.Policy.Roles == nil {
		opts.Policy = DefaultRoomPolicy()
	}
	if opts.MaxHeld <= 0 {
		opts.MaxHeld = 4096
	}
	if opts.MaxRefusals <= 0 {
		opts.MaxRefusals = 1024
	}
	if opts.Decode == nil {
		opts.Decode = Decode
	}
	t := &Timeline{
		opts:          opts,
		roles:         map[uint32][]roleChange{},
		initialRoles:  map[uint32]MemberRole{},
		threads:       map[uint32]*thread{},
		unknownParent: map[uint32]MessageID{},
		waitingReply:  map[MessageID][]uint32{},
	}
	t.held.byTarget = map[MessageID][]*heldItem{}
	t.names.of("") // make index 0 valid
	t.local = t.names.of(opts.LocalUser)
	for u, r := range opts.InitialRoles {
		t.initialRoles[t.names.of(u)] = r
	}
	return t
}

// Version increments on every change of the state.
func (t *Timeline) Version() uint64 { return t.version.Load() }

func (t *Timeline) changed() { t.version.Add(1) }

// Apply executes one envelope. A refused envelope yields a *RefusalError and
// leaves the state as it was (apart from the refusal list).
func (t *Timeline) Apply(env Envelope) (Outcome, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out, err := t.applyLocked(&env)
	t.drainReleased()
	return out, err
}

// ApplyEvent executes one room event.
func (t *Timeline) ApplyEvent(ev RoomEvent) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.applyEventLocked(ev); err != nil {
		var re *RefusalError
		if errors.As(err, &re) {
			return t.refuse(re.Refusal)
		}
		return err
	}
	t.noteSeq(ev.Seq)
	t.changed()
	return nil
}

func (t *Timeline) noteSeq(seq uint64) {
	if seq > t.maxSeq {
		t.maxSeq = seq
	}
}

func (t *Timeline) applyLocked(env *Envelope) (Outcome, error) {
	if env.ID.IsZero() || env.ID[0] != 0x01 {
		return Refused, t.refuse(refusal(env, MessageID{}, RefuseBadID, "message ID %s: zero or unknown hash algorithm", env.ID))
	}
	if t.opts.RoomURI != "" && !Verify(env.ID, env.Sender, t.opts.RoomURI, env.Raw) {
		return Refused, t.refuse(refusal(env, MessageID{}, RefuseBadID, "message ID %s is not the hash of the sender, room and bytes", env.ID))
	}
	if env.Msg == nil {
		m, err := t.opts.Decode(env.Raw)
		if err != nil {
			return Refused, t.refuse(refusal(env, MessageID{}, RefuseUndecodable, "%v", err))
		}
		env.Msg = m
	}
	if _, dup := t.ids.find(&t.recs, env.ID); dup {
		return Refused, t.refuse(refusal(env, env.ID, RefuseDuplicateID, "message ID %s already in the room", env.ID))
	}
	if uri, ok := senderURI(env.Msg); ok && string(uri) != env.Sender {
		return Refused, t.refuse(refusal(env, MessageID{}, RefuseSenderMismatch, "senderUri %q is not the authenticated sender %q", uri, env.Sender))
	}
	m := env.Msg
	var (
		out Outcome
		err error
	)
	switch {
	case isStatusReport(m):
		out, err = t.applyReceipt(env)
	case m.Replaces != nil:
		out, err = t.applyReplace(env)
	case m.InReplyTo != nil && isReactionBody(&m.Body):
		out, err = t.applyReaction(env)
	default:
		out, err = t.applyMessage(env)
	}
	if out != Refused {
		t.noteSeq(env.Seq)
		t.changed()
	}
	return out, err
}

// newRecord stores env as a record of kind k and registers its ID.
func (t *Timeline) newRecord(env *Envelope, k recKind) (uint32, *record) {
	i, r := t.recs.add()
	m := env.Msg
	*r = record{id: env.ID, seq: env.Seq, hubTime: env.HubTime, raw: env.Raw, owner: i,
		sender: t.names.of(env.Sender), kind: k}
	t.setBody(r, m)
	if len(m.TopicID) > 0 {
		r.topic = t.strs.ofBytes(m.TopicID) + 1
	}
	if has, rel, at := t.policyExpiry(m.Expires, env.HubTime); has {
		r.flags |= fHasExpiry
		if rel {
			r.flags |= fRelExpiry
		}
		r.expires = at
	}
	t.ids.insert(&t.recs, i)
	t.held.arrived(env.ID)
	return i, r
}

// setBody stores m's body compactly.
func (t *Timeline) setBody(r *record, m *Message) {
	b := &m.Body
	r.dispo, r.card = b.Disposition, b.Cardinality
	switch b.Cardinality {
	case Single:
		r.ctype = t.strs.of(b.ContentType)
		r.lang = t.strs.of(b.Language)
		r.content = b.Content
	case NullPart:
		r.lang = t.strs.of(b.Language)
	default:
		r.full = m
	}
}

// clearBody drops a version's content (delete, expiry): the tombstone keeps
// who and when, not what.
func clearBody(r *record) {
	r.content, r.full, r.raw = nil, nil, nil
	r.card = NullPart
}

// body rebuilds the NestedPart of a record. Slices alias the stored bytes:
// callers must not modify them.
func (t *Timeline) body(r *record) NestedPart {
	if r.full != nil {
		return r.full.Body
	}
	return NestedPart{Disposition: r.dispo, Language: t.strs.str(r.lang), Cardinality: r.card,
		ContentType: t.strs.str(r.ctype), Content: r.content}
}

// current returns the record number of the version in force for head h.
func (t *Timeline) current(h uint32) uint32 {
	r := t.recs.at(h)
	if r.x != nil && len(r.x.versions) > 0 {
		return r.x.versions[len(r.x.versions)-1]
	}
	return h
}

// resolve finds the record an ID names.
func (t *Timeline) resolve(id *MessageID) (uint32, bool) {
	if id == nil {
		return 0, false
	}
	return t.ids.find(&t.recs, *id)
}

// applyMessage adds a visible message (or knock).
func (t *Timeline) applyMessage(env *Envelope) (Outcome, error) {
	k := recMessage
	if IsKnock(env.Msg) {
		k = recKnock
	}
	i, r := t.newRecord(env, k)
	if k == recKnock {
		t.knocks = append(t.knocks, i)
	}
	t.linkParent(i, r, env.Msg.InReplyTo)
	t.insertVisible(i, r.seq)
	if r.topic != 0 && k == recMessage {
		t.threadAdd(r.topic, i)
	}
	if k == recMessage {
		t.scheduleExpiry(i, r)
		t.countUnread(i, r)
	}
	t.replyArrived(i, env.ID)
	return Applied, nil
}

// insertVisible puts v (a record number or event number|eventBit) into the
// hub-ordered visible list: an append in order, a binary insert if late.
func (t *Timeline) insertVisible(v uint32, seq uint64) {
	n := len(t.visible)
	if n == 0 || t.visibleSeq(t.visible[n-1]) < seq {
		t.visible = append(t.visible, v)
		return
	}
	i := sort.Search(n, func(i int) bool { return t.visibleSeq(t.visible[i]) > seq })
	t.visible = append(t.visible, 0)
	copy(t.visible[i+1:], t.visible[i:])
	t.visible[i] = v
}

func (t *Timeline) visibleSeq(v uint32) uint64 {
	if v&eventBit != 0 {
		return t.events[v&^eventBit].Seq
	}
	return t.recs.at(v).seq
}

// visibleIndex returns the position of the first visible entry with seq >= s.
func (t *Timeline) visibleIndex(s uint64) int {
	return sort.Search(len(t.visible), func(i int) bool { return t.visibleSeq(t.visible[i]) >= s })
}
