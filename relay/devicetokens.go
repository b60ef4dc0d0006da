package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
	"mimichat/relay/store/jetstream"
)

// Per-device tokens (issue 13). With a store that implements
// store.DeviceTokens (SQLite), a token authenticates one device: the
// user's own token (relay user add) and every extra token (new_device_token,
// relay user token) bind to the first device that names itself in hello
// with them, and from then on stand for that device only. Removing the
// device (remove_device) revokes it: its live connections are closed with
// device_revoked at once, its tokens are refused with device_revoked for
// good, and its URI can never be registered, bound or uploaded for again,
// so a removed device's stolen data directory cannot come back. Both
// backends implement it (SQLite and the JetStream cluster store); in a
// cluster the removal is announced to the other nodes (cluster_revoke.go).

// deviceTokenLifetime is how long an extra token waits for its device: long
// enough to carry it to a new machine, short enough that a forgotten one
// does not stay a way in.
const deviceTokenLifetime = 7 * 24 * time.Hour

// identity is what a presented token stands for.
type identity struct {
	user    string
	device  string // the device the token is bound to, "" while unbound (or without store.DeviceTokens)
	revoked bool   // that device was removed
}

// deviceTokens returns the store's token binding, or nil when the backend
// keeps one token per user.
func deviceTokens(db store.Store) store.DeviceTokens {
	dt, _ := db.(store.DeviceTokens)
	return dt
}

// identify looks a token up by its hash; ok is false for an unknown one.
func identify(ctx context.Context, db store.Store, tokenHash []byte) (id identity, ok bool, err error) {
	if dt := deviceTokens(db); dt != nil {
		t, err := dt.TokenByHash(ctx, tokenHash, time.Now())
		if isNotFound(err) {
			return identity{}, false, nil
		}
		if err != nil {
			return identity{}, false, fmt.Errorf("relay: authenticate: %w", err)
		}
		return identity{user: t.User.URI, device: t.Device, revoked: t.Revoked}, true, nil
	}
	u, err := db.UserByToken(ctx, tokenHash)
	if isNotFound(err) {
		return identity{}, false, nil
	}
	if err != nil {
		return identity{}, false, fmt.Errorf("relay: authenticate: %w", err)
	}
	return identity{user: u.URI}, true, nil
}

// identifyAll looks hashes up as identify does one by one (known[i] is
// identify's ok), all at once where the store can: the JetStream store
// answers any number of tokens in a few requests (TokensByHash), where a
// lookup each made an R3 node with more than about a thousand live tokens
// miss its one-second recheck (docs/cluster.md).
func identifyAll(ctx context.Context, db store.Store, hashes [][]byte) (ids []identity, known []bool, err error) {
	ids, known = make([]identity, len(hashes)), make([]bool, len(hashes))
	if js, ok := db.(*jetstream.Store); ok {
		got, err := js.TokensByHash(ctx, hashes, time.Now())
		if err != nil {
			return nil, nil, fmt.Errorf("relay: authenticate: %w", err)
		}
		for i, t := range got {
			ids[i], known[i] = identity{user: t.Token.User.URI, device: t.Token.Device, revoked: t.Token.Revoked}, t.Found
		}
		return ids, known, nil
	}
	for i, h := range hashes {
		if ids[i], known[i], err = identify(ctx, db, h); err != nil {
			return nil, nil, err
		}
	}
	return ids, known, nil
}

// revokedReason is the reason of every device_revoked refusal: fixed
// words and the device's URI, never the token.
func revokedReason(device string) string {
	return fmt.Sprintf("device %s was removed; its token is refused for good", device)
}

// bindDevice decides which device a hello's connection acts as: the device
// its token is bound to, binding an unbound token to the device the hello
// names. It returns the device ("" for an unbound token whose hello names
// none: the connection acts as the user, as with per-user tokens) or a
// refusal (code and reason) for the hello.
func bindDevice(ctx context.Context, db store.Store, tokenHash []byte, id identity, named string) (string, proto.Code, string) {
	if id.revoked {
		return "", proto.CodeDeviceRevoked, revokedReason(id.device)
	}
	dt := deviceTokens(db)
	switch {
	case dt == nil:
		return named, "", ""
	case named == "":
		return id.device, "", ""
	case id.device == named:
		return named, "", ""
	case id.device != "":
		return "", proto.CodeAuthFailed, fmt.Sprintf("this token belongs to device %s; a new device needs a token of its own (`mimichat devices add` on one of your devices)", id.device)
	}
	_, err := dt.BindToken(ctx, tokenHash, named, time.Now())
	switch {
	case errors.Is(err, store.ErrRevoked):
		return "", proto.CodeDeviceRevoked, revokedReason(named)
	case errors.Is(err, store.ErrConflict):
		return "", proto.CodeAuthFailed, "this token was just bound to another device; a new device needs a token of its own"
	case isNotFound(err):
		return "", proto.CodeAuthFailed, "unknown or missing token"
	case err != nil:
		return "", proto.CodeInternal, "cannot check the token now"
	}
	return named, "", ""
}

