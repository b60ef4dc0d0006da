package render

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestNewThemeModes(t *testing.T) {
	for _, tt := range []struct {
		mode string
		dark bool
		want string
	}{
		{"", true, "dark"}, {"auto", false, "light"}, {"dark", false, "dark"}, {"light", true, "light"},
	} {
		th, err := NewTheme(tt.mode, tt.dark, nil)
		if err != nil || th.Name != tt.want || th.ID() != tt.want {
			t.Errorf("NewTheme(%q, %v) = %v, %v; want %s", tt.mode, tt.dark, th, err, tt.want)
		}
	}
}

func TestThemeOverrides(t *testing.T) {
	th, err := NewTheme("dark", true, map[string]string{"accent": "#FF0000", "sender_3": "208", "text": ""})
	if err != nil {
		t.Fatal(err)
	}
	if th.Palette.Accent != "#ff0000" || th.Palette.Senders[2] != "208" {
		t.Errorf("overrides not applied: %+v", th.Palette)
	}
	if th.ID() == "dark" || !strings.HasPrefix(th.ID(), "dark/") {
		t.Errorf("ID %q does not reflect the overrides", th.ID())
	}
	if got := th.Styles.PaneFocused.Render("x"); !strings.Contains(got, "38;2;255;0;0") {
		t.Errorf("accent override not in the focused pane style: %q", got)
	}
	plain, _ := NewTheme("dark", true, nil)
	if plain.Palette.Accent != darkPalette.Accent || plain.Palette.Senders[2] != darkPalette.Senders[2] {
		t.Errorf("an override leaked into the base palette")
	}
	for _, tt := range []struct {
		mode string
		over map[string]string
		name string
	}{
		{"solarized", nil, "theme"},
		{"", map[string]string{"acent": "#fff"}, "acent"},
		{"", map[string]string{"accent": "#ggg"}, "accent"},
		{"", map[string]string{"error": "#12345"}, "error"},
		{"", map[string]string{"link": "256"}, "link"},
		{"", map[string]string{"link": "red"}, "link"},
		{"", map[string]string{"sender_13": "#fff"}, "sender_13"},
	} {
		_, err := NewTheme(tt.mode, true, tt.over)
		var te *ThemeError
		if !errors.As(err, &te) || te.Name != tt.name || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("NewTheme(%q, %v) error = %v, want a ThemeError naming %s", tt.mode, tt.over, err, tt.name)
		}
	}
}

// luminance is the WCAG 2 relative luminance of "#rrggbb".
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil || len(hex) != 7 {
		t.Fatalf("bad colour %q", hex)
	}
	lin := func(c uint64) float64 {
		x := float64(c) / 255
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(v>>16) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff)
}

func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestSenderColoursReadable(t *testing.T) {
	for _, tt := range []struct {
		p   Palette
		bgs []string
	}{
		{darkPalette, []string{"#000000", "#1e1e1e", "#303030"}},
		{lightPalette, []string{"#ffffff", "#eeeeee"}},
	} {
		if len(tt.p.Senders) < 8 {
			t.Errorf("only %d sender colours", len(tt.p.Senders))
		}
		seen := map[string]bool{}
		for _, c := range tt.p.Senders {
			if seen[c] {
				t.Errorf("sender colour %s twice", c)
			}
			seen[c] = true
			for _, bg := range tt.bgs {
				if r := contrast(t, c, bg); r < 4.5 {
					t.Errorf("sender colour %s on %s: contrast %.2f < 4.5", c, bg, r)
				}
			}
		}
		for _, c := range []string{tt.p.Error, tt.p.Link, tt.p.Accent} {
			for _, bg := range tt.bgs {
				if r := contrast(t, c, bg); r < 4.5 {
					t.Errorf("colour %s on %s: contrast %.2f < 4.5", c, bg, r)
				}
			}
		}
	}
}

func TestSenderIndexStableAndSpread(t *testing.T) {
	// FNV-1a values: these must never change, or every sender's colour would.
	for uri, want := range map[string]int{
		"":  int(uint32(2166136261) % 12),
		"a": int(uint32(0xe40c292c) % 12),
	} {
		if got := SenderIndex(uri, 12); got != want {
			t.Errorf("SenderIndex(%q) = %d, want %d", uri, got, want)
		}
	}
	used := map[int]int{}
	for i := 0; i < 1200; i++ {
		used[SenderIndex("mimi://example.com/u/user"+strconv.Itoa(i), 12)]++
	}
	for i := 0; i < 12; i++ {
		if used[i] < 50 {
			t.Errorf("colour %d used %d times of 1200", i, used[i])
		}
	}
	th, _ := NewTheme("light", false, nil)
	a := th.Sender("mimi://example.com/u/alice").Render("alice")
	if !strings.Contains(a, "alice") || !strings.Contains(a, "\x1b[") {
		t.Errorf("sender style renders %q", a)
	}
	if SenderIndex("x", 0) != 0 {
		t.Error("SenderIndex with no colours")
	}
}
