package cli

import (
	"bytes"
	"strings"
	"testing"

	"mimichat/config"
	"mimichat/keys"
	"mimichat/ui"
)

// TestChatWithoutConfigOffersDemo: `mimichat` with no config file and no
// flags does not fail obscurely: it names what is missing and points to
// the demo (on a terminal it asks to start it).
func TestChatWithoutConfigOffersDemo(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	var out, errb bytes.Buffer
	code := run(nil, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code == 0 {
		t.Fatalf("exit 0 without an account; stderr:\n%s", errb.String())
	}
	for _, want := range []string{"no account configured", "client.relay", "config.example.toml", "mimichat demo"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestUserLanguages(t *testing.T) {
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "fr_CA.UTF-8")
	got := strings.Join(userLanguages(), ",")
	if got != "fr-CA,fr" {
		t.Fatalf("userLanguages = %q", got)
	}
	t.Setenv("LANGUAGE", "de:en_GB")
	if got := strings.Join(userLanguages(), ","); got != "de,en-GB,en,fr-CA,fr" {
		t.Fatalf("userLanguages with LANGUAGE = %q", got)
	}
}

// TestUIOptionsFromConfigAndFlags: the file's [ui] and [keys] reach the
// client, flags win over them, and the demo's own names stay unless renamed.
func TestUIOptionsFromConfigAndFlags(t *testing.T) {
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "de_DE.UTF-8")
	file := `[ui]
theme = "light"
notify = "bell"
read_receipts = false
download_dir = "/tmp/dl"
[ui.colours]
accent = "#ff8700"
[ui.names]
"mimi://d.example/u/bob" = "Robert"
[keys]
preset = "vim"
[keys.timeline]
reply = ["r", "ctrl+r"]
`
	cfg, err := config.Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	demoNames := map[string]string{"mimi://d.example/u/bob": "Bob", "mimi://d.example/u/ana": "Ana"}
	tests := []struct {
		name                          string
		flags                         uiFlags
		theme, notify, preset, key, a string
		noRead                        bool
	}{
		{"file", uiFlags{}, "light", "bell", "vim", "ctrl+r", "reply", true},
		{"flags win", uiFlags{theme: "dark", notify: "off", keys: "default"}, "dark", "off", "default", "ctrl+r", "reply", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := uiOptions(tc.flags, cfg, ui.Options{Names: demoNames})
			if err != nil {
				t.Fatal(err)
			}
			if o.Theme != tc.theme || o.Notify != tc.notify || o.NoReadReceipts != tc.noRead || o.Keymap.Preset() != tc.preset {
				t.Errorf("got theme %q notify %q noRead %v preset %q", o.Theme, o.Notify, o.NoReadReceipts, o.Keymap.Preset())
			}
			if a, _ := o.Keymap.Action(keys.Timeline, tc.key); string(a) != tc.a {
				t.Errorf("%s = %q, want %q", tc.key, a, tc.a)
			}
			if o.DownloadDir != "/tmp/dl" || o.Colours["accent"] != "#ff8700" || strings.Join(o.Languages, ",") != "de-DE,de" {
				t.Errorf("download %q colours %v languages %v", o.DownloadDir, o.Colours, o.Languages)
			}
			if o.Names["mimi://d.example/u/bob"] != "Robert" || o.Names["mimi://d.example/u/ana"] != "Ana" {
				t.Errorf("names = %v", o.Names)
			}
		})
	}
	if demoNames["mimi://d.example/u/bob"] != "Bob" {
		t.Error("uiOptions changed the caller's names map")
	}
	for _, tc := range []struct {
		flags uiFlags
		want  string
	}{
		{uiFlags{theme: "sepia"}, `--theme: want auto, light or dark, got "sepia"`},
		{uiFlags{notify: "loud"}, `--notify: want desktop, bell or off, got "loud"`},
		{uiFlags{keys: "emacs"}, `--keys: keys: unknown preset "emacs" (known: default, vim)`},
	} {
		if _, err := uiOptions(tc.flags, cfg, ui.Options{}); err == nil || err.Error() != tc.want {
			t.Errorf("bad flag %+v: got %v, want %s", tc.flags, err, tc.want)
		}
	}
}
