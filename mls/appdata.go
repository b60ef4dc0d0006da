package mls

import (
	"fmt"
	"time"
)

// Application data components of draft-ietf-mls-extensions: the
// app_data_dictionary extension and the last_resort_key_package component a
// KeyPackage carries in it, so a key package server can tell a reusable
// last-resort key package from the single-use ones by parsing.

// Extension and component types of draft-ietf-mls-extensions (IANA values as suggested there).
const (
	// ExtensionAppDataDictionary is the app_data_dictionary extension (0x0006).
	ExtensionAppDataDictionary uint16 = 0x0006
	// ExtensionLastResortLegacy is the last_resort_key_package extension of
	// draft-ietf-mls-extensions-03..05 (0x000A, OpenMLS's LastResort); read, never written.
	ExtensionLastResortLegacy uint16 = 0x000A
	// ComponentLastResortKeyPackage is the last_resort_key_package component (0x0004).
	ComponentLastResortKeyPackage uint16 = 0x0004
)

// ComponentData is one entry of an AppDataDictionary.
type ComponentData struct {
	ComponentID uint16
	Data        []byte
}

// EncodeAppDataDictionary serializes an AppDataDictionary; entries must be
// sorted by component id without duplicates.
func EncodeAppDataDictionary(entries []ComponentData) ([]byte, error) {
	for i := 1; i < len(entries); i++ {
		if entries[i].ComponentID <= entries[i-1].ComponentID {
			return nil, fmt.Errorf("%w: app data dictionary component %d out of order or repeated", ErrBadValue, entries[i].ComponentID)
		}
	}
	var w writer
	w.vector(func(w *writer) {
		for _, e := range entries {
			w.u16(e.ComponentID)
			w.opaque(e.Data)
		}
	})
	return w.b, nil
}

// ParseAppDataDictionary decodes an AppDataDictionary and enforces its
// rules: sorted by component id, at most one entry per id.
func ParseAppDataDictionary(b []byte) ([]ComponentData, error) {
	var out []ComponentData
	err := decodeAll(b, "app_data_dictionary", func(r *reader) {
		r.vector("app_data_dictionary.component_data", func(r *reader) {
			e := ComponentData{ComponentID: r.u16("component_data.component_id")}
			e.Data = clone(r.opaque("component_data.data"))
			if n := len(out); n > 0 && r.err == nil && e.ComponentID <= out[n-1].ComponentID {
				r.fail("component_data.component_id", fmt.Errorf("%w: component %d out of order or repeated", ErrBadValue, e.ComponentID))
			}
			out = append(out, e)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lastResortExtension is the app_data_dictionary holding only the
// last_resort_key_package component (empty data).
func lastResortExtension() Extension {
	b, _ := EncodeAppDataDictionary([]ComponentData{{ComponentID: ComponentLastResortKeyPackage}})
	return Extension{Type: ExtensionAppDataDictionary, Data: b}
}

// IsLastResort reports whether the key package is marked last resort: an
// app_data_dictionary extension with the last_resort_key_package component,
// or the legacy last_resort_key_package extension. A malformed dictionary is
// an error, not "no".
func (k *KeyPackage) IsLastResort() (bool, error) {
	if _, ok := findExtension(k.Extensions, ExtensionLastResortLegacy); ok {
		return true, nil
	}
	data, ok := findExtension(k.Extensions, ExtensionAppDataDictionary)
	if !ok {
		return false, nil
	}
	entries, err := ParseAppDataDictionary(data)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrInvalidKeyPackage, err)
	}
	for _, e := range entries {
		if e.ComponentID == ComponentLastResortKeyPackage {
			return true, nil
		}
	}
	return false, nil
}

// KeyPackageInfo is what a key package server needs to know about an upload.
type KeyPackageInfo struct {
	CipherSuite  CipherSuite
	Ref          []byte // KeyPackageRef: what a Welcome names its recipients by
	Credential   Credential
	SignatureKey []byte
	LastResort   bool
	NotBefore    time.Time
	NotAfter     time.Time
}

// InspectKeyPackage parses and validates an MLSMessage(KeyPackage) in its own
// cipher suite (signatures, lifetime at now, capabilities) and reports what a
// key package server stores. Unsupported suites are ErrUnsupportedCipherSuite.
func InspectKeyPackage(b []byte, now time.Time) (*KeyPackageInfo, error) {
	m, err := ParseMessage(b)
	if err != nil {
		return nil, err
	}
	kp := m.KeyPackage
	if kp == nil {
		return nil, fmt.Errorf("%w: wire format %d, want key package", ErrInvalidKeyPackage, m.WireFormat)
	}
	s, err := lookupSuite(kp.CipherSuite)
	if err != nil {
		return nil, err
	}
	if err := validateKeyPackage(kp, kp.CipherSuite, nil, now); err != nil {
		return nil, err
	}
	lr, err := kp.IsLastResort()
	if err != nil {
		return nil, err
	}
	return &KeyPackageInfo{CipherSuite: kp.CipherSuite, Ref: kp.ref(s), Credential: kp.LeafNode.Credential,
		SignatureKey: clone(kp.LeafNode.SignatureKey), LastResort: lr,
		NotBefore: time.Unix(int64(kp.LeafNode.NotBefore), 0).UTC(), NotAfter: time.Unix(int64(kp.LeafNode.NotAfter), 0).UTC()}, nil
}
