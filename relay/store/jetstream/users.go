package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"mimichat/relay/store"
)

type userJSON struct {
	Name    string `json:"name"`
	URI     string `json:"uri"`
	Created int64  `json:"created"` // UNIX seconds
	Token   []byte `json:"token"`   // the SHA-256 of the user's token
}

func (u userJSON) user() store.User {
	return store.User{Name: u.Name, URI: u.URI, Created: time.Unix(u.Created, 0).UTC()}
}

// Domain implements store.Store.
func (s *Store) Domain(ctx context.Context) (string, error) {
	e, err := s.getLast(ctx, subjDomain)
	if err != nil {
		return "", fmt.Errorf("jetstream store: domain: %w", err)
	}
	return string(e.data), nil
}

// SetDomain implements store.Store.
func (s *Store) SetDomain(ctx context.Context, domain string) error {
	return s.setDomain(ctx, domain, 10)
}

// setDomain sets the domain, trying again (up to tries times) when another
// node wrote it meanwhile.
func (s *Store) setDomain(ctx context.Context, domain string, tries int) error {
	e, err := s.getLast(ctx, subjDomain)
	if err != nil {
		return fmt.Errorf("jetstream store: domain: %w", err)
	}
	if e.live() {
		if string(e.data) != domain {
			return fmt.Errorf("jetstream store: domain is %s, not %s: %w", e.data, domain, store.ErrConflict)
		}
		return nil
	}
	if _, err := s.publish(ctx, []*nats.Msg{msg(subjDomain, []byte(domain), seqp(e.seq))}); err != nil {
		if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) && tries > 1 { // set meanwhile by another node
			time.Sleep(50 * time.Millisecond)
			return s.setDomain(ctx, domain, tries-1)
		}
		if errors.Is(err, nats.ErrNoResponders) && tries > 1 {
			// Nobody took it: this server has not learnt the new
			// stream's subjects yet (a cluster's first start; node 3 of
			// TestClusterRecheckQuietWhileNoLeader failed its start so
			// once at load 14). Nothing was stored: write it again.
			time.Sleep(100 * time.Millisecond)
			return s.setDomain(ctx, domain, tries-1)
		}
		return fmt.Errorf("jetstream store: set domain: %w", err)
	}
	return nil
}

// userByName reads user name's record and the stream sequence it is at.
func (s *Store) userByName(ctx context.Context, name string) (userJSON, entry, error) {
	e, err := s.getLast(ctx, subjUser(name))
	if err != nil || !e.live() {
		return userJSON{}, e, err
	}
	var u userJSON
	if err := json.Unmarshal(e.data, &u); err != nil {
		return userJSON{}, e, fmt.Errorf("user %s: %w", name, err)
	}
	return u, e, nil
}

