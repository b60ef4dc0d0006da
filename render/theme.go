package render

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
)

// The theme is chosen once from the terminal's background (Bubble Tea v2
// sends tea.BackgroundColorMsg at start; msg.IsDark() answers it; outside
// Bubble Tea, lipgloss.HasDarkBackground(os.Stdin, os.Stdout)), unless the
// config forces "light" or "dark". Colours can be overridden by slot name.
// One *Theme is built and passed down; nothing reads colours elsewhere.

// Palette holds a theme's colours by slot. A value is "#rgb", "#rrggbb" or
// an ANSI colour number "0".."255"; "" means the terminal's own default.
type Palette struct {
	Text, Muted, Accent, Link string
	Error, Warning, Success   string
	SelectionFg, SelectionBg  string
	MentionFg, MentionBg      string
	Border, CodeFg, CodeBg    string
	StatusFg, StatusBg        string
	Senders                   []string // picked by hash of the sender URI
}

// Sender colours keep a WCAG contrast of at least 4.5:1 against a dark
// grey (#303030) or light grey (#eeeeee) background, so they stay readable
// on most terminal themes, with hues spread around the colour wheel.
var (
	darkPalette = Palette{
		Text: "", Muted: "#8a8a8a", Accent: "#5fafff", Link: "#5fafff",
		Error: "#ff6b6b", Warning: "#e6bf4c", Success: "#5fd787",
		SelectionFg: "#ffffff", SelectionBg: "#3a3a5a",
		MentionFg: "#ffd75f", MentionBg: "#4a3f1a",
		Border: "#4e4e4e", CodeFg: "#ff8787", CodeBg: "#3a3a3a",
		StatusFg: "#d0d0d0", StatusBg: "#303030",
		Senders: []string{"#ed7e7e", "#e68c4c", "#e6bf4c", "#99e64c", "#4ce680", "#4ce6cc",
			"#4cbfe6", "#6ca0ea", "#9f8fef", "#c182ed", "#ea6cea", "#eb75b0"},
	}
	lightPalette = Palette{
		Text: "", Muted: "#6c6c6c", Accent: "#005fd7", Link: "#0057b7",
		Error: "#c01c28", Warning: "#8a6100", Success: "#1a7f37",
		SelectionFg: "#000000", SelectionBg: "#d7e0f5",
		MentionFg: "#5c4300", MentionBg: "#fff2b3",
		Border: "#c6c6c6", CodeFg: "#b3261e", CodeBg: "#ececec",
		StatusFg: "#303030", StatusBg: "#e4e4e4",
		Senders: []string{"#d01111", "#a54d0d", "#7f620a", "#3d7109", "#0a762e", "#097160",
			"#0b6d8e", "#1162d4", "#3211d4", "#8311d4", "#b30fb3", "#c6106b"},
	}
)

// slots maps the config names of colour slots to the palette fields.
func (p *Palette) slots() map[string]*string {
	m := map[string]*string{
		"text": &p.Text, "muted": &p.Muted, "accent": &p.Accent, "link": &p.Link,
		"error": &p.Error, "warning": &p.Warning, "success": &p.Success,
		"selection_fg": &p.SelectionFg, "selection_bg": &p.SelectionBg,
		"mention_fg": &p.MentionFg, "mention_bg": &p.MentionBg,
		"border": &p.Border, "code_fg": &p.CodeFg, "code_bg": &p.CodeBg,
		"status_fg": &p.StatusFg, "status_bg": &p.StatusBg,
	}
	for i := range p.Senders {
		m[fmt.Sprintf("sender_%d", i+1)] = &p.Senders[i]
	}
	return m
}

// ThemeError reports a bad theme setting in the config, naming it.
type ThemeError struct {
	Name   string // "theme" for the mode, else the colour slot
	Value  string
	Reason string
}

func (e *ThemeError) Error() string {
	return fmt.Sprintf("render: theme %s = %q: %s", e.Name, e.Value, e.Reason)
}

