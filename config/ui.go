package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"

	"mimichat/render"
)

// UI is the [ui] table: how the terminal client looks and behaves. Every
// field is optional; the zero value means "the built-in default", and a
// command-line flag given for the same setting wins (see Override).
type UI struct {
	// Theme is "auto" (from the terminal background), "light" or "dark".
	Theme string `toml:"theme"`
	// Colours override palette slots by name ([ui.colours] accent = "#ff8700").
	Colours map[string]string `toml:"colours"`
	// Notify is how mentions and knocks alert: "desktop", "bell" or "off".
	Notify string `toml:"notify"`
	// ReadReceipts: false stops sending read receipts (delivery receipts
	// still go). nil means the default, true.
	ReadReceipts *bool `toml:"read_receipts"`
	// Languages are preferred language tags for chooseOne parts, most
	// preferred first. Empty means from $LANGUAGE / $LC_ALL / $LANG.
	Languages []string `toml:"languages"`
	// DownloadDir is where saved attachments go. Relative paths are
	// relative to the config file's directory; "~/" works.
	DownloadDir string `toml:"download_dir"`
	// Names are display names for user URIs ([ui.names] "mimi://…" = "Bob").
	Names map[string]string `toml:"names"`
	// Images is how image attachments show inline: "auto" (ask the
	// terminal: kitty graphics, sixel, else half blocks), "kitty", "sixel",
	// "blocks" or "off".
	Images string `toml:"images"`
	// ImageCols and ImageRows bound an inline thumbnail in cells (0: the
	// defaults, 40 and 12).
	ImageCols int `toml:"image_cols"`
	ImageRows int `toml:"image_rows"`
	// Hyperlinks: false stops URLs in messages being OSC 8 hyperlinks
	// (for a terminal that shows the sequence instead). nil means true.
	Hyperlinks *bool `toml:"hyperlinks"`
	// Layout is how the timeline draws messages: "cozy" (the default: a
	// sender's consecutive messages under one header) or "compact" (one
	// line per message, IRC-style).
	Layout string `toml:"layout"`
	// GroupMinutes is how long after a sender's message their next one is
	// still grouped under its header (nil: 5; 0 turns grouping off).
	GroupMinutes *int `toml:"group_minutes"`
}

// Values accepted by UI.Theme and UI.Notify ("" means the default).
var (
	Themes  = []string{"auto", "light", "dark"}
	Notifys = []string{"desktop", "bell", "off"}
	Images  = []string{"auto", "kitty", "sixel", "blocks", "off"}
	Layouts = []string{"cozy", "compact"}
)

// MaxGroupMinutes bounds ui.group_minutes (a day).
const MaxGroupMinutes = 1440

// Bounds of ui.image_cols and ui.image_rows.
const (
	MaxImageCols = 200
	MaxImageRows = 60
)

// validate checks the values that are present.
func (u *UI) validate() error {
	if err := oneOf(u.Theme, Themes); err != nil {
		return &Error{Key: "ui.theme", Err: err}
	}
	if err := oneOf(u.Notify, Notifys); err != nil {
		return &Error{Key: "ui.notify", Err: err}
	}
	if err := oneOf(u.Images, Images); err != nil {
		return &Error{Key: "ui.images", Err: err}
	}
	if err := oneOf(u.Layout, Layouts); err != nil {
		return &Error{Key: "ui.layout", Err: err}
	}
	if g := u.GroupMinutes; g != nil && (*g < 0 || *g > MaxGroupMinutes) {
		return &Error{Key: "ui.group_minutes", Err: fmt.Errorf("want 0 (no grouping) to %d minutes, got %d", MaxGroupMinutes, *g)}
	}
	if u.ImageCols < 0 || u.ImageCols > MaxImageCols {
		return &Error{Key: "ui.image_cols", Err: fmt.Errorf("want 1 to %d cells, got %d", MaxImageCols, u.ImageCols)}
	}
	if u.ImageRows < 0 || u.ImageRows > MaxImageRows {
		return &Error{Key: "ui.image_rows", Err: fmt.Errorf("want 1 to %d cells, got %d", MaxImageRows, u.ImageRows)}
	}
	for _, name := range sortedNames(u.Colours) {
		if err := render.CheckColour(name, u.Colours[name]); err != nil {
			return &Error{Key: "ui.colours." + name, Err: err}
		}
	}
	for i, tag := range u.Languages {
		if err := checkLanguage(tag); err != nil {
			return &Error{Key: fmt.Sprintf("ui.languages[%d]", i), Err: err}
		}
	}
	for _, uri := range sortedNames(u.Names) {
		key := fmt.Sprintf("ui.names.%q", uri)
		if err := checkUserURI(uri); err != nil {
			return &Error{Key: key, Err: err}
		}
		if err := checkDisplayName(u.Names[uri]); err != nil {
			return &Error{Key: key, Err: err}
		}
	}
	return nil
}

// oneOf accepts "" (the default) or one of want.
func oneOf(v string, want []string) error {
	if v == "" {
		return nil
	}
	for _, w := range want {
		if v == w {
			return nil
		}
	}
	last := len(want) - 1
	return fmt.Errorf("want %s or %s, got %q", strings.Join(want[:last], ", "), want[last], v)
}

