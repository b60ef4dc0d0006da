package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"mimichat/keys"
)

func TestParseUIAndKeysErrors(t *testing.T) {
	tests := []struct {
		name, text, key, msg string
	}{
		{"theme", "[ui]\ntheme = \"x\"\n", "ui.theme", `want auto, light or dark, got "x"`},
		{"notify", "[ui]\nnotify = \"loud\"\n", "ui.notify", `want desktop, bell or off, got "loud"`},
		{"colour name", "[ui.colours]\nacent = \"#fff\"\n", "ui.colours.acent", "unknown colour name"},
		{"colour value", "[ui.colours]\naccent = \"#ffff\"\n", "ui.colours.accent", "#rgb"},
		{"colour number", "[ui.colours]\nsender_3 = \"256\"\n", "ui.colours.sender_3", "0..255"},
		{"language", "[ui]\nlanguages = [\"en\", \"fr_FR\"]\n", "ui.languages[1]", "language tag"},
		{"read receipts type", "[ui]\nread_receipts = \"no\"\n", "", "read_receipts"},
		{"names uri", "[ui.names]\n\"bob\" = \"Bob\"\n", `ui.names."bob"`, "mimi://"},
		{"names empty", "[ui.names]\n\"mimi://ex.com/u/bob\" = \" \"\n", `ui.names."mimi://ex.com/u/bob"`, "empty"},
		{"names control", "[ui.names]\n\"mimi://ex.com/u/bob\" = \"B\\u202eob\"\n", `ui.names."mimi://ex.com/u/bob"`, "control"},
		{"unknown ui key", "[ui]\nthem = \"dark\"\n", "ui.them", "unknown key"},
		{"images", "[ui]\nimages = \"iterm\"\n", "ui.images", `want auto, kitty, sixel, blocks or off, got "iterm"`},
		{"image cols", "[ui]\nimage_cols = 500\n", "ui.image_cols", "want 1 to 200 cells, got 500"},
		{"image rows", "[ui]\nimage_rows = -1\n", "ui.image_rows", "want 1 to 60 cells, got -1"},
		{"layout", "[ui]\nlayout = \"irc\"\n", "ui.layout", `want cozy or compact, got "irc"`},
		{"group minutes", "[ui]\ngroup_minutes = -5\n", "ui.group_minutes", "want 0 (no grouping) to 1440 minutes, got -5"},
		{"preset", "[keys]\npreset = \"emacs\"\n", "keys.preset", `unknown preset "emacs"`},
		{"unknown context", "[keys.timelin]\nreply = [\"r\"]\n", "keys.timelin", "unknown key"},
		{"unknown action", "[keys.timeline]\nrepyl = [\"r\"]\n", "keys.timeline.repyl", "unknown action"},
		{"bad key", "[keys.timeline]\nreply = [\"ctrl+\"]\n", "keys.timeline.reply", "ctrl+"},
		{"plain char in composer", "[keys.composer]\nsend = [\"s\"]\n", "keys.composer.send", "plain character"},
		{"conflict", "[keys.timeline]\nedit = [\"r\"]\n", "keys.timeline.edit", "bound to both"},
		{"conflict named by the changed action", "[keys.timeline]\nversions = [\"e\"]\n", "keys.timeline.versions", "bound to both"},
		{"highlight empty", "[notify]\nhighlight = [\"deploy\", \" \"]\n", "notify.highlight[1]", "empty word"},
		{"highlight control", "[notify]\nhighlight = [\"a\\u001bb\"]\n", "notify.highlight[0]", "control"},
		{"unknown notify key", "[notify]\nhilight = []\n", "notify.hilight", "unknown key"},
		{"client keys is not a key", "[client]\nkeys = \"vim\"\n", "client.keys", "unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.text)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse: got %v, want *config.Error", err)
			}
			if tc.key != "" && !strings.HasPrefix(ce.Key, tc.key) {
				t.Errorf("key = %q, want %q (err %v)", ce.Key, tc.key, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

func TestThemeErrorMessage(t *testing.T) {
	// The exact wording users see.
	_, err := Parse("[ui]\ntheme = \"x\"\n")
	if got, want := err.Error(), `config: ui.theme: want auto, light or dark, got "x"`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestKeysFromFile(t *testing.T) {
	cfg, err := Parse("[keys]\npreset = \"vim\"\n[keys.timeline]\nreply = [\"r\", \"R\"]\nreceipts = []\n[keys.global]\nknock = [\"alt+k\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, flag, ctx, key, want string
	}{
		{"file preset", "", "timeline", "x", "delete"},
		{"flag preset wins", "default", "timeline", "d", "delete"},
		{"override on file preset", "", "timeline", "R", "reply"},
		{"override on flag preset", "default", "timeline", "R", "reply"},
		{"unbound", "default", "timeline", "i", ""},
		{"global override", "", "global", "alt+k", "knock"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			km, err := cfg.Keys.Keymap(tc.flag)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := km.Action(contextOf(tc.ctx), tc.key)
			if string(a) != tc.want {
				t.Errorf("%s in %s = %q, want %q", tc.key, tc.ctx, a, tc.want)
			}
		})
	}
}

func TestUIResolve(t *testing.T) {
	off, on := false, true
	zero := 0
	langs := func() []string { return []string{"fr-FR", "fr"} }
	dl := func() string { return "/dl" }
	tests := []struct {
		name       string
		file, flag UI
		want       ResolvedUI
	}{
		{"defaults", UI{}, UI{}, ResolvedUI{Theme: "auto", Notify: "desktop", ReadReceipts: true,
			Languages: []string{"fr-FR", "fr"}, DownloadDir: "/dl", Images: "auto", ImageCols: 40, ImageRows: 12, Hyperlinks: true, Layout: "cozy", GroupMinutes: 5}},
		{"file", UI{Theme: "light", Notify: "bell", ReadReceipts: &off, Languages: []string{"de"}, DownloadDir: "/x",
			Colours: map[string]string{"accent": "#f00"}, Names: map[string]string{"mimi://e/u/b": "Bob"},
			Images: "kitty", ImageCols: 30, ImageRows: 8, Hyperlinks: &off, Layout: "compact", GroupMinutes: &zero},
			UI{}, ResolvedUI{Theme: "light", Notify: "bell", ReadReceipts: false, Languages: []string{"de"},
				DownloadDir: "/x", Colours: map[string]string{"accent": "#f00"}, Names: map[string]string{"mimi://e/u/b": "Bob"},
				Images: "kitty", ImageCols: 30, ImageRows: 8, Layout: "compact", GroupMinutes: 0}},
		{"flags win", UI{Theme: "light", Notify: "bell", ReadReceipts: &on, Images: "kitty", Hyperlinks: &off},
			UI{Theme: "dark", Notify: "off", ReadReceipts: &off, Images: "blocks", Hyperlinks: &on},
			ResolvedUI{Theme: "dark", Notify: "off", ReadReceipts: false, Languages: []string{"fr-FR", "fr"}, DownloadDir: "/dl",
				Images: "blocks", ImageCols: 40, ImageRows: 12, Hyperlinks: true, Layout: "cozy", GroupMinutes: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.file
			u.Override(tc.flag)
			got, err := u.Resolve(langs, dl)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if _, err := (UI{Theme: "x"}).Resolve(nil, nil); err == nil {
		t.Error("Resolve accepted a flag value the file would refuse")
	}
}

func TestLoadUIRelativeDownloadDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte("[ui]\ndownload_dir = \"dl\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "dl"); cfg.UI.DownloadDir != want {
		t.Errorf("download_dir = %q, want %q", cfg.UI.DownloadDir, want)
	}
}

func contextOf(s string) keys.Context { return keys.Context(s) }

func TestNotifyHighlight(t *testing.T) {
	cfg, err := Parse("[notify]\nhighlight = [\"deploy\", \"Release Train\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"deploy", "Release Train"}; !reflect.DeepEqual(cfg.Notify.Highlight, want) {
		t.Errorf("highlight = %q, want %q", cfg.Notify.Highlight, want)
	}
}
