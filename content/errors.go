package content

import "errors"

// Rule kinds. Every error returned by the codec wraps exactly one of these,
// so callers can branch with errors.Is without parsing messages.
var (
	ErrNotMessage         = errors.New("not a mimiContent message")
	ErrNotStatusReport    = errors.New("not a message status report")
	ErrNotStatusUpdate    = errors.New("not a status update")
	ErrTruncated          = errors.New("truncated input")
	ErrTrailingBytes      = errors.New("trailing bytes after the data item")
	ErrMalformed          = errors.New("malformed CBOR")
	ErrIndefinite         = errors.New("indefinite-length encoding")
	ErrType               = errors.New("wrong CBOR type")
	ErrArrayLength        = errors.New("wrong array length")
	ErrDepth              = errors.New("nested too deeply")
	ErrTooManyParts       = errors.New("too many parts")
	ErrTooFewParts        = errors.New("too few parts")
	ErrDuplicateKey       = errors.New("duplicate map key")
	ErrKeyType            = errors.New("map key of a forbidden type")
	ErrKeyRange           = errors.New("map key out of range")
	ErrUnknownCardinality = errors.New("unknown cardinality")
	ErrUnknownSemantics   = errors.New("unknown partSemantics")
	ErrSaltSize           = errors.New("salt is not 16 bytes")
	ErrIDSize             = errors.New("message ID is not 32 bytes")
	ErrHashAlg            = errors.New("unknown hash algorithm octet")
	ErrUTF8               = errors.New("invalid UTF-8")
	ErrRange              = errors.New("integer out of range")
	ErrNaN                = errors.New("forbidden NaN encoding")
	ErrNotDeterministic   = errors.New("not core deterministic encoding")
	ErrURITooLong         = errors.New("URI longer than 65535 bytes")
	ErrMissing            = errors.New("required value missing")
	ErrSize               = errors.New("value size out of range")
)

// DecodeError is a rule violation found while decoding. Path names the field
// with the CDDL names, e.g. "nestedPart.parts[2].contentType" or
// "mimiExtensions[256][0]"; Kind is one of the Err* values above.
type DecodeError struct {
	Path   string
	Kind   error
	Detail string // what is wrong, e.g. "want text string, got byte string"
	Offset int    // byte offset in the input where the problem starts
}

func (e *DecodeError) Error() string { return joinPath(e.Path, e.Detail) }
func (e *DecodeError) Unwrap() error { return e.Kind }

// EncodeError is a rule violation found while validating a value before
// encoding it. Nothing is written when it is returned.
type EncodeError struct {
	Path   string
	Kind   error
	Detail string
}

func (e *EncodeError) Error() string { return joinPath(e.Path, e.Detail) }
func (e *EncodeError) Unwrap() error { return e.Kind }

func joinPath(path, detail string) string {
	if path == "" {
		return detail
	}
	return path + ": " + detail
}

// under prefixes the error's path with seg: a field name joins with ".",
// an index or key segment ("[2]") is appended directly.
func (e *DecodeError) under(seg string) *DecodeError {
	e.Path = prefixPath(seg, e.Path)
	return e
}

func (e *EncodeError) under(seg string) *EncodeError {
	e.Path = prefixPath(seg, e.Path)
	return e
}

func prefixPath(seg, path string) string {
	switch {
	case path == "":
		return seg
	case path[0] == '[' || path[0] == '(':
		return seg + path
	default:
		return seg + "." + path
	}
}

func decErr(kind error, off int, detail string) *DecodeError {
	return &DecodeError{Kind: kind, Offset: off, Detail: detail}
}

func encErr(kind error, detail string) *EncodeError {
	return &EncodeError{Kind: kind, Detail: detail}
}

// toEncodeError re-labels a value-validation failure found while encoding.
func toEncodeError(d *DecodeError) *EncodeError {
	return &EncodeError{Path: d.Path, Kind: d.Kind, Detail: d.Detail}
}