// AddUser implements store.Store: the user, its URI and its token hash are
// three subjects written together, each expected to hold no live value.
func (s *Store) AddUser(ctx context.Context, u store.User, tokenHash []byte) error {
	fail := func(err error) error { return fmt.Errorf("jetstream store: add user %s: %w", u.Name, err) }
	subjs := []string{subjUser(u.Name), subjURI(u.URI), subjToken(tokenHash)}
	at := make([]uint64, len(subjs))
	for i, subj := range subjs {
		e, err := s.getLast(ctx, subj)
		if err != nil {
			return fail(err)
		}
		if e.live() {
			return fail(store.ErrExists)
		}
		at[i] = e.seq
	}
	data, _ := json.Marshal(userJSON{Name: u.Name, URI: u.URI, Created: u.Created.Unix(), Token: tokenHash})
	_, err := s.publish(ctx, []*nats.Msg{
		msg(subjs[0], data, seqp(at[0])),
		msg(subjs[1], []byte(u.Name), seqp(at[1])),
		msg(subjs[2], []byte(u.Name), seqp(at[2])),
	})
	if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) {
		return fail(store.ErrExists) // taken meanwhile
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// Users implements store.Store.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	subjs, err := s.subjects(ctx, "m.user.*")
	if err != nil {
		return nil, fmt.Errorf("jetstream store: users: %w", err)
	}
	es, err := s.getAll(ctx, subjs)
	if err != nil {
		return nil, fmt.Errorf("jetstream store: users: %w", err)
	}
	out := make([]store.User, 0, len(es))
	for _, e := range es {
		var u userJSON
		if err := json.Unmarshal(e.data, &u); err != nil {
			return nil, fmt.Errorf("jetstream store: users: %w", err)
		}
		out = append(out, u.user())
	}
	slices.SortFunc(out, func(a, b store.User) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// userVia follows an index subject (URI or token) to its user.
func (s *Store) userVia(ctx context.Context, subject string, check func(userJSON) bool) (store.User, error) {
	e, err := s.getLast(ctx, subject)
	if err != nil {
		return store.User{}, err
	}
	if !e.live() {
		return store.User{}, store.ErrNotFound
	}
	u, ue, err := s.userByName(ctx, string(e.data))
	if err != nil {
		return store.User{}, err
	}
	if !ue.live() || !check(u) {
		return store.User{}, store.ErrNotFound
	}
	return u.user(), nil
}

// UserByToken implements store.Store.
func (s *Store) UserByToken(ctx context.Context, tokenHash []byte) (store.User, error) {
	u, err := s.userVia(ctx, subjToken(tokenHash), func(u userJSON) bool { return bytes.Equal(u.Token, tokenHash) })
	if err != nil {
		return store.User{}, fmt.Errorf("jetstream store: user by token: %w", err)
	}
	return u, nil
}

// UserByURI implements store.Store.
func (s *Store) UserByURI(ctx context.Context, uri string) (store.User, error) {
	u, err := s.userVia(ctx, subjURI(uri), func(u userJSON) bool { return u.URI == uri })
	if err != nil {
		return store.User{}, fmt.Errorf("jetstream store: user %s: %w", uri, err)
	}
	return u, nil
}

// SetTokenHash implements store.Store: the new hash's subject, the old
// one's removal and the user record, written together.
func (s *Store) SetTokenHash(ctx context.Context, name string, tokenHash []byte) error {
	fail := func(err error) error { return fmt.Errorf("jetstream store: set token of %s: %w", name, err) }
	u, ue, err := s.userByName(ctx, name)
	if err != nil {
		return fail(err)
	}
	if !ue.live() {
		return fail(store.ErrNotFound)
	}
	if bytes.Equal(u.Token, tokenHash) {
		return nil
	}
	ne, err := s.getLast(ctx, subjToken(tokenHash))
	if err != nil {
		return fail(err)
	}
	if ne.live() {
		return fail(store.ErrExists)
	}
	oe, err := s.getLast(ctx, subjToken(u.Token))
	if err != nil {
		return fail(err)
	}
	old := u.Token
	u.Token = tokenHash
	data, _ := json.Marshal(u)
	msgs := []*nats.Msg{msg(subjToken(tokenHash), []byte(name), seqp(ne.seq)), msg(subjUser(name), data, seqp(ue.seq))}
	if oe.live() {
		msgs = append(msgs, msg(subjToken(old), nil, seqp(oe.seq)))
	}
	_, err = s.publish(ctx, msgs)
	if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) {
		return fail(fmt.Errorf("%w: the token or user changed meanwhile", store.ErrExists))
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// RemoveUser implements store.Store.
func (s *Store) RemoveUser(ctx context.Context, name string) error {
	fail := func(err error) error { return fmt.Errorf("jetstream store: remove user %s: %w", name, err) }
	u, ue, err := s.userByName(ctx, name)
	if err != nil {
		return fail(err)
	}
	if !ue.live() {
		return fail(store.ErrNotFound)
	}
	msgs := []*nats.Msg{msg(subjUser(name), nil, seqp(ue.seq))}
	for _, subj := range []string{subjURI(u.URI), subjToken(u.Token)} {
		e, err := s.getLast(ctx, subj)
		if err != nil {
			return fail(err)
		}
		if e.live() && string(e.data) == name {
			msgs = append(msgs, msg(subj, nil, seqp(e.seq)))
		}
	}
	_, err = s.publish(ctx, msgs)
	if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) {
		return fail(store.ErrNotFound) // removed or changed meanwhile
	}
	if err != nil {
		return fail(err)
	}
	return nil
}
