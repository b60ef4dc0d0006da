package jetstream

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"mimichat/relay/store"
)

// Per-device tokens (store.DeviceTokens, issue 13) in the relay's stream,
// as the SQLite backend keeps them in three tables:
//
//	m.xtok.HEX(HASH)    an extra token of a user (its next device)
//	m.bind.HEX(HASH)    the device a token (the user's own or an extra one) is bound to
//	m.dtok.B64(DEVICE)  the user a token is bound for this device (RevokeDevice's "bound" check)
//	m.rdev.B64(DEVICE)  a removed device: refused for good
//
// Every write that must happen once across nodes is guarded by the
// subject's expected last sequence: binding an unbound token (two nodes
// binding one token to two devices: one wins, the other reads the winner's
// binding and answers ErrConflict), issuing a token hash, recording a
// removal (done inside the user's KeyPackage transaction, so a removal and
// a concurrent registration of the device are ordered). A device's removed
// standing is read at every lookup, so a binding that races a removal still
// reads as revoked.

var _ store.DeviceTokens = (*Store)(nil)

func subjExtraToken(hash []byte) string { return "m.xtok." + hex.EncodeToString(hash) }
func subjBinding(hash []byte) string    { return "m.bind." + hex.EncodeToString(hash) }
func subjBoundDevice(uri string) string { return "m.dtok." + b64(uri) }
func subjRemovedDev(uri string) string  { return "m.rdev." + b64(uri) }

type extraTokenJSON struct {
	User    string `json:"user"`    // URI
	Created int64  `json:"created"` // ms
	Expires int64  `json:"expires"` // ms; counts only while unbound
}

type bindingJSON struct {
	User   string `json:"user"` // URI
	Device string `json:"device"`
	Bound  int64  `json:"bound"` // ms
}

type removedJSON struct {
	User    string `json:"user"`
	Removed int64  `json:"removed"` // ms
}

// bindRetries bounds BindToken's rereads after another node's write
// (20 ms, 40 ms, … apart: about a second in all).
const bindRetries = 10

// tokenState is a token's standing and the binding entry it was read at.
type tokenState struct {
	tok     store.Token
	binding entry
}

// tokenByHash reads what tokenHash stands for, from the stream leader.
func (s *Store) tokenByHash(ctx context.Context, tokenHash []byte, now time.Time) (tokenState, error) {
	var st tokenState
	var expires int64 // 0: the user's own token
	u, err := s.userVia(ctx, subjToken(tokenHash), func(u userJSON) bool { return bytes.Equal(u.Token, tokenHash) })
	switch {
	case errors.Is(err, store.ErrNotFound):
		x, err := s.getLast(ctx, subjExtraToken(tokenHash))
		if err != nil {
			return st, err
		}
		if !x.live() {
			return st, store.ErrNotFound
		}
		var xt extraTokenJSON
		if err := json.Unmarshal(x.data, &xt); err != nil {
			return st, fmt.Errorf("extra token: %w", err)
		}
		if u, err = s.userVia(ctx, subjURI(xt.User), func(u userJSON) bool { return u.URI == xt.User }); err != nil {
			return st, err
		}
		expires = xt.Expires
	case err != nil:
		return st, err
	}
	st.tok.User = u
	if st.binding, err = s.getLast(ctx, subjBinding(tokenHash)); err != nil {
		return st, err
	}
	if st.binding.live() {
		var b bindingJSON
		if err := json.Unmarshal(st.binding.data, &b); err != nil {
			return st, fmt.Errorf("token binding: %w", err)
		}
		if b.User == u.URI {
			st.tok.Device = b.Device
		}
	}
	if st.tok.Device == "" {
		if expires != 0 && expires <= now.UnixMilli() {
			return st, store.ErrNotFound
		}
		return st, nil
	}
	st.tok.Revoked, err = s.deviceRevoked(ctx, st.tok.Device)
	return st, err
}

func (s *Store) deviceRevoked(ctx context.Context, device string) (bool, error) {
	e, err := s.getLast(ctx, subjRemovedDev(device))
	return e.live(), err
}

// TokenByHash implements store.DeviceTokens.
func (s *Store) TokenByHash(ctx context.Context, tokenHash []byte, now time.Time) (store.Token, error) {
	st, err := s.tokenByHash(ctx, tokenHash, now)
	if err != nil {
		return store.Token{}, fmt.Errorf("jetstream store: token: %w", err)
	}
	return st.tok, nil
}

// BindToken implements store.DeviceTokens: the binding is written expecting
// the subject's sequence as read, so of two nodes binding one token at once
// exactly one succeeds.
func (s *Store) BindToken(ctx context.Context, tokenHash []byte, device string, now time.Time) (store.Token, error) {
	fail := func(err error) (store.Token, error) {
		return store.Token{}, fmt.Errorf("jetstream store: bind token to %s: %w", device, err)
	}
	for try := range bindRetries {
		st, err := s.tokenByHash(ctx, tokenHash, now)
		if err != nil {
			return fail(err)
		}
		t := st.tok
		switch {
		case t.Device == device && t.Revoked:
			return fail(store.ErrRevoked)
		case t.Device == device:
			return t, nil
		case t.Device != "":
			return fail(fmt.Errorf("%w: the token is bound to another device", store.ErrConflict))
		}
		removed, err := s.deviceRevoked(ctx, device)
		if err != nil {
			return fail(err)
		}
		if removed {
			return fail(store.ErrRevoked)
		}
		data, _ := json.Marshal(bindingJSON{User: t.User.URI, Device: device, Bound: now.UnixMilli()})
		_, err = s.publish(ctx, []*nats.Msg{
			msg(subjBinding(tokenHash), data, seqp(st.binding.seq)),
			msg(subjBoundDevice(device), []byte(t.User.URI), nil),
		})
		if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) {
			// Bound (or dropped) meanwhile by another node, or that node's
			// write is still in flight (a clustered stream refuses an
			// expected sequence while a proposal for the subject is
			// pending): read again once it has landed.
			time.Sleep(time.Duration(20*(try+1)) * time.Millisecond)
			continue
		}
		if err != nil {
			return fail(err)
		}
		t.Device = device
		return t, nil
	}
	return fail(fmt.Errorf("still contended after %d tries", bindRetries))
}

