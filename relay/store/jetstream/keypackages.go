package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"mimichat/relay/store"
)

// A user's devices and KeyPackages are one document (m.kp.USER): every
// directory transaction reads it, changes it and writes it back expecting
// the stream sequence it read, so concurrent claims on any node never hand
// out one single-use KeyPackage twice (the loser retries). m.dev.DEVICE
// records each device's owner, so a device URI cannot be taken by another
// user.

type kpDoc struct {
	Devices []kpDevice `json:"devices"`
}

type kpDevice struct {
	URI     string    `json:"uri"`
	Created int64     `json:"created"` // ms
	KPs     []kpEntry `json:"kps"`     // in upload order
	// Claimed are the refs of claimed single-use KeyPackages, whose
	// m.kpref subjects stay until they expire (a Welcome names them).
	Claimed []kpClaimed `json:"claimed,omitempty"`
}

type kpClaimed struct {
	Ref      []byte `json:"ref"`
	NotAfter int64  `json:"not_after"`
}

// dropRefs returns the messages removing refs' m.kpref subjects.
func dropRefs(refs [][]byte) []*nats.Msg {
	out := make([]*nats.Msg, 0, len(refs))
	for _, r := range refs {
		out = append(out, msg(subjKPRef(r), nil, nil))
	}
	return out
}

type kpEntry struct {
	Ref        []byte `json:"ref"`
	Suite      uint16 `json:"suite"`
	LastResort bool   `json:"last_resort,omitempty"`
	NotAfter   int64  `json:"not_after"` // UNIX seconds
	Data       []byte `json:"data"`
}

func (k kpEntry) keyPackage() store.KeyPackage {
	return store.KeyPackage{Ref: k.Ref, Suite: k.Suite, LastResort: k.LastResort, NotAfter: time.Unix(k.NotAfter, 0), Data: k.Data}
}

// kpRetries bounds a transaction's retries after another node's write.
const kpRetries = 50

func (s *Store) loadKPDoc(ctx context.Context, user string) (kpDoc, uint64, error) {
	e, err := s.getLast(ctx, subjKeyPackages(user))
	if err != nil || !e.live() {
		return kpDoc{}, e.seq, err
	}
	var d kpDoc
	if err := json.Unmarshal(e.data, &d); err != nil {
		return kpDoc{}, 0, fmt.Errorf("key packages of %s: %w", user, err)
	}
	return d, e.seq, nil
}

// kpTxn runs fn on user's document and stores what it returns, retrying
// when another writer changed the document first. fn returns the document
// to store (nil: store nothing) and extra messages to store with it.
func (s *Store) kpTxn(ctx context.Context, user string, fn func(d *kpDoc) (store bool, extra []*nats.Msg, err error)) error {
	s.kpMu.Lock()
	defer s.kpMu.Unlock()
	for try := range kpRetries {
		d, at, err := s.loadKPDoc(ctx, user)
		if err != nil {
			return err
		}
		write, extra, err := fn(&d)
		if err != nil || !write {
			return err
		}
		data, _ := json.Marshal(d)
		_, err = s.publish(ctx, append([]*nats.Msg{msg(subjKeyPackages(user), data, seqp(at))}, extra...))
		if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) {
			// Another writer's change landed, or is still in flight on a
			// clustered stream (refused until applied): back off a little.
			time.Sleep(time.Duration(min(try+1, 10)) * 5 * time.Millisecond)
			continue
		}
		return err
	}
	return fmt.Errorf("key packages of %s: still contended after %d tries", user, kpRetries)
}

func (d *kpDoc) device(uri string) *kpDevice {
	for i := range d.Devices {
		if d.Devices[i].URI == uri {
			return &d.Devices[i]
		}
	}
	return nil
}

func (dev *kpDevice) status(user string, now time.Time) store.DeviceStatus {
	st := store.DeviceStatus{Device: store.Device{URI: dev.URI, User: user, Created: time.UnixMilli(dev.Created)}}
	for _, k := range dev.KPs {
		if k.NotAfter <= now.Unix() {
			continue
		}
		if k.LastResort {
			st.LastResort = true
		} else {
			st.Count++
		}
	}
	return st
}

