package proto

import "fmt"

// Code is a stable, machine-readable error code carried in error frames.
type Code string

// Error codes. Codes marked fatal make the relay close the connection.
const (
	// Frame-level problems (Decode).
	CodeMalformed     Code = "malformed"       // not one well-formed CBOR map, or a field of the wrong type
	CodeUnknownType   Code = "unknown_type"    // "t" names no frame type
	CodeBadField      Code = "bad_field"       // a field is missing or breaks its rule; Field names it
	CodeFrameTooLarge Code = "frame_too_large" // the frame exceeds the relay's max_frame
	CodeNotBinary     Code = "not_binary"      // a websocket text message; frames are binary

	// Session problems.
	CodeUnsupportedVersion Code = "unsupported_version" // fatal: hello.v is not Version
	CodeAuthRequired       Code = "auth_required"       // fatal: the first frame was not hello
	CodeAuthFailed         Code = "auth_failed"         // fatal: unknown or missing token
	CodeTooManyErrors      Code = "too_many_errors"     // fatal: the client kept misbehaving
	CodeShuttingDown       Code = "shutting_down"       // fatal: the relay is stopping
	CodeDeviceRevoked      Code = "device_revoked"      // fatal: the token's device (or the device hello named) was removed

	// Request refusals.
	CodeNoSuchRoom      Code = "no_such_room"
	CodeNoSuchUser      Code = "no_such_user"
	CodeRoomExists      Code = "room_exists"
	CodeNotMember       Code = "not_member"        // the user is not a joined member of the room
	CodeBanned          Code = "banned"            // the user is banned from the room
	CodeForbidden       Code = "forbidden"         // the user's role does not allow the operation
	CodeInvalidOp       Code = "invalid_op"        // the operation does not apply to the target's state
	CodeLastOwner       Code = "last_owner"        // the room would be left without an owner
	CodeContentTooLarge Code = "content_too_large" // content exceeds max_content
	CodeBadMessageID    Code = "bad_message_id"    // the ID does not match sender, room and content
	CodeRateLimited     Code = "rate_limited"      // too many submits; retry later
	CodeInternal        Code = "internal"          // the relay failed; the request had no effect

	// KeyPackage directory refusals (version 3).
	CodeBadKeyPackage Code = "bad_key_package" // an uploaded KeyPackage is invalid or not the device's; Field and Reason say which and why
	CodeNoSuchDevice  Code = "no_such_device"  // the user has no such device
	CodeTooMany       Code = "too_many"        // over the relay's devices per user or KeyPackages per device

	// End-to-end encrypted rooms (version 5).
	CodeStaleEpoch Code = "stale_epoch" // the MLS message is for another epoch than the room's; ErrorFrame.Epoch is the current one; catch up and retry
	CodeBadCommit  Code = "bad_commit"  // an MLS handshake breaks a rule (Field: mls, welcome, proposals or group_info; Reason names the rule)
)

// Error is a decode or validation failure of one frame. Field names the
// offending key when one applies.
type Error struct {
	Code   Code
	Field  string
	Reason string
	Err    error // underlying cause, if any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("proto: %s: field %q: %s", e.Code, e.Field, e.Reason)
	}
	return fmt.Sprintf("proto: %s: %s", e.Code, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

func badField(field, format string, args ...any) *Error {
	return &Error{Code: CodeBadField, Field: field, Reason: fmt.Sprintf(format, args...)}
}
