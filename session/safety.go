package session

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Safety numbers: two users compare, out of band, a short fingerprint over
// the signature keys of both users' devices as this device sees them in a
// room's group. The same devices give the same number on both sides; a new
// device or a changed key gives another, so a user marked verified under
// one number shows as changed.

// ErrNoDevices is returned for a safety number when a user has no device
// in the room's group.
var ErrNoDevices = errors.New("session: no device of the user in the room's group")

// safetyDigits is the length of a safety number: 12 groups of 5 digits.
const safetyDigits = 60

// SafetyNumber is the safety number of this user and user in room: 60
// decimal digits in groups of 5, from SHA-256 over the sorted signature keys
// of both users' devices in the room's group.
func (s *Session) SafetyNumber(room, user string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.safetyNumberLocked(room, user)
}

func (s *Session) safetyNumberLocked(room, user string) (string, error) {
	rg, err := s.groupLocked(room)
	if err != nil {
		return "", err
	}
	if rg == nil {
		return "", fmt.Errorf("session: safety number in %s: this device holds no keys of the room", room)
	}
	mine, theirs := rg.signatureKeys(s.opts.User), rg.signatureKeys(user)
	if len(theirs) == 0 {
		return "", fmt.Errorf("%w: %s in %s", ErrNoDevices, user, room)
	}
	return safetyNumber(append(mine, theirs...)), nil
}

// signatureKeys lists the signature keys of user's devices in the group.
func (rg *roomGroup) signatureKeys(user string) [][]byte {
	var out [][]byte
	for _, m := range rg.g.Members() {
		if d, err := m.Device(); err == nil && d.UserURI() == user {
			out = append(out, m.SignatureKey)
		}
	}
	return out
}

// safetyNumber hashes the sorted keys (each length-prefixed) twice, with a
// distinct first byte, for 64 bytes; each group of 5 digits is 5 bytes
// taken as a number modulo 100,000.
func safetyNumber(keys [][]byte) string {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, bytes.Compare)
	var data []byte
	for _, k := range keys {
		data = binary.BigEndian.AppendUint32(data, uint32(len(k)))
		data = append(data, k...)
	}
	h1 := sha256.Sum256(append([]byte{1}, data...))
	h2 := sha256.Sum256(append([]byte{2}, data...))
	digest := append(h1[:], h2[:]...)
	var b strings.Builder
	for i := range safetyDigits / 5 {
		chunk := digest[i*5 : i*5+5]
		var n uint64
		for _, c := range chunk {
			n = n<<8 | uint64(c)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%05d", n%100000)
	}
	return b.String()
}

// Verification is what this device knows of a user's verification.
type Verification int

const (
	// Unverified: never marked verified.
	Unverified Verification = iota
	// Verified: marked verified, and the safety number is still the one compared.
	Verified
	// VerificationChanged: marked verified under another safety number (a
	// device was added or removed, or a key changed since).
	VerificationChanged
)

func (v Verification) String() string {
	switch v {
	case Verified:
		return "verified"
	case VerificationChanged:
		return "changed since verified"
	}
	return "unverified"
}

// MarkVerified records that this user compared the safety number of user
// in room out of band and it matched; it returns the number recorded.
func (s *Session) MarkVerified(room, user string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.safetyNumberLocked(room, user)
	if err != nil {
		return "", err
	}
	return n, s.store.SetVerified(user, n, s.opts.Now().UnixMilli())
}

// Verification reports whether user is verified as seen in room: Verified
// only while the room's safety number is the one marked.
func (s *Session) Verification(room, user string) (Verification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	marked, ok, err := s.store.Verified(user)
	if err != nil || !ok {
		return Unverified, err
	}
	n, err := s.safetyNumberLocked(room, user)
	if err != nil {
		return Unverified, err
	}
	if n != marked {
		return VerificationChanged, nil
	}
	return Verified, nil
}

// DeviceEvent says that a commit changed a user's devices in a room's
// group: devices added (an invite, a new device joining) or removed. A UI
// shows it as a system line; a user marked verified whose safety number
// changed with it has Verification VerificationChanged.
type DeviceEvent struct {
	Room         string
	Seq          uint64 // the entry whose commit changed it
	User         string
	Added        []string // device URIs
	Removed      []string
	Verification Verification
}

func (DeviceEvent) sessionEvent() {}

// deviceSets maps each user of the group to their device URIs.
func (rg *roomGroup) deviceSets() map[string][]string {
	out := map[string][]string{}
	for _, m := range rg.g.Members() {
		if d, err := m.Device(); err == nil {
			out[d.UserURI()] = append(out[d.UserURI()], d.DeviceURI())
		}
	}
	return out
}

// deviceChangesLocked emits a DeviceEvent for each user whose devices differ
// between before and the group's current members (the users who joined or
// left with all their devices too: a UI may show them with the membership
// line). It returns the notice for a commit entry: the changes of users who
// stay in the room with other devices (a new device, a removed one, a key
// changed), in fixed words and device names, "" when none.
func (s *Session) deviceChangesLocked(room string, seq uint64, actor string, rg *roomGroup, before map[string][]string) string {
	var notes []string
	after := rg.deviceSets()
	users := map[string]bool{}
	for u := range before {
		users[u] = true
	}
	for u := range after {
		users[u] = true
	}
	sorted := make([]string, 0, len(users))
	for u := range users {
		sorted = append(sorted, u)
	}
	slices.Sort(sorted)
	for _, u := range sorted {
		added, removed := diffSets(before[u], after[u])
		if len(added) == 0 && len(removed) == 0 {
			continue
		}
		ev := DeviceEvent{Room: room, Seq: seq, User: u, Added: added, Removed: removed}
		if u != s.opts.User && len(after[u]) > 0 {
			if marked, ok, err := s.store.Verified(u); err == nil && ok {
				ev.Verification = Verified
				if n, err := s.safetyNumberLocked(room, u); err == nil && n != marked {
					ev.Verification = VerificationChanged
				}
			}
		}
		s.q.push(ev)
		if len(before[u]) > 0 && len(after[u]) > 0 {
			notes = append(notes, deviceNote(actor, u, added, removed, ev.Verification))
		}
	}
	return strings.Join(notes, "; ")
}

// deviceNote says what changed of user's devices, naming the devices by
// their last URI segment (credential segments hold no controls or spaces);
// a UI puts the commit's sender (actor) before it.
func deviceNote(actor, user string, added, removed []string, v Verification) string {
	name := func(uri string) string { return uri[strings.LastIndexByte(uri, '/')+1:] }
	var parts []string
	for _, d := range added {
		parts = append(parts, "added a device ("+name(d)+")")
	}
	for _, d := range removed {
		parts = append(parts, "removed a device ("+name(d)+")")
	}
	note := strings.Join(parts, ", ")
	if user != actor {
		note += " of " + user
	}
	if v == VerificationChanged {
		note += "; the safety number changed since you verified it"
	}
	return note
}

func diffSets(before, after []string) (added, removed []string) {
	for _, d := range after {
		if !slices.Contains(before, d) {
			added = append(added, d)
		}
	}
	for _, d := range before {
		if !slices.Contains(after, d) {
			removed = append(removed, d)
		}
	}
	return added, removed
}
