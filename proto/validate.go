package proto

import (
	"strings"
	"unicode/utf8"
)

// Field size limits, in bytes.
const (
	MaxURI    = 512
	MaxName   = 256
	MaxTopic  = 1024
	MaxReason = 512
	MaxToken  = 256
	MaxSlug   = 64
)

// Validate checks the field rules of a decoded frame; Decode calls it.
func Validate(f Frame) error {
	if handled, err := validateKeyPackageFrame(f); handled {
		return err
	}
	if handled, err := validateE2EEFrame(f); handled {
		return err
	}
	if handled, err := validateSubscribeRoomsFrame(f); handled {
		return err
	}
	if handled, err := validateDeviceTokenFrame(f); handled {
		return err
	}
	switch f := f.(type) {
	case *Hello:
		if f.V == 0 {
			return badField("v", "missing protocol version")
		}
		if f.Device != "" {
			if err := needDevice("device", f.Device); err != nil {
				return err
			}
		}
		return maxLen("token", f.Token, MaxToken)
	case *CreateRoom:
		if f.Room != "" && !ValidSlug(f.Room) {
			return badField("room", "local room name must be 1-%d of a-z 0-9 . _ -", MaxSlug)
		}
		if err := firstErr(maxLen("name", f.Name, MaxName), maxLen("topic", f.Topic, MaxTopic)); err != nil {
			return err
		}
		if f.History != "" && f.History != HistoryShared && f.History != HistoryJoined {
			return badField("history", "must be %q or %q", HistoryShared, HistoryJoined)
		}
		if f.Join != "" && f.Join != JoinInvite && f.Join != JoinOpen {
			return badField("join", "must be %q or %q", JoinInvite, JoinOpen)
		}
		return validateCreateRoomMLS(f)
	case *RoomOp:
		return validateOp(f)
	case *Submit:
		if err := needURI("room", f.Room); err != nil {
			return err
		}
		if len(f.ID) != MessageIDSize {
			return badField("id", "message ID must be %d bytes, got %d", MessageIDSize, len(f.ID))
		}
		if len(f.Content) == 0 {
			return badField("content", "missing content")
		}
	case *Subscribe:
		return needURI("room", f.Room)
	case *Unsubscribe:
		return needURI("room", f.Room)
	case *RoomInfo:
		return needURI("room", f.Room)
	case *History:
		if f.Limit > MaxHistoryLimit {
			return badField("limit", "at most %d", MaxHistoryLimit)
		}
		return needURI("room", f.Room)
	case *Signal:
		return validateSignal(f)
	case *Event:
		return validateEvent(f)
	case *HistoryPage:
		for i := range f.Events {
			if err := validateEvent(&f.Events[i]); err != nil {
				return err
			}
		}
	case *Notice:
		return validateNotice(f)
	case *Ack:
		if len(f.ID) != MessageIDSize {
			return badField("id", "message ID must be %d bytes", MessageIDSize)
		}
	case *ErrorFrame:
		if f.Code == "" {
			return badField("code", "missing error code")
		}
	}
	return nil
}

func validateOp(f *RoomOp) error {
	if err := needURI("room", f.Room); err != nil {
		return err
	}
	if err := maxLen("reason", f.Reason, MaxReason); err != nil {
		return err
	}
	if err := validateOpMLS(f); err != nil {
		return err
	}
	switch f.Op {
	case KindName:
		return maxLen("value", f.Value, MaxName)
	case KindTopic:
		return maxLen("value", f.Value, MaxTopic)
	case KindAvatar:
		return maxLen("value", f.Value, MaxURI)
	case KindHistory:
		if f.Value != HistoryShared && f.Value != HistoryJoined {
			return badField("value", "history policy must be %q or %q", HistoryShared, HistoryJoined)
		}
	case KindJoinPolicy:
		if f.Value != JoinInvite && f.Value != JoinOpen {
			return badField("value", "join policy must be %q or %q", JoinInvite, JoinOpen)
		}
	case KindReceipts:
		if f.Value != ReceiptsOn && f.Value != ReceiptsOff {
			return badField("value", "read receipts policy must be %q or %q", ReceiptsOn, ReceiptsOff)
		}
	case KindExpiry:
		if _, err := ParseExpiry(f.Value); err != nil {
			return err
		}
	case KindJoin, KindLeave, KindCommit:
	case KindInvite:
		if f.Role != "" && f.Role.Rank() == 0 {
			return badField("role", "must be %q, %q or %q", RoleMember, RoleModerator, RoleOwner)
		}
		return needURI("target", f.Target)
	case KindKick, KindBan, KindUnban:
		return needURI("target", f.Target)
	case KindRole:
		if err := needURI("target", f.Target); err != nil {
			return err
		}
		if f.Role.Rank() == 0 {
			return badField("role", "must be %q, %q or %q", RoleMember, RoleModerator, RoleOwner)
		}
	default:
		return badField("op", "unknown room operation %q", truncate(string(f.Op)))
	}
	return nil
}

