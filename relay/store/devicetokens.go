package store

import (
	"context"
	"errors"
	"time"
)

// ErrRevoked is returned for a device that was removed: its tokens are
// refused for good and it cannot be registered again.
var ErrRevoked = errors.New("store: the device was removed")

// Token is what a token hash stands for: its user, the device it is bound
// to ("" while unbound) and whether that device was removed.
type Token struct {
	User    User
	Device  string
	Revoked bool
}

// DeviceTokens is a Store that binds tokens to devices (issue 13): a
// user's token, or an extra token issued for another of its devices, is
// bound to the first device that uses it and from then on stands for that
// device only; removing the device revokes every token bound to it and
// the device URI for good. It is optional: a backend without it keeps one
// token per user (the relay then cannot tell a user's devices apart).
type DeviceTokens interface {
	// TokenByHash returns what the token with this hash stands for: the
	// user's token (users' token hash) or an extra token, with its binding.
	// An unknown hash, an unbound extra token past its expiry, or one
	// whose user is gone is ErrNotFound.
	TokenByHash(ctx context.Context, tokenHash []byte, now time.Time) (Token, error)
	// BindToken binds the token with this hash to device (a device of the
	// token's user) unless it is bound already, and returns its standing.
	// A token bound to another device is ErrConflict; a removed device is
	// ErrRevoked; an unknown token ErrNotFound.
	BindToken(ctx context.Context, tokenHash []byte, device string, now time.Time) (Token, error)
	// AddDeviceToken stores an extra, unbound token of user (a URI) that
	// binds to the first device using it before expires. A taken hash is
	// ErrExists, an unknown user ErrNotFound.
	AddDeviceToken(ctx context.Context, user string, tokenHash []byte, now, expires time.Time) error
	// RevokeDevice removes user's device as RemoveDevice does and, in the
	// same transaction, records the device URI as removed, so every token
	// bound to it is ErrRevoked-standing and the device can never be
	// registered or bound again. A device that is neither registered nor
	// bound to a token of user, or was removed already, is ErrNotFound.
	RevokeDevice(ctx context.Context, user, device string, now time.Time) error
	// DeviceRevoked reports whether device was removed.
	DeviceRevoked(ctx context.Context, device string) (bool, error)
	// DropUserTokens deletes user's extra tokens and every binding of its
	// tokens (rotation, revocation and removal of the user); the removed
	// devices stay removed.
	DropUserTokens(ctx context.Context, user string) error
}
