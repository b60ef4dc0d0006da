package mls

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MIMI device credentials: each client (device) is one MLS client whose basic
// credential identity is its device URI, mimi://host/d/<user>/<device>. The
// user URI, mimi://host/u/<user>, is derived from it, so a hub and every
// member can tell which user a leaf belongs to from the credential alone,
// without a second structure. (draft-ietf-mimi-protocol-06 names clients
// mimi://host/d/<client>; putting the user name first keeps that prefix and
// makes the user derivable.) Whether the credential really belongs to that
// user is the authentication service's call: the relay checks that the device
// URI's user is the authenticated user of the connection that uploads it.

// ErrCredential is wrapped by every refusal of a device credential or URI.
var ErrCredential = errors.New("mls: invalid MIMI device credential")

// CredentialError names the part of a device credential that broke a rule.
type CredentialError struct {
	Field string // "credential_type", "uri", "host", "user", "device"
	Rule  string
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("mls: invalid MIMI device credential: %s: %s", e.Field, e.Rule)
}

func (e *CredentialError) Unwrap() error { return ErrCredential }

// maxDeviceURI bounds a device URI (and so a basic credential identity).
const maxDeviceURI = 512

// DeviceCredential is a MIMI client identity: a device of a user on a provider.
type DeviceCredential struct {
	Host   string // provider domain, e.g. "example.com"
	User   string // user name, as in mimi://host/u/<user>
	Device string // device name, unique among the user's devices
}

// UserURI is mimi://host/u/<user>.
func (d DeviceCredential) UserURI() string { return "mimi://" + d.Host + "/u/" + d.User }

// DeviceURI is mimi://host/d/<user>/<device>, the basic credential identity.
func (d DeviceCredential) DeviceURI() string {
	return "mimi://" + d.Host + "/d/" + d.User + "/" + d.Device
}

// Credential is the basic credential carrying the device URI.
func (d DeviceCredential) Credential() Credential {
	return Credential{Type: CredentialBasic, Identity: []byte(d.DeviceURI())}
}

// Validate checks each part is a usable URI segment.
func (d DeviceCredential) Validate() error {
	for _, p := range []struct{ field, v string }{{"host", d.Host}, {"user", d.User}, {"device", d.Device}} {
		if err := checkSegment(p.field, p.v); err != nil {
			return err
		}
	}
	if len(d.DeviceURI()) > maxDeviceURI {
		return &CredentialError{"uri", fmt.Sprintf("longer than %d bytes", maxDeviceURI)}
	}
	return nil
}

// checkSegment refuses what would make the URI ambiguous or unprintable.
func checkSegment(field, v string) error {
	if v == "" {
		return &CredentialError{field, "empty"}
	}
	if !utf8.ValidString(v) {
		return &CredentialError{field, "not UTF-8"}
	}
	for _, r := range v {
		if r == '/' || r == '?' || r == '#' || r == '@' || r == '%' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return &CredentialError{field, fmt.Sprintf("character %q not allowed", r)}
		}
	}
	return nil
}

// NewDeviceCredential makes the device credential of device for userURI (mimi://host/u/<user>).
func NewDeviceCredential(userURI, device string) (DeviceCredential, error) {
	rest, ok := strings.CutPrefix(userURI, "mimi://")
	if !ok {
		return DeviceCredential{}, &CredentialError{"uri", "user URI is not mimi://"}
	}
	host, user, ok := strings.Cut(rest, "/u/")
	if !ok {
		return DeviceCredential{}, &CredentialError{"uri", "user URI is not mimi://host/u/<user>"}
	}
	d := DeviceCredential{Host: host, User: user, Device: device}
	return d, d.Validate()
}

// ParseDeviceURI reads mimi://host/d/<user>/<device>.
func ParseDeviceURI(uri string) (DeviceCredential, error) {
	rest, ok := strings.CutPrefix(uri, "mimi://")
	if !ok {
		return DeviceCredential{}, &CredentialError{"uri", "not a mimi:// URI"}
	}
	host, path, ok := strings.Cut(rest, "/d/")
	if !ok {
		return DeviceCredential{}, &CredentialError{"uri", "not mimi://host/d/<user>/<device>"}
	}
	user, device, ok := strings.Cut(path, "/")
	if !ok {
		return DeviceCredential{}, &CredentialError{"uri", "no device segment after the user"}
	}
	d := DeviceCredential{Host: host, User: user, Device: device}
	return d, d.Validate()
}

// ParseDeviceCredential reads the device identity of a basic credential.
func ParseDeviceCredential(c Credential) (DeviceCredential, error) {
	if c.Type != CredentialBasic {
		return DeviceCredential{}, &CredentialError{"credential_type", fmt.Sprintf("type %d, want basic", c.Type)}
	}
	return ParseDeviceURI(string(c.Identity))
}

// Device is the member's device identity, when its credential is one.
func (m Member) Device() (DeviceCredential, error) { return ParseDeviceCredential(m.Credential) }

// NewDeviceIdentity creates the MLS client of one device: a fresh signature
// key pair and the basic credential naming the device URI.
func NewDeviceIdentity(cs CipherSuite, d DeviceCredential) (*Identity, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return NewIdentity(cs, []byte(d.DeviceURI()))
}