func validateNotice(f *Notice) error {
	if err := needURI("room", f.Room); err != nil {
		return err
	}
	if f.Seq == 0 {
		return badField("seq", "sequence numbers start at 1")
	}
	switch f.Kind {
	case KindInvite, KindKick, KindBan, KindUnban, KindRole, KindJoin, KindLeave:
	default:
		return badField("kind", "a notice is about invite, kick, ban, unban, role, join or leave, not %q", truncate(string(f.Kind)))
	}
	switch f.State {
	case StateNone, StateInvited, StateJoined, StateBanned:
	default:
		return badField("state", "unknown membership state %q", truncate(string(f.State)))
	}
	if f.Role != "" && f.Role.Rank() == 0 {
		return badField("role", "must be %q, %q or %q", RoleMember, RoleModerator, RoleOwner)
	}
	return maxLen("from", f.From, MaxURI)
}

func validateSignal(f *Signal) error {
	if err := needURI("room", f.Room); err != nil {
		return err
	}
	switch f.Kind {
	case SignalTyping:
		if f.Value != "start" && f.Value != "stop" {
			return badField("value", "typing must be \"start\" or \"stop\"")
		}
	case SignalPresence:
		if f.Value != "online" && f.Value != "away" && f.Value != "offline" {
			return badField("value", "presence must be \"online\", \"away\" or \"offline\"")
		}
	default:
		return badField("kind", "unknown signal kind %q", truncate(f.Kind))
	}
	return maxLen("from", f.From, MaxURI)
}

func validateEvent(e *Event) error {
	if e.T != "" && e.T != TEvent {
		return badField("t", "nested event has type %q", truncate(string(e.T)))
	}
	if err := needURI("room", e.Room); err != nil {
		return err
	}
	if e.Seq == 0 {
		return badField("seq", "sequence numbers start at 1")
	}
	if e.Kind == "" {
		return badField("kind", "missing event kind")
	}
	if e.Kind == KindMessage && len(e.ID) != MessageIDSize {
		return badField("id", "message ID must be %d bytes", MessageIDSize)
	}
	return validateEventMLS(e)
}

// ValidSlug reports whether s is a valid local room or user name.
func ValidSlug(s string) bool {
	if s == "" || len(s) > MaxSlug {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func needURI(field, s string) error {
	if s == "" {
		return badField(field, "missing")
	}
	if len(s) > MaxURI {
		return badField(field, "longer than %d bytes", MaxURI)
	}
	if !strings.HasPrefix(s, "mimi://") {
		return badField(field, "must be a mimi:// URI")
	}
	return nil
}

func maxLen(field, s string, n int) error {
	if len(s) > n {
		return badField(field, "longer than %d bytes", n)
	}
	if !utf8.ValidString(s) {
		return badField(field, "not UTF-8")
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ParseExpiry reads the value of an expiry operation or event: a lifetime
// in whole seconds, decimal without leading zeros, up to MaxExpiry; "0"
// means messages do not expire.
func ParseExpiry(v string) (uint32, error) {
	if v == "" || len(v) > 10 || (len(v) > 1 && v[0] == '0') {
		return 0, badField("value", "message expiry must be seconds from 0 to %d, got %q", uint64(MaxExpiry), truncate(v))
	}
	var n uint64
	for _, c := range []byte(v) {
		if c < '0' || c > '9' {
			return 0, badField("value", "message expiry must be seconds from 0 to %d, got %q", uint64(MaxExpiry), truncate(v))
		}
		n = n*10 + uint64(c-'0')
	}
	if n > MaxExpiry {
		return 0, badField("value", "message expiry must be seconds from 0 to %d, got %q", uint64(MaxExpiry), truncate(v))
	}
	return uint32(n), nil
}