// PutKeyPackages implements store.KeyPackageDirectory.
func (s *Store) PutKeyPackages(ctx context.Context, d store.Device, kps []store.KeyPackage, lim store.Limits, now time.Time) (store.DeviceStatus, error) {
	var st store.DeviceStatus
	err := s.kpTxn(ctx, d.User, func(doc *kpDoc) (bool, []*nats.Msg, error) {
		var extra []*nats.Msg
		dev := doc.device(d.URI)
		if dev == nil {
			// A removed device stays removed (store.DeviceTokens): its
			// stolen keys must not register it again.
			removed, err := s.deviceRevoked(ctx, d.URI)
			if err != nil {
				return false, nil, err
			}
			if removed {
				return false, nil, store.ErrRevoked
			}
			owner, err := s.getLast(ctx, subjDevice(d.URI))
			if err != nil {
				return false, nil, err
			}
			if owner.live() && string(owner.data) != d.User {
				return false, nil, fmt.Errorf("%w: the device belongs to another user", store.ErrConflict)
			}
			if len(doc.Devices) >= lim.Devices {
				return false, nil, fmt.Errorf("%w: %s has %d devices, at most %d", store.ErrLimit, d.User, len(doc.Devices), lim.Devices)
			}
			doc.Devices = append(doc.Devices, kpDevice{URI: d.URI, Created: d.Created.UnixMilli()})
			slices.SortFunc(doc.Devices, func(a, b kpDevice) int { return strings.Compare(a.URI, b.URI) })
			dev = doc.device(d.URI)
			if !owner.live() {
				extra = append(extra, msg(subjDevice(d.URI), []byte(d.User), seqp(owner.seq)))
			}
		}
		for _, kp := range kps {
			if kp.LastResort {
				dev.KPs = slices.DeleteFunc(dev.KPs, func(k kpEntry) bool {
					return k.LastResort && k.Suite == kp.Suite && !bytes.Equal(k.Ref, kp.Ref)
				})
			}
			if slices.ContainsFunc(dev.KPs, func(k kpEntry) bool { return bytes.Equal(k.Ref, kp.Ref) }) {
				continue // a retried upload
			}
			dev.KPs = append(dev.KPs, kpEntry{Ref: kp.Ref, Suite: kp.Suite, LastResort: kp.LastResort, NotAfter: kp.NotAfter.Unix(), Data: kp.Data})
			data, _ := json.Marshal(kpRefJSON{Device: d.URI, User: d.User})
			extra = append(extra, msg(subjKPRef(kp.Ref), data, nil))
		}
		st = dev.status(d.User, now)
		if st.Count > lim.KeyPackages {
			return false, nil, fmt.Errorf("%w: the device would have %d key packages, at most %d", store.ErrLimit, st.Count, lim.KeyPackages)
		}
		return true, extra, nil
	})
	if err != nil {
		return store.DeviceStatus{}, fmt.Errorf("jetstream store: key packages of %s: %w", d.URI, err)
	}
	return st, nil
}

// ClaimKeyPackages implements store.KeyPackageDirectory.
func (s *Store) ClaimKeyPackages(ctx context.Context, user string, suite uint16, now time.Time) ([]store.Claim, error) {
	var claims []store.Claim
	err := s.kpTxn(ctx, user, func(doc *kpDoc) (bool, []*nats.Msg, error) {
		claims = make([]store.Claim, 0, len(doc.Devices))
		changed := false
		var expired [][]byte
		for i := range doc.Devices {
			dev := &doc.Devices[i]
			n := len(dev.KPs) + len(dev.Claimed)
			dev.KPs = slices.DeleteFunc(dev.KPs, func(k kpEntry) bool {
				if k.NotAfter <= now.Unix() {
					expired = append(expired, k.Ref)
					return true
				}
				return false
			})
			dev.Claimed = slices.DeleteFunc(dev.Claimed, func(k kpClaimed) bool {
				if k.NotAfter <= now.Unix() {
					expired = append(expired, k.Ref)
					return true
				}
				return false
			})
			changed = changed || len(dev.KPs)+len(dev.Claimed) != n
			c := store.Claim{Device: dev.URI, Status: store.Exhausted}
			if len(dev.KPs) > 0 {
				c.Status = store.NothingCompatible
			}
			pick := -1
			for j, k := range dev.KPs {
				if k.Suite != suite {
					continue
				}
				if !k.LastResort {
					pick = j
					break
				}
				if pick < 0 {
					pick = j
				}
			}
			if pick >= 0 {
				c.Status, c.KeyPackage = store.Claimed, dev.KPs[pick].keyPackage()
				if k := dev.KPs[pick]; !k.LastResort {
					dev.Claimed = append(dev.Claimed, kpClaimed{Ref: k.Ref, NotAfter: k.NotAfter})
					dev.KPs = slices.Delete(dev.KPs, pick, pick+1)
					changed = true
				}
			}
			for _, k := range dev.KPs {
				if !k.LastResort {
					c.Left++
				}
			}
			claims = append(claims, c)
		}
		return changed, dropRefs(expired), nil
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream store: claim key packages of %s: %w", user, err)
	}
	return claims, nil
}

// Devices implements store.KeyPackageDirectory.
func (s *Store) Devices(ctx context.Context, user string, now time.Time) ([]store.DeviceStatus, error) {
	doc, _, err := s.loadKPDoc(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("jetstream store: devices of %s: %w", user, err)
	}
	out := make([]store.DeviceStatus, 0, len(doc.Devices))
	for i := range doc.Devices {
		out = append(out, doc.Devices[i].status(user, now))
	}
	return out, nil
}

// RemoveDevice implements store.KeyPackageDirectory.
func (s *Store) RemoveDevice(ctx context.Context, user, device string) error {
	err := s.kpTxn(ctx, user, func(doc *kpDoc) (bool, []*nats.Msg, error) {
		i := slices.IndexFunc(doc.Devices, func(d kpDevice) bool { return d.URI == device })
		if i < 0 {
			return false, nil, store.ErrNotFound
		}
		var refs [][]byte
		for _, k := range doc.Devices[i].KPs {
			refs = append(refs, k.Ref)
		}
		for _, k := range doc.Devices[i].Claimed {
			refs = append(refs, k.Ref)
		}
		doc.Devices = slices.Delete(doc.Devices, i, i+1)
		owner, err := s.getLast(ctx, subjDevice(device))
		if err != nil {
			return false, nil, err
		}
		extra := dropRefs(refs)
		if owner.live() {
			extra = append(extra, msg(subjDevice(device), nil, seqp(owner.seq)))
		}
		return true, extra, nil
	})
	if err != nil {
		return fmt.Errorf("jetstream store: remove device %s: %w", device, err)
	}
	return nil
}
