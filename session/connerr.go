package session

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"

	"mimichat/proto"
)

// ConnProblem is why the session is not connected, in the classes a user
// can act on (start the relay, fix the URL, the certificate or the token).
type ConnProblem int

const (
	ProblemOther    ConnProblem = iota // none of the below; Err has the detail
	ProblemRefused                     // nothing accepts connections at the relay's address
	ProblemNoHost                      // the relay's host name does not resolve
	ProblemTimeout                     // no answer in time
	ProblemTLS                         // the TLS handshake failed (certificate or protocol)
	ProblemHTTP                        // the server answered the websocket upgrade with an HTTP status
	ProblemAuth                        // the relay refused the token, or it is another user's
	ProblemVersion                     // the relay speaks another protocol version
	ProblemRelay                       // the relay refused or ended the connection with a code
	ProblemLost                        // a connection that was up dropped
	ProblemProtocol                    // the relay sent something that is not a frame
	ProblemRevoked                     // this device was removed: its token is refused for good (device_revoked)
)

// ConnError is a failed connection attempt or a dropped connection,
// classified. Status.Err holds one after a failure (Status.Problem gets it).
type ConnError struct {
	Problem    ConnProblem
	HTTPStatus int        // ProblemHTTP: the status code the server answered
	Code       proto.Code // ProblemAuth, ProblemVersion, ProblemRelay: the relay's code, when a known one
	TLS        string     // ProblemTLS: what failed, in fixed words (see tlsProblem)
	Err        error      // the cause, with text from the network: for logs, not a terminal
}

// Error is Summary and the cause.
func (e *ConnError) Error() string {
	if e.Err == nil {
		return e.Summary()
	}
	return e.Summary() + ": " + e.Err.Error()
}

func (e *ConnError) Unwrap() error { return e.Err }

// Summary says what went wrong in fixed words and numbers: nothing the
// network sent is in it, so it can be shown on a terminal as it is.
func (e *ConnError) Summary() string {
	switch e.Problem {
	case ProblemRefused:
		return "connection refused"
	case ProblemNoHost:
		return "relay host not found"
	case ProblemTimeout:
		return "no answer from the relay"
	case ProblemTLS:
		if e.TLS != "" {
			return "TLS error: " + e.TLS
		}
		return "TLS error"
	case ProblemHTTP:
		return "bad handshake: HTTP " + strconv.Itoa(e.HTTPStatus) + " (is the relay URL right?)"
	case ProblemAuth:
		if e.Code == "" {
			return "the token is another user's"
		}
		return "auth refused (" + string(e.Code) + ")"
	case ProblemVersion:
		return "the relay speaks another protocol version"
	case ProblemRelay:
		if e.Code == "" {
			return "the relay refused the connection"
		}
		return "the relay refused the connection (" + string(e.Code) + ")"
	case ProblemLost:
		return "connection lost"
	case ProblemProtocol:
		return "the relay sent a bad frame"
	case ProblemRevoked:
		return "this device was removed from your account: its token is refused (device_revoked)"
	}
	return "connection failed"
}

// Problem is the classified reason of the last failure, nil when there is
// none (Connecting, Online, or Stopped before Start).
func (st Status) Problem() *ConnError {
	var ce *ConnError
	if errors.As(st.Err, &ce) {
		return ce
	}
	return nil
}

// knownCodes are the relay codes a Summary may name: a code is a string
// from the network, so only the ones this build defines are repeated.
var knownCodes = map[proto.Code]bool{
	proto.CodeAuthFailed: true, proto.CodeAuthRequired: true, proto.CodeUnsupportedVersion: true,
	proto.CodeTooManyErrors: true, proto.CodeShuttingDown: true, proto.CodeRateLimited: true,
	proto.CodeInternal: true, proto.CodeMalformed: true, proto.CodeBadField: true,
	proto.CodeUnknownType: true, proto.CodeFrameTooLarge: true, proto.CodeNotBinary: true,
	proto.CodeDeviceRevoked: true,
}

// dialError classifies a failed websocket dial; status is the HTTP status
// the server answered with (0 when it did not answer).
func dialError(err error, status int) *ConnError {
	ce := &ConnError{Err: err}
	var dns *net.DNSError
	var tlsWhat string
	switch {
	case status != 0:
		ce.Problem, ce.HTTPStatus = ProblemHTTP, status
	case errors.Is(err, syscall.ECONNREFUSED):
		ce.Problem = ProblemRefused
	case errors.As(err, &dns):
		ce.Problem = ProblemNoHost
		if dns.IsTimeout {
			ce.Problem = ProblemTimeout
		}
	case func() bool { tlsWhat = tlsProblem(err); return tlsWhat != "" }():
		ce.Problem, ce.TLS = ProblemTLS, tlsWhat
	case isTimeout(err):
		ce.Problem = ProblemTimeout
	}
	return ce
}

// tlsProblem names a TLS failure in fixed words, "" when err is not one.
func tlsProblem(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		alert    tls.AlertError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return "certificate signed by an unknown authority"
	case errors.As(err, &hostname):
		return "certificate is not for this host"
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "certificate expired or not yet valid"
		}
		return "certificate not valid"
	case errors.As(err, &verify):
		return "certificate not accepted"
	case errors.As(err, &record):
		return "the server does not speak TLS (wss:// to a ws:// relay?)"
	case errors.As(err, &alert):
		return "handshake refused by the server"
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// relayConnError classifies the relay's refusal of hello.
func relayConnError(re *RelayError) *ConnError {
	ce := &ConnError{Problem: ProblemRelay, Err: re}
	switch re.Code {
	case proto.CodeAuthFailed, proto.CodeAuthRequired:
		ce.Problem = ProblemAuth
	case proto.CodeUnsupportedVersion:
		ce.Problem = ProblemVersion
	case proto.CodeDeviceRevoked:
		ce.Problem = ProblemRevoked
	}
	if knownCodes[re.Code] {
		ce.Code = re.Code
	}
	return ce
}

// lostError classifies why a connection that was up ended.
func lostError(err error) *ConnError {
	var ce *ConnError
	if errors.As(err, &ce) {
		return ce
	}
	ce = &ConnError{Problem: ProblemLost, Err: err}
	var re *RelayError
	var pe *proto.Error
	switch {
	case errors.As(err, &re):
		ce = relayConnError(re)
		ce.Err = err
	case errors.As(err, &pe):
		ce.Problem = ProblemProtocol
	case isTimeout(err):
		ce.Problem = ProblemTimeout
	}
	return ce
}
