package keys

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Key strings are the ones Bubble Tea v2's KeyPressMsg.String() returns:
// modifiers in the fixed order ctrl, alt, shift, meta, hyper, super, then a
// key name ("enter", "up", "f5", "space") or the character itself. A key
// that types a character without ctrl/alt is just that character: "?" (not
// "shift+/"), "G" (not "shift+g").

// modOrder is the order Bubble Tea prints modifiers in.
var modOrder = []string{"ctrl", "alt", "shift", "meta", "hyper", "super"}

// keyNames are the special key names Bubble Tea prints, plus aliases a user
// may write in the config file (mapped to the printed name).
var keyNames = map[string]string{
	"enter": "enter", "return": "enter",
	"tab": "tab", "backspace": "backspace",
	"esc": "esc", "escape": "esc",
	"space": "space",
	"up":    "up", "down": "down", "left": "left", "right": "right",
	"begin": "begin", "find": "find", "insert": "insert",
	"delete": "delete", "del": "delete", "select": "select",
	"pgup": "pgup", "pageup": "pgup", "pgdown": "pgdown", "pagedown": "pgdown",
	"home": "home", "end": "end",
}

func init() {
	for i := 1; i <= 20; i++ {
		n := fmt.Sprintf("f%d", i)
		keyNames[n] = n
	}
}

// KeyError reports a key string that Bubble Tea can never produce or that
// cannot be bound where it was written.
type KeyError struct {
	Context Context // "" when parsing outside a keymap
	Action  Action  // "" when parsing outside a keymap
	Key     string
	Reason  string
}

func (e *KeyError) Error() string {
	where := ""
	if e.Context != "" {
		where = fmt.Sprintf(" for %s in [keys.%s]", e.Action, e.Context)
	}
	return fmt.Sprintf("keys: key %q%s: %s", e.Key, where, e.Reason)
}

// ParseKey checks a key string and returns it in the exact form Bubble Tea
// v2's KeyPressMsg.String() reports that key, so lookups are plain string
// compares. Modifier and key names are case-insensitive and may come in any
// order; "shift+a" and "A" both become "A", "ctrl+A" becomes "ctrl+shift+a".
func ParseKey(s string) (string, error) {
	bad := func(reason string) (string, error) {
		return "", &KeyError{Key: s, Reason: reason}
	}
	if s == "" {
		return bad("empty key")
	}
	if s == " " {
		return "space", nil
	}
	if s == "+" {
		return "+", nil
	}
	parts := strings.Split(s, "+")
	base := parts[len(parts)-1]
	if base == "" && len(parts) >= 2 && parts[len(parts)-2] == "" {
		// "ctrl++": the key itself is "+".
		base = "+"
		parts = parts[:len(parts)-1]
	}
	mods := map[string]bool{}
	for _, m := range parts[:len(parts)-1] {
		lm := strings.ToLower(m)
		if !isMod(lm) {
			return bad(fmt.Sprintf("unknown modifier %q (use ctrl, alt, shift, meta, hyper, super)", m))
		}
		if mods[lm] {
			return bad(fmt.Sprintf("modifier %q given twice", lm))
		}
		mods[lm] = true
	}
	if base == "" {
		return bad("no key after the modifiers")
	}

	name, isName := keyNames[strings.ToLower(base)]
	if !isName {
		r, size := utf8.DecodeRuneInString(base)
		if size != len(base) || r == utf8.RuneError {
			return bad(fmt.Sprintf("unknown key name %q", base))
		}
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return bad("not a printable character")
		}
		chord := mods["ctrl"] || mods["alt"] || mods["meta"] || mods["hyper"] || mods["super"]
		switch {
		case unicode.IsUpper(r) && chord:
			// Bubble Tea reports ctrl+shift+a, never ctrl+A.
			mods["shift"] = true
			r = unicode.ToLower(r)
		case unicode.IsUpper(r) && mods["shift"]:
			return bad(fmt.Sprintf("write the character it types: %q", string(r)))
		case mods["shift"] && !chord:
			if !unicode.IsLetter(r) || unicode.ToUpper(r) == r {
				return bad("shift with a character key is reported as the character it types (\"?\", not \"shift+/\")")
			}
			// shift+a types "A".
			delete(mods, "shift")
			r = unicode.ToUpper(r)
		}
		name = string(r)
	}
	var b strings.Builder
	for _, m := range modOrder {
		if mods[m] {
			b.WriteString(m)
			b.WriteByte('+')
		}
	}
	b.WriteString(name)
	return b.String(), nil
}

func isMod(m string) bool {
	for _, o := range modOrder {
		if m == o {
			return true
		}
	}
	return false
}

// plainChar reports whether a parsed key types a character: a single
// printable character (or space) with no ctrl/alt/meta/hyper/super.
func plainChar(k string) bool {
	if k == "space" {
		return true
	}
	r, size := utf8.DecodeRuneInString(k)
	return size == len(k) && r != utf8.RuneError
}

// Display returns a key in the form shown in help: arrows as glyphs,
// everything else as Bubble Tea names it.
func Display(k string) string {
	switch k {
	case "up":
		return "↑"
	case "down":
		return "↓"
	case "left":
		return "←"
	case "right":
		return "→"
	}
	return k
}
