package booth

// A visitor's account name comes from the SSH user name: `ssh ann@host`
// visits as ann. Whatever the client sends, the name is a valid user slug.

import (
	"strconv"
	"strings"
	"unicode"

	"mimichat/proto"
)

// maxNameLen leaves room for a "-99" suffix within proto.MaxSlug.
const maxNameLen = 24

// sanitizeName is the account name for SSH user name user: lower-case
// ASCII letters, digits, '.', '_' and '-' (others dropped, spaces become
// '-'), at most maxNameLen bytes, "visitor" when nothing is left.
func sanitizeName(user string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(user) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		case unicode.IsSpace(r) && b.Len() > 0:
			b.WriteByte('-')
		}
		if b.Len() >= maxNameLen {
			break
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		return "visitor"
	}
	return s
}

// uniqueName is name, or name-2, name-3… : the first that free accepts.
func uniqueName(name string, free func(string) bool) string {
	if free(name) {
		return name
	}
	for i := 2; ; i++ {
		n := name + "-" + strconv.Itoa(i)
		if len(n) <= proto.MaxSlug && free(n) {
			return n
		}
	}
}