// checkLanguage accepts BCP 47-shaped tags: ASCII letters and digits in
// hyphen-separated subtags of 1 to 8 characters, the first all letters.
func checkLanguage(tag string) error {
	subtags := strings.Split(tag, "-")
	for i, s := range subtags {
		if len(s) < 1 || len(s) > 8 {
			return fmt.Errorf("%q: want a language tag such as \"en\" or \"pt-BR\"", tag)
		}
		for _, r := range s {
			letter := r < unicode.MaxASCII && unicode.IsLetter(r)
			digit := r >= '0' && r <= '9'
			if !letter && !(digit && i > 0) {
				return fmt.Errorf("%q: want a language tag such as \"en\" or \"pt-BR\"", tag)
			}
		}
	}
	return nil
}

// maxDisplayName bounds a configured display name (it is drawn in narrow
// columns; a long one would only be truncated).
const maxDisplayName = 64

func checkDisplayName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("empty display name")
	}
	if n := len([]rune(name)); n > maxDisplayName {
		return fmt.Errorf("display name has %d characters, at most %d", n, maxDisplayName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("display name %q contains control character %U", name, r)
		}
	}
	return nil
}

// Override replaces each field of u with the same field of o when o's is
// set. Commands use it to let flags win over the file.
func (u *UI) Override(o UI) {
	if o.Theme != "" {
		u.Theme = o.Theme
	}
	if o.Notify != "" {
		u.Notify = o.Notify
	}
	if o.ReadReceipts != nil {
		v := *o.ReadReceipts
		u.ReadReceipts = &v
	}
	if len(o.Languages) > 0 {
		u.Languages = o.Languages
	}
	if o.DownloadDir != "" {
		u.DownloadDir = o.DownloadDir
	}
	if o.Images != "" {
		u.Images = o.Images
	}
	if o.ImageCols != 0 {
		u.ImageCols = o.ImageCols
	}
	if o.ImageRows != 0 {
		u.ImageRows = o.ImageRows
	}
	if o.Hyperlinks != nil {
		v := *o.Hyperlinks
		u.Hyperlinks = &v
	}
	if o.Layout != "" {
		u.Layout = o.Layout
	}
	if o.GroupMinutes != nil {
		v := *o.GroupMinutes
		u.GroupMinutes = &v
	}
	for k, v := range o.Colours {
		if u.Colours == nil {
			u.Colours = map[string]string{}
		}
		u.Colours[k] = v
	}
	for k, v := range o.Names {
		if u.Names == nil {
			u.Names = map[string]string{}
		}
		u.Names[k] = v
	}
}

// ResolvedUI is a UI with every default filled in.
type ResolvedUI struct {
	Theme        string
	Colours      map[string]string
	Notify       string
	ReadReceipts bool
	Languages    []string
	DownloadDir  string
	Names        map[string]string
	Images       string
	ImageCols    int
	ImageRows    int
	Hyperlinks   bool
	Layout       string
	GroupMinutes int // 0: no grouping
}

// Resolve checks u and fills in defaults: theme auto, notify desktop, read
// receipts on, languages and download directory from the given functions
// (the environment's, passed in so tests need not change it).
func (u UI) Resolve(languages func() []string, downloadDir func() string) (ResolvedUI, error) {
	if err := u.validate(); err != nil {
		return ResolvedUI{}, err
	}
	r := ResolvedUI{Theme: u.Theme, Colours: u.Colours, Notify: u.Notify, ReadReceipts: true, Hyperlinks: true,
		Languages: u.Languages, DownloadDir: expandHome(u.DownloadDir), Names: u.Names,
		Images: u.Images, ImageCols: u.ImageCols, ImageRows: u.ImageRows, Layout: u.Layout, GroupMinutes: 5}
	if r.Layout == "" {
		r.Layout = "cozy"
	}
	if u.GroupMinutes != nil {
		r.GroupMinutes = *u.GroupMinutes
	}
	if r.Images == "" {
		r.Images = "auto"
	}
	if r.ImageCols == 0 {
		r.ImageCols = 40
	}
	if r.ImageRows == 0 {
		r.ImageRows = 12
	}
	if r.Theme == "" {
		r.Theme = "auto"
	}
	if r.Notify == "" {
		r.Notify = "desktop"
	}
	if u.ReadReceipts != nil {
		r.ReadReceipts = *u.ReadReceipts
	}
	if u.Hyperlinks != nil {
		r.Hyperlinks = *u.Hyperlinks
	}
	if len(r.Languages) == 0 && languages != nil {
		r.Languages = languages()
	}
	if r.DownloadDir == "" && downloadDir != nil {
		r.DownloadDir = downloadDir()
	}
	return r, nil
}

// resolveRelative makes download_dir relative to the config's directory.
func (u *UI) resolveRelative(dir string) {
	if u.DownloadDir != "" && !filepath.IsAbs(u.DownloadDir) && !strings.HasPrefix(u.DownloadDir, "~/") {
		u.DownloadDir = filepath.Join(dir, u.DownloadDir)
	}
}
