package keys

import (
	"errors"
	"testing"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
)

func TestParseKey(t *testing.T) {
	ok := map[string]string{
		"ctrl+c": "ctrl+c", "Ctrl+C": "ctrl+shift+c", "CTRL+c": "ctrl+c",
		"alt+ctrl+x": "ctrl+alt+x", "shift+ctrl+up": "ctrl+shift+up",
		"enter": "enter", "Return": "enter", "escape": "esc", "PageUp": "pgup",
		"shift+enter": "shift+enter", "shift+tab": "shift+tab",
		"alt+1": "alt+1", "?": "?", "G": "G", "shift+g": "G", "+": "+",
		"ctrl++": "ctrl++", " ": "space", "space": "space", "F12": "f12", "é": "é",
	}
	for in, want := range ok {
		got, err := ParseKey(in)
		if err != nil || got != want {
			t.Errorf("ParseKey(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ctrl+", "foo", "ctrl+ctrl+a", "hyperspace+a", "shift+/", "shift+G", "\x1b", "ab", "\t", "f99"} {
		if got, err := ParseKey(in); err == nil {
			t.Errorf("ParseKey(%q) = %q, want an error", in, got)
		} else if ke := (*KeyError)(nil); !errors.As(err, &ke) || ke.Key != in {
			t.Errorf("ParseKey(%q): error %v does not name the key", in, err)
		}
	}
}

// keyFor builds the tea.Key that a parsed key string describes.
func keyFor(t *testing.T, k string) tea.Key {
	t.Helper()
	codes := map[string]rune{"enter": tea.KeyEnter, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
		"esc": tea.KeyEscape, "space": tea.KeySpace, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "home": tea.KeyHome, "end": tea.KeyEnd,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "delete": tea.KeyDelete, "insert": tea.KeyInsert,
		"f1": tea.KeyF1, "f2": tea.KeyF2, "f3": tea.KeyF3, "f4": tea.KeyF4}
	mods := map[string]tea.KeyMod{"ctrl": tea.ModCtrl, "alt": tea.ModAlt, "shift": tea.ModShift}
	var key tea.Key
	rest := k
	for {
		found := false
		for name, m := range mods {
			if len(rest) > len(name)+1 && rest[:len(name)+1] == name+"+" {
				key.Mod |= m
				rest = rest[len(name)+1:]
				found = true
			}
		}
		if !found {
			break
		}
	}
	if c, ok := codes[rest]; ok {
		key.Code = c
		return key
	}
	r := []rune(rest)
	if len(r) != 1 {
		t.Fatalf("test cannot build key %q", k)
	}
	key.Code = r[0]
	if key.Mod == 0 {
		key.Text = rest
	}
	return key
}

// Every key in both presets is a string Bubble Tea actually reports.
func TestPresetKeysRoundTripThroughBubbleTea(t *testing.T) {
	for _, p := range Presets {
		km := mustNew(t, p, nil)
		for _, ctx := range Contexts {
			for _, a := range Actions(ctx) {
				for _, k := range km.Keys(ctx, a) {
					if got := tea.KeyPressMsg(keyFor(t, k)).String(); got != k {
						t.Errorf("%s %s/%s: key %q is reported by Bubble Tea as %q", p, ctx, a, k, got)
					}
				}
			}
		}
	}
}

// Real terminal input decoded by Bubble Tea's own decoder finds the action.
func TestTerminalBytesFindActions(t *testing.T) {
	km := mustNew(t, "default", nil)
	tests := []struct {
		in   string
		ctx  Context
		want Action
	}{
		{"\x03", Composer, Quit},
		{"\r", Composer, Send},
		{"\x1b\r", Composer, Newline},        // alt+enter
		{"\n", Composer, Newline},            // ctrl+j
		{"\x1b[13;2u", Composer, Newline},    // kitty shift+enter
		{"\x1b[27;2;13~", Composer, Newline}, // xterm modifyOtherKeys shift+enter
		{"\t", Composer, CompleteNext},
		{"\x1b[Z", Composer, CompletePrev},
		{"\x1b1", Composer, Room1},
		{"\x1b9", Timeline, Room9},
		{"\x1b[A", Composer, EditLast},
		{"\x1b[1;5A", Composer, SelectMode}, // ctrl+up
		{"\x1b[1;2A", Composer, ScrollUp},   // shift+up
		{"\x1b[5~", Timeline, PageUp},
		{"\x1b[1;5H", Timeline, ScrollTop},
		{"\x1bOP", Timeline, Help}, // f1
		{"?", Timeline, Help},
		{"G", Timeline, SelectLast},
		{"+", Timeline, React},
		{"\x0b", Composer, RoomPicker}, // ctrl+k
	}
	var dec uv.EventDecoder
	for _, tt := range tests {
		n, ev := dec.Decode([]byte(tt.in))
		kp, ok := ev.(uv.KeyPressEvent)
		if !ok || n != len(tt.in) {
			t.Errorf("%q decoded to %T (%d bytes)", tt.in, ev, n)
			continue
		}
		s := tea.KeyPressMsg(kp).String()
		if got, _ := km.Action(tt.ctx, s); got != tt.want {
			t.Errorf("%q → %q in %s = %q, want %q", tt.in, s, tt.ctx, got, tt.want)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"ctrl+c", "Ctrl+Shift+A", "ctrl++", "+", " ", "alt+1", "shift+/", "é", "f12", "a+b+c", "++"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key != s {
				t.Fatalf("ParseKey(%q): untyped error %v", s, err)
			}
			return
		}
		again, err := ParseKey(k)
		if err != nil || again != k {
			t.Fatalf("ParseKey(%q) = %q, but ParseKey(%q) = %q, %v", s, k, k, again, err)
		}
	})
}
