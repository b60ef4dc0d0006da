package content

// Compact storage behind the Timeline. A room can hold millions of messages,
// so every accepted envelope becomes one fixed-size record in chunked storage
// (no per-message maps, no reallocation of a giant slice), IDs are found
// through an open-addressing table of uint32 record numbers (the ID itself is
// stored once, in the record), and repeated strings are interned.

import (
	"hash/maphash"
	"math/bits"
)

// recKind says what an accepted envelope did.
type recKind uint8

const (
	recMessage        recKind = iota // a visible message (first version)
	recKnock                         // a knock, visible as a system line
	recReaction                      // a reaction (first version)
	recEdit                          // a later version of a message
	recDelete                        // the delete of a message (tombstone version)
	recReactionChange                // a later version of a reaction
	recUnlike                        // the withdrawal of a reaction
	recReceipt                       // a status report (never visible)
)

// Record flags.
const (
	fDeleted       uint16 = 1 << iota // head: retracted (tombstone)
	fExpired                          // head: expired (tombstone)
	fHasExpiry                        // head: expires is meaningful
	fRelExpiry                        // head: expires counts from when the local user read it
	fMention                          // head: the current version mentions the local user
	fLoop                             // this record is on an inReplyTo cycle
	fUnknownParent                    // inReplyTo names an ID not (yet) seen; see Timeline.unknownParent
	fUnread                           // head: counted in the unread counter
	fMentionUnread                    // head: counted in the mention counter
)

// record is one accepted envelope. Its body is kept compact: a Single or
// NullPart body is stored as interned strings plus a content slice that
// aliases the raw bytes when the decoder does; anything else keeps the
// decoded *Message.
type record struct {
	id      MessageID
	seq     uint64
	hubTime int64
	raw     []byte
	content []byte   // Single: the content
	full    *Message // body is neither Single nor NullPart: the decoded message
	x       *recExtra
	parent  uint32 // record number+1 of the inReplyTo version; 0 none or unknown
	owner   uint32 // record number of the first version (itself for heads)
	sender  uint32 // interned
	topic   uint32 // interned topicId+1; 0 = no topic
	ctype   uint32 // interned contentType
	lang    uint32 // interned language
	expires uint32 // Expiration.Time
	flags   uint16
	kind    recKind
	dispo   Disposition
	card    Cardinality
}

// recExtra is allocated only for records that gather something: later
// versions, reactions, receipts or a read time.
type recExtra struct {
	versions  []uint32 // later versions (record numbers), sorted by seq
	reactions []uint32 // reaction records aimed at any version, sorted by seq
	receipts  []receiptSlot
	readAt    int64 // ms; relative expiry starts here
}

type receiptSlot struct {
	seq    uint64
	member uint32
	status uint8
}

func (r *record) extra() *recExtra {
	if r.x == nil {
		r.x = &recExtra{}
	}
	return r.x
}

// Records live in chunks that never move. The first chunks grow
// geometrically (16, 16, 32, …, 2048 records: 4,096 in all), later ones hold
// 4,096 each. A small room (most of a user's rooms) holds a 16-record chunk,
// not a fixed 4,096-record one (608 KB per room was 595 of 645 MB for a user
// in 1,000 small rooms), and a large room wastes at most one chunk as before.
const (
	firstChunkBits = 4
	chunkBits      = 12
	chunkSize      = 1 << chunkBits
	growingChunks  = chunkBits - firstChunkBits + 1 // chunks 0..8 hold [0, 4096)
)

// recordStore appends records in chunks that never move, so a record's
// address never changes and growth never copies.
type recordStore struct {
	chunks [][]record
	n      uint32
}

// chunkOf returns the chunk holding record i and i's offset in it: chunk 0
// holds [0, 16), chunk k in 1..8 holds [16·2^(k-1), 16·2^k), and chunk 8+j
// holds [4096·j, 4096·(j+1)).
func chunkOf(i uint32) (int, uint32) {
	if i >= chunkSize {
		return growingChunks - 1 + int(i>>chunkBits), i & (chunkSize - 1)
	}
	k := bits.Len32(i >> firstChunkBits)
	if k == 0 {
		return 0, i
	}
	return k, i - 1<<(firstChunkBits+k-1)
}

// chunkLen is the number of records chunk k holds.
func chunkLen(k int) int {
	switch {
	case k == 0:
		return 1 << firstChunkBits
	case k < growingChunks:
		return 1 << (firstChunkBits + k - 1)
	}
	return chunkSize
}

func (s *recordStore) add() (uint32, *record) {
	i := s.n
	k, off := chunkOf(i)
	if k == len(s.chunks) {
		s.chunks = append(s.chunks, make([]record, chunkLen(k)))
	}
	s.n++
	return i, &s.chunks[k][off]
}

func (s *recordStore) at(i uint32) *record {
	k, off := chunkOf(i)
	return &s.chunks[k][off]
}

// idTable maps a MessageID to its record number: open addressing with linear
// probing, load factor ≤ 1/2. A slot holds the low 32 bits of the ID's hash
// above the record number+1. The hash bits pick the home slot (tables stay
// under 2^32 slots), so growing never re-reads a record, and a probe only
// touches a record (a likely cache miss) when the stored bits match: the
// duplicate check of a new ID usually reads no record at all. The hash is
// seeded so chosen IDs cannot force collisions.
type idTable struct {
	seed  maphash.Seed
	slots []uint64
	n     int
}

func (t *idTable) find(s *recordStore, id MessageID) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	h := uint32(maphash.Comparable(t.seed, id))
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := t.slots[i]
		if v == 0 {
			return 0, false
		}
		if uint32(v>>32) == h && s.at(uint32(v)-1).id == id {
			return uint32(v) - 1, true
		}
	}
}

// insert adds rec (whose ID must not be present yet).
func (t *idTable) insert(s *recordStore, rec uint32) {
	if (t.n+1)*2 > len(t.slots) {
		t.grow()
	}
	t.place(uint64(uint32(maphash.Comparable(t.seed, s.at(rec).id)))<<32 | uint64(rec+1))
	t.n++
}

func (t *idTable) place(v uint64) {
	mask := uint32(len(t.slots) - 1)
	i := uint32(v>>32) & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = v
}

func (t *idTable) grow() {
	if len(t.slots) == 0 {
		t.seed = maphash.MakeSeed()
	}
	old := t.slots
	t.slots = make([]uint64, max(64, 2*len(old)))
	for _, v := range old {
		if v != 0 {
			t.place(v)
		}
	}
}

// interner hands out small numbers for repeated strings (senders, content
// types, languages, topics). Number 0 is always "".
type interner struct {
	strs []string
	idx  map[string]uint32
}

func (in *interner) of(s string) uint32 {
	if s == "" {
		return 0
	}
	if in.idx == nil {
		in.idx = map[string]uint32{}
		in.strs = []string{""}
	}
	if i, ok := in.idx[s]; ok {
		return i
	}
	i := uint32(len(in.strs))
	in.strs = append(in.strs, s)
	in.idx[s] = i
	return i
}

// ofBytes is of for a byte slice; the lookup does not allocate.
func (in *interner) ofBytes(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	if i, ok := in.idx[string(b)]; ok {
		return i
	}
	return in.of(string(b))
}

// lookup finds s without adding it.
func (in *interner) lookup(s string) (uint32, bool) {
	if s == "" {
		return 0, true
	}
	i, ok := in.idx[s]
	return i, ok
}

func (in *interner) str(i uint32) string {
	if i == 0 {
		return ""
	}
	return in.strs[i]
}