// AddDeviceToken implements store.DeviceTokens.
func (s *Store) AddDeviceToken(ctx context.Context, user string, tokenHash []byte, now, expires time.Time) error {
	fail := func(err error) error { return fmt.Errorf("jetstream store: add a device token of %s: %w", user, err) }
	if _, err := s.userVia(ctx, subjURI(user), func(u userJSON) bool { return u.URI == user }); err != nil {
		return fail(err)
	}
	own, err := s.getLast(ctx, subjToken(tokenHash))
	if err != nil {
		return fail(err)
	}
	x, err := s.getLast(ctx, subjExtraToken(tokenHash))
	if err != nil {
		return fail(err)
	}
	if own.live() || x.live() {
		return fail(store.ErrExists)
	}
	data, _ := json.Marshal(extraTokenJSON{User: user, Created: now.UnixMilli(), Expires: expires.UnixMilli()})
	_, err = s.publish(ctx, []*nats.Msg{msg(subjExtraToken(tokenHash), data, seqp(x.seq))})
	if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) {
		return fail(store.ErrExists) // taken meanwhile
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// RevokeDevice implements store.DeviceTokens: the device leaves the user's
// KeyPackage document and its removal is recorded in the same batch, inside
// the document's transaction (so a registration racing it on another node
// either comes first and is removed, or reads the removal and is refused).
func (s *Store) RevokeDevice(ctx context.Context, user, device string, now time.Time) error {
	err := s.kpTxn(ctx, user, func(doc *kpDoc) (bool, []*nats.Msg, error) {
		rem, err := s.getLast(ctx, subjRemovedDev(device))
		if err != nil {
			return false, nil, err
		}
		bound, err := s.getLast(ctx, subjBoundDevice(device))
		if err != nil {
			return false, nil, err
		}
		i := -1
		for j := range doc.Devices {
			if doc.Devices[j].URI == device {
				i = j
			}
		}
		isBound := bound.live() && string(bound.data) == user
		if i < 0 && (!isBound || rem.live()) {
			return false, nil, store.ErrNotFound
		}
		var extra []*nats.Msg
		if i >= 0 {
			var refs [][]byte
			for _, k := range doc.Devices[i].KPs {
				refs = append(refs, k.Ref)
			}
			for _, k := range doc.Devices[i].Claimed {
				refs = append(refs, k.Ref)
			}
			doc.Devices = append(doc.Devices[:i], doc.Devices[i+1:]...)
			extra = dropRefs(refs)
			owner, err := s.getLast(ctx, subjDevice(device))
			if err != nil {
				return false, nil, err
			}
			if owner.live() {
				extra = append(extra, msg(subjDevice(device), nil, seqp(owner.seq)))
			}
		}
		if !rem.live() {
			data, _ := json.Marshal(removedJSON{User: user, Removed: now.UnixMilli()})
			extra = append(extra, msg(subjRemovedDev(device), data, seqp(rem.seq)))
		}
		return true, extra, nil
	})
	if err != nil {
		return fmt.Errorf("jetstream store: revoke device %s: %w", device, err)
	}
	return nil
}

// DeviceRevoked implements store.DeviceTokens.
func (s *Store) DeviceRevoked(ctx context.Context, device string) (bool, error) {
	r, err := s.deviceRevoked(ctx, device)
	if err != nil {
		return false, fmt.Errorf("jetstream store: device %s removed: %w", device, err)
	}
	return r, nil
}

// DropUserTokens implements store.DeviceTokens. It lists every extra token
// and binding of the relay (a subject filter cannot select one user's
// hashes), which is fine for what calls it: an operator's rotate, revoke or
// remove of a user.
func (s *Store) DropUserTokens(ctx context.Context, user string) error {
	fail := func(err error) error { return fmt.Errorf("jetstream store: drop the tokens of %s: %w", user, err) }
	var drop []*nats.Msg
	for _, filter := range []string{"m.xtok.*", "m.bind.*"} {
		subjs, err := s.subjects(ctx, filter)
		if err != nil {
			return fail(err)
		}
		es, err := s.getAllWithSubjects(ctx, subjs)
		if err != nil {
			return fail(err)
		}
		for subj, e := range es {
			var owner struct {
				User   string `json:"user"`
				Device string `json:"device"`
			}
			if err := json.Unmarshal(e.data, &owner); err != nil {
				return fail(fmt.Errorf("%s: %w", subj, err))
			}
			if owner.User != user {
				continue
			}
			drop = append(drop, msg(subj, nil, nil))
			if owner.Device != "" {
				drop = append(drop, msg(subjBoundDevice(owner.Device), nil, nil))
			}
		}
	}
	for len(drop) > 0 {
		n := min(len(drop), MaxBatch)
		if _, err := s.publish(ctx, drop[:n]); err != nil {
			return fail(err)
		}
		drop = drop[n:]
	}
	return nil
}

// getAllWithSubjects is getAll keyed by subject (live entries only).
func (s *Store) getAllWithSubjects(ctx context.Context, subjs []string) (map[string]entry, error) {
	got, err := s.getEach(ctx, subjs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]entry, len(subjs))
	for i, e := range got {
		if e.live() {
			out[subjs[i]] = e
		}
	}
	return out, nil
}