// closeDevice closes user's live connections acting as device with a fatal
// device_revoked: a removed device is shut out at once, not at the next
// token recheck.
func (s *Server) closeDevice(user, device string) {
	s.hub.users.mu.RLock()
	var cs []*conn
	for c := range s.hub.users.users[user] {
		if c.device == device {
			cs = append(cs, c)
		}
	}
	s.hub.users.mu.RUnlock()
	for _, c := range cs {
		c.fatal(proto.CodeDeviceRevoked, revokedReason(device))
	}
}

// newDeviceToken answers new_device_token: an extra token of the user for
// its next device, shown once.
func (c *conn) newDeviceToken(f *proto.NewDeviceToken) *refusal {
	dt := deviceTokens(c.srv.db)
	if dt == nil {
		return refuse(proto.CodeInvalidOp, "this relay keeps one token per user; ask its operator for the user's token")
	}
	if wait, ok := c.srv.limits.write(c.user, time.Now()); !ok {
		return rateLimited(wait, "more than %g writes per second", c.srv.cfg.RatePerSec)
	}
	token, hash, err := newToken()
	if err != nil {
		c.log.Error("new device token", "err", err)
		return refuse(proto.CodeInternal, "cannot make a token now; retry")
	}
	now := time.Now()
	expires := now.Add(deviceTokenLifetime)
	ctx, cancel := storeCtx()
	defer cancel()
	if err := dt.AddDeviceToken(ctx, c.user, hash, now, expires); err != nil {
		c.log.Error("new device token", "err", err)
		return refuse(proto.CodeInternal, "storage failed; retry")
	}
	c.log.Info("issued a token for another device") // never the token
	c.send(&proto.DeviceToken{RID: f.RID, Token: token, Expires: expires.UnixMilli()})
	return nil
}

// AddDeviceToken issues user name another token, for a device it does not
// have yet (the operator's `relay user token`): it binds to the first device
// that uses it within a week, and is returned once. A relay store that
// keeps one token per user (neither of ours does) cannot.
func (s *Store) AddDeviceToken(name string) (string, time.Time, error) {
	dt := deviceTokens(s.db)
	if dt == nil {
		return "", time.Time{}, errors.New("relay: this store keeps one token per user")
	}
	ctx := context.Background()
	u, err := s.userByName(ctx, name)
	if err != nil {
		return "", time.Time{}, err
	}
	token, hash, err := newToken()
	if err != nil {
		return "", time.Time{}, err
	}
	now := time.Now()
	expires := now.Add(deviceTokenLifetime)
	if err := dt.AddDeviceToken(ctx, u.URI, hash, now, expires); err != nil {
		return "", time.Time{}, fmt.Errorf("relay: a device token of %q: %w", name, err)
	}
	return token, expires, nil
}

// userByName finds user name.
func (s *Store) userByName(ctx context.Context, name string) (User, error) {
	us, err := s.db.Users(ctx)
	if err != nil {
		return User{}, fmt.Errorf("relay: list users: %w", err)
	}
	for _, u := range us {
		if u.Name == name {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("%w: %q", ErrNoSuchUser, name)
}

// dropDeviceTokens forgets user name's extra tokens and bindings after its
// own token changed (rotate, revoke, remove): those mean "log this user out
// everywhere", so every device's token goes with it.
func (s *Store) dropDeviceTokens(name string) error {
	dt := deviceTokens(s.db)
	if dt == nil {
		return nil
	}
	ctx := context.Background()
	u, err := s.userByName(ctx, name)
	if err != nil {
		return err
	}
	if err := dt.DropUserTokens(ctx, u.URI); err != nil {
		return fmt.Errorf("relay: drop the device tokens of %q: %w", name, err)
	}
	return nil
}
