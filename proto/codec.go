package proto

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

var (
	encMode cbor.EncMode
	// strictDec decodes a frame's fields: unknown or duplicate keys, tags and
	// case-insensitive key matches are errors.
	strictDec cbor.DecMode
	// typeDec reads only "t" in a first pass, so an unknown type is reported as
	// such rather than as an unknown field.
	typeDec cbor.DecMode
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	strict := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   8,
		// A room list names every room of a user in thousands of rooms; a
		// client frame's elements are bounded by max_frame anyway.
		MaxArrayElements: 1 << 16,
		MaxMapPairs:      64,
		UTF8:             cbor.UTF8RejectInvalid,
	}
	if strictDec, err = strict.DecMode(); err != nil {
		panic(err)
	}
	lax := strict
	lax.ExtraReturnErrors = cbor.ExtraDecErrorNone
	// The first pass leaves duplicate keys to strictDec's second: checking
	// them here put every key but "t" of every frame in a map, a tenth of
	// the garbage of a client reading events (issue 18).
	lax.DupMapKey = cbor.DupMapKeyQuiet
	if typeDec, err = lax.DecMode(); err != nil {
		panic(err)
	}
}

// Encode sets f's "t" key and returns its core deterministic CBOR encoding.
// It does not validate: the sender is trusted to build sane frames.
func Encode(f Frame) ([]byte, error) {
	f.head().T = f.FrameType()
	b, err := encMode.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("proto: encode %s: %w", f.FrameType(), err)
	}
	return b, nil
}

// Decode parses and validates one frame. Every failure is an *Error whose
// Code says what is wrong (malformed, unknown_type or bad_field).
func Decode(data []byte) (Frame, error) {
	var h struct {
		T Type `cbor:"t"`
	}
	if err := typeDec.Unmarshal(data, &h); err != nil {
		return nil, decodeError(err)
	}
	if h.T == "" {
		return nil, badField("t", "missing frame type")
	}
	f := newFrame(h.T)
	if f == nil {
		return nil, &Error{Code: CodeUnknownType, Field: "t", Reason: fmt.Sprintf("unknown frame type %q", truncate(string(h.T)))}
	}
	if err := strictDec.Unmarshal(data, f); err != nil {
		return nil, decodeError(err)
	}
	if err := Validate(f); err != nil {
		return nil, err
	}
	return f, nil
}

// decodeError turns a CBOR error into a typed *Error.
func decodeError(err error) *Error {
	var (
		typeErr    *cbor.UnmarshalTypeError
		unknownErr *cbor.UnknownFieldError
		dupErr     *cbor.DupMapKeyError
	)
	switch {
	case errors.As(err, &unknownErr):
		return &Error{Code: CodeBadField, Reason: fmt.Sprintf("unknown key (map entry %d)", unknownErr.Index), Err: err}
	case errors.As(err, &dupErr):
		return &Error{Code: CodeMalformed, Reason: fmt.Sprintf("duplicate key (map entry %d)", dupErr.Index), Err: err}
	case errors.As(err, &typeErr) && typeErr.StructFieldName != "":
		name := typeErr.StructFieldName
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:] // "proto.Submit.room" names the key "room"
		}
		return &Error{Code: CodeBadField, Field: name,
			Reason: fmt.Sprintf("cannot hold CBOR %s", typeErr.CBORType), Err: err}
	case errors.As(err, &typeErr):
		return &Error{Code: CodeMalformed, Reason: fmt.Sprintf("a frame is a CBOR map, not %s", typeErr.CBORType), Err: err}
	}
	return &Error{Code: CodeMalformed, Reason: truncate(err.Error()), Err: err}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
