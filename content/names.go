package content

import (
	"fmt"
	"strings"
)

var dispositionNames = [...]string{
	Unspecified: "unspecified",
	Render:      "render",
	Reaction:    "reaction",
	Profile:     "profile",
	Inline:      "inline",
	Icon:        "icon",
	Attachment:  "attachment",
	Session:     "session",
	Preview:     "preview",
}

// String returns the registry name, or "unknown(N)" for 9..255.
func (d Disposition) String() string {
	if int(d) < len(dispositionNames) {
		return dispositionNames[d]
	}
	return fmt.Sprintf("unknown(%d)", uint8(d))
}

// Known reports whether d is in the -08 registry (0..8).
func (d Disposition) Known() bool { return int(d) < len(dispositionNames) }

// Effective is the disposition a receiver acts on: unknown values are
// treated as render (-08 §9.1).
func (d Disposition) Effective() Disposition {
	if d.Known() {
		return d
	}
	return Render
}

// ParseDisposition maps a registry name to its value.
func ParseDisposition(name string) (Disposition, bool) {
	for i, n := range dispositionNames {
		if strings.EqualFold(n, name) {
			return Disposition(i), true
		}
	}
	return 0, false
}

var cardinalityNames = [...]string{NullPart: "nullpart", Single: "single", External: "external", Multi: "multi"}

// String returns the CDDL name of the cardinality.
func (c Cardinality) String() string {
	if int(c) < len(cardinalityNames) {
		return cardinalityNames[c]
	}
	return fmt.Sprintf("unknown(%d)", uint8(c))
}

// ParseCardinality maps a CDDL name to its value.
func ParseCardinality(name string) (Cardinality, bool) {
	for i, n := range cardinalityNames {
		if strings.EqualFold(n, name) {
			return Cardinality(i), true
		}
	}
	return 0, false
}

var semanticsNames = [...]string{ChooseOne: "chooseOne", SingleUnit: "singleUnit", ProcessAll: "processAll"}

// String returns the CDDL name of the part semantics.
func (s PartSemantics) String() string {
	if int(s) < len(semanticsNames) {
		return semanticsNames[s]
	}
	return fmt.Sprintf("unknown(%d)", uint8(s))
}

// ParsePartSemantics maps a CDDL name to its value.
func ParsePartSemantics(name string) (PartSemantics, bool) {
	for i, n := range semanticsNames {
		if strings.EqualFold(n, name) {
			return PartSemantics(i), true
		}
	}
	return 0, false
}
