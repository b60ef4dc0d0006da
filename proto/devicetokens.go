package proto

// Per-device tokens (issue 13). A relay token is bound to the first device
// that names itself with it (hello.device), and from then on authenticates
// only that device; removing the device revokes it (code device_revoked).
// A user's next device needs a token of its own: one of the user's devices
// asks for one with new_device_token, and the relay answers device_token
// with an unbound token that binds to the first device using it.

// Frame types of per-device tokens (version 5 and later; no version of
// their own: an older relay answers unknown_type).
const (
	TNewDeviceToken Type = "new_device_token"
	TDeviceToken    Type = "device_token"
)

// NewDeviceToken asks for a token for another device of the connection's
// user. Answer: device_token.
type NewDeviceToken struct {
	Head
	RID uint64 `cbor:"rid"`
}

// DeviceToken answers new_device_token: Token is shown once (only its hash
// is stored) and binds to the first device that says hello with it before
// Expires (ms since the UNIX epoch).
type DeviceToken struct {
	Head
	RID     uint64 `cbor:"rid"`
	Token   string `cbor:"token"`
	Expires int64  `cbor:"expires"`
}

func (*NewDeviceToken) FrameType() Type { return TNewDeviceToken }
func (*DeviceToken) FrameType() Type    { return TDeviceToken }

// newDeviceTokenFrame returns an empty per-device token frame of type t,
// or nil.
func newDeviceTokenFrame(t Type) Frame {
	switch t {
	case TNewDeviceToken:
		return new(NewDeviceToken)
	case TDeviceToken:
		return new(DeviceToken)
	}
	return nil
}

// validateDeviceTokenFrame checks the field rules of a per-device token
// frame; handled is false for other frames.
func validateDeviceTokenFrame(f Frame) (handled bool, err error) {
	switch f := f.(type) {
	case *NewDeviceToken:
		return true, nil
	case *DeviceToken:
		if f.Token == "" {
			return true, badField("token", "missing")
		}
		if err := maxLen("token", f.Token, MaxToken); err != nil {
			return true, err
		}
		if f.Expires <= 0 {
			return true, badField("expires", "missing")
		}
		return true, nil
	}
	return false, nil
}
