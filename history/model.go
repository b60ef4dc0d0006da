package history

import (
	"fmt"
	"sort"
	"strings"

	"mimichat/content"
)

// Format is a history file format.
type Format string

const (
	FormatVCon     Format = "vcon"
	FormatCPIM     Format = "cpim"
	FormatMIMIJSON Format = "mimi-json" // draft-rosenberg-mimi-msg-format-00, import only
)

// Room is the room object of a history: its URI and the metadata known at
// the start of the exported period.
type Room struct {
	ID          string
	Name        string
	Subject     string
	Avatar      string
	Mood        string
	Description []Description
}

// Description is one room_description (vCon MIMI §room-obj).
type Description struct {
	Type, Lang, Content string
}

// Member is one party: a user URI with the display name, MIMI role and the
// JWK thumbprints of its clients.
type Member struct {
	URI         string
	Name        string
	Role        string
	Thumbprints []string
}

// TombstoneStatus says why a message's content is gone.
type TombstoneStatus uint8

const (
	NoTombstone TombstoneStatus = iota
	Retracted                   // deleted by a later message
	Expired                     // its expiry passed
)

func (s TombstoneStatus) String() string {
	switch s {
	case Retracted:
		return "retracted"
	case Expired:
		return "expired"
	}
	return ""
}

// Item is one entry of a history in hub order: a message (ID, Raw, Msg), a
// room event (Event), or a tombstone standing for a message whose content
// was deleted or expired before the export (Tombstone, ID).
type Item struct {
	Seq    uint64 // hub sequence number; 0 when the source had none
	Time   int64  // hub time (or sender time for CPIM/JSON), ms since the epoch
	Sender string // user URI

	ID  content.MessageID
	Raw []byte // exact content bytes (hash these)
	Msg *content.Message
	// Verified is true when ID is the -08 hash of Raw for Sender and the
	// room, so the message is exactly what was sent.
	Verified bool

	Event *content.RoomEvent

	Tombstone TombstoneStatus

	// Room is the room the reader knew when it handed the item over ("" when
	// the file names it only at its end): importers use it to stream.
	Room string
}

// IsMessage reports whether the item carries MIMI content.
func (it *Item) IsMessage() bool { return it.Event == nil && it.Tombstone == NoTombstone }

// Attachment is a cached copy of an external part's content (vCon
// attachments with dialog_object_ref).
type Attachment struct {
	MessageID   content.MessageID
	PartIndex   int
	Time        int64
	Party       string
	MediaType   string
	Filename    string
	ContentHash string // "sha256:" + base64url
	Body        []byte
}

// History is a room's history in the neutral model.
type History struct {
	Room        Room
	Members     []Member
	Items       []Item
	Attachments []Attachment
}

// Report lists what a conversion could not carry, by reason, with counts,
// plus import statistics. It is shown to the user after every conversion.
type Report struct {
	Format   Format
	Items    int // items read or written
	Messages int
	Events   int
	Dropped  map[string]int // reason → count
	Notes    map[string]int // lossless but noteworthy (e.g. unverifiable IDs)
}

func newReport(f Format) *Report {
	return &Report{Format: f, Dropped: map[string]int{}, Notes: map[string]int{}}
}

// Drop records n occurrences of something the target format cannot carry.
func (r *Report) Drop(reason string, n int) {
	if r != nil && n > 0 {
		r.Dropped[reason] += n
	}
}

// Note records something noteworthy that was carried.
func (r *Report) Note(what string, n int) {
	if r != nil && n > 0 {
		r.Notes[what] += n
	}
}

func (r *Report) count(it *Item) {
	r.Items++
	if it.Event != nil {
		r.Events++
	} else {
		r.Messages++
	}
}

// Lossless reports whether nothing was dropped.
func (r *Report) Lossless() bool { return len(r.Dropped) == 0 }

// String is the summary shown to the user.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d items (%d messages, %d room events)\n", r.Format, r.Items, r.Messages, r.Events)
	if len(r.Dropped) == 0 {
		b.WriteString("nothing dropped\n")
	} else {
		b.WriteString("not carried:\n")
		for _, k := range sortedKeys(r.Dropped) {
			fmt.Fprintf(&b, "  %6d  %s\n", r.Dropped[k], k)
		}
	}
	for _, k := range sortedKeys(r.Notes) {
		fmt.Fprintf(&b, "  note: %d %s\n", r.Notes[k], k)
	}
	return b.String()
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ImportError is a refusal of bad input. It names where: the line (CPIM,
// 1-based) or the JSON path (vCon, MIMI JSON), and the rule broken.
type ImportError struct {
	Format Format
	Line   int    // CPIM
	Path   string // JSON path, e.g. "$.dialog[3].message_id"
	Rule   string
	Err    error
}

func (e *ImportError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where = fmt.Sprintf("line %d", e.Line)
	}
	msg := fmt.Sprintf("history: %s import: %s: %s", e.Format, where, e.Rule)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ImportError) Unwrap() error { return e.Err }
