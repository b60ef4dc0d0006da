package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"mimichat/relay/store"
)

// TokenLookup is one token's standing as TokensByHash read it: Found is
// false for a token TokenByHash answers store.ErrNotFound.
type TokenLookup struct {
	Token store.Token
	Found bool
}

// TokensByHash looks many tokens up at once, as TokenByHash does one at a
// time, each answer at least as new as the stream's leader had it when the
// call began (every change acked before it is seen: a rotated token, a
// removed device). A token's standing spans up to five subjects read one
// after another (token or extra token, binding, user URI, user, removed
// device); here each step is one round of multi_last direct gets over
// every token (512 subjects a request, answered by any replica whose
// answer covers the leader's last sequence, else read from the leader),
// so a relay's token recheck costs a few requests however many tokens are
// live, where one lookup a token made a node with more than about a
// thousand live tokens on R3 miss its one-second tick.
func (s *Store) TokensByHash(ctx context.Context, hashes [][]byte, now time.Time) ([]TokenLookup, error) {
	fail := func(err error) ([]TokenLookup, error) {
		return nil, fmt.Errorf("jetstream store: %d tokens: %w", len(hashes), err)
	}
	last, err := s.leaderLastSeq(ctx)
	if err != nil {
		return fail(err)
	}
	got := map[string]entry{}
	read := func(subjs []string) error {
		want := make([]string, 0, len(subjs))
		for _, subj := range subjs {
			if _, ok := got[subj]; !ok {
				got[subj] = entry{} // read below; absent unless found
				want = append(want, subj)
			}
		}
		for lo := 0; lo < len(want); lo += maxMultiLast {
			found, err := s.currentLastOf(ctx, want[lo:min(lo+maxMultiLast, len(want))], last)
			if err != nil {
				return err
			}
			for subj, e := range found {
				got[subj] = e
			}
		}
		return nil
	}
	// Round 1: each token's own-token index, extra token and binding.
	var subjs []string
	for _, h := range hashes {
		subjs = append(subjs, subjToken(h), subjExtraToken(h), subjBinding(h))
	}
	if err := read(subjs); err != nil {
		return fail(err)
	}
	// Round 2: the users the own-token indexes name, the URI indexes of
	// the extra tokens' users, the removal records of the bound devices.
	extras := make([]extraTokenJSON, len(hashes))
	bindings := make([]bindingJSON, len(hashes))
	subjs = subjs[:0]
	for i, h := range hashes {
		if e := got[subjToken(h)]; e.live() {
			subjs = append(subjs, subjUser(string(e.data)))
		}
		if e := got[subjExtraToken(h)]; e.live() {
			if err := json.Unmarshal(e.data, &extras[i]); err != nil {
				return fail(fmt.Errorf("extra token: %w", err))
			}
			subjs = append(subjs, subjURI(extras[i].User))
		}
		if e := got[subjBinding(h)]; e.live() {
			if err := json.Unmarshal(e.data, &bindings[i]); err != nil {
				return fail(fmt.Errorf("token binding: %w", err))
			}
			subjs = append(subjs, subjRemovedDev(bindings[i].Device))
		}
	}
	if err := read(subjs); err != nil {
		return fail(err)
	}
	// Round 3: the extra tokens' users.
	subjs = subjs[:0]
	for i := range hashes {
		if extras[i].User != "" {
			if e := got[subjURI(extras[i].User)]; e.live() {
				subjs = append(subjs, subjUser(string(e.data)))
			}
		}
	}
	if err := read(subjs); err != nil {
		return fail(err)
	}
	user := func(index string, check func(userJSON) bool) (store.User, bool, error) {
		e := got[index]
		if !e.live() {
			return store.User{}, false, nil
		}
		ue := got[subjUser(string(e.data))]
		if !ue.live() {
			return store.User{}, false, nil
		}
		var u userJSON
		if err := json.Unmarshal(ue.data, &u); err != nil {
			return store.User{}, false, fmt.Errorf("user %s: %w", e.data, err)
		}
		return u.user(), check(u), nil
	}
	out := make([]TokenLookup, len(hashes))
	for i, h := range hashes {
		var expires int64 // 0: the user's own token
		u, ok, err := user(subjToken(h), func(u userJSON) bool { return bytes.Equal(u.Token, h) })
		if err != nil {
			return fail(err)
		}
		if !ok {
			if extras[i].User == "" {
				continue // unknown
			}
			uri := extras[i].User
			if u, ok, err = user(subjURI(uri), func(u userJSON) bool { return u.URI == uri }); err != nil {
				return fail(err)
			}
			if !ok {
				continue
			}
			expires = extras[i].Expires
		}
		t := store.Token{User: u}
		if got[subjBinding(h)].live() && bindings[i].User == u.URI {
			t.Device = bindings[i].Device
		}
		if t.Device == "" {
			if expires != 0 && expires <= now.UnixMilli() {
				continue
			}
		} else {
			t.Revoked = got[subjRemovedDev(t.Device)].live()
		}
		out[i] = TokenLookup{Token: t, Found: true}
	}
	return out, nil
}