// Theme is the palette and the styles built from it. Build it with
// NewTheme; it is read-only afterwards.
type Theme struct {
	Name    string // "dark" or "light"
	Palette Palette
	Styles  Styles
	id      string
}

// ID identifies the theme's look (name and overrides), for cache keys.
func (t *Theme) ID() string { return t.id }

// NewTheme builds the theme for mode ("auto" or "" follows bgIsDark;
// "light" and "dark" force one) with colour overrides by slot name
// (text, muted, accent, link, error, warning, success, selection_fg,
// selection_bg, mention_fg, mention_bg, border, code_fg, code_bg,
// status_fg, status_bg, sender_1 .. sender_12).
func NewTheme(mode string, bgIsDark bool, overrides map[string]string) (*Theme, error) {
	dark := bgIsDark
	switch mode {
	case "", "auto":
	case "dark":
		dark = true
	case "light":
		dark = false
	default:
		return nil, &ThemeError{Name: "theme", Value: mode, Reason: `want "auto", "light" or "dark"`}
	}
	t := &Theme{Name: "light", Palette: lightPalette}
	if dark {
		t.Name, t.Palette = "dark", darkPalette
	}
	t.Palette.Senders = append([]string(nil), t.Palette.Senders...)
	slots := t.Palette.slots()
	names := make([]string, 0, len(overrides))
	for n := range overrides {
		names = append(names, n)
	}
	sort.Strings(names)
	h := fnv.New64a()
	for _, n := range names {
		v := overrides[n]
		slot, ok := slots[n]
		if !ok {
			return nil, &ThemeError{Name: n, Value: v, Reason: "unknown colour name"}
		}
		if err := checkColour(v); err != "" {
			return nil, &ThemeError{Name: n, Value: v, Reason: err}
		}
		*slot = strings.ToLower(v)
		fmt.Fprintf(h, "%s=%s;", n, v)
	}
	t.id = t.Name
	if len(names) > 0 {
		t.id += "/" + strconv.FormatUint(h.Sum64(), 36)
	}
	t.Styles = newStyles(t.Palette)
	return t, nil
}

// CheckColour reports whether name is a colour slot NewTheme knows and v a
// colour it accepts, so the config loader can check [ui.colours] on load.
func CheckColour(name, v string) error {
	p := darkPalette
	p.Senders = append([]string(nil), p.Senders...)
	if _, ok := p.slots()[name]; !ok {
		return fmt.Errorf("unknown colour name %q (known: text, muted, accent, link, error, warning, success, selection_fg, selection_bg, mention_fg, mention_bg, border, code_fg, code_bg, status_fg, status_bg, sender_1..sender_%d)", name, len(p.Senders))
	}
	if why := checkColour(v); why != "" {
		return fmt.Errorf("%q: %s", v, why)
	}
	return nil
}

// checkColour returns why v is not a colour, or "".
func checkColour(v string) string {
	if v == "" {
		return "" // the terminal default
	}
	if hex, ok := strings.CutPrefix(v, "#"); ok {
		if len(hex) != 3 && len(hex) != 6 {
			return `want "#rgb" or "#rrggbb"`
		}
		if _, err := strconv.ParseUint(hex, 16, 32); err != nil {
			return "not a hex colour"
		}
		return ""
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 255 || strconv.Itoa(n) != v {
		return `want "#rrggbb" or an ANSI colour number 0..255`
	}
	return ""
}

// SenderIndex maps a sender URI to a palette index in [0, n): FNV-1a of the
// URI, so a sender keeps its colour across runs, rooms and themes.
func SenderIndex(uri string, n int) int {
	if n <= 0 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(uri))
	return int(h.Sum32() % uint32(n))
}

// SenderColour returns the colour of a sender in this theme.
func (t *Theme) SenderColour(uri string) string {
	return t.Palette.Senders[SenderIndex(uri, len(t.Palette.Senders))]
}

// Sender returns the style for a sender's name: bold, in the sender's
// stable colour.
func (t *Theme) Sender(uri string) lipgloss.Style {
	return t.Styles.Senders[SenderIndex(uri, len(t.Styles.Senders))]
}
