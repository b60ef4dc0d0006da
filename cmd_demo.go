package main

// `mimichat demo`: the README's first command. An in-process relay, three
// scripted peers and the full terminal client, nothing to configure.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/demo"
	"mimichat/keys"
	"mimichat/session"
	"mimichat/ui"
)

func init() {
	register(&command{
		name:    "demo",
		usage:   "demo [--theme auto|light|dark] [--keys default|vim] [--pace N] [--no-script]",
		summary: "try mimichat: a local relay and three scripted peers, no setup",
		run:     runDemo,
	})
}

// uiFlags are the look-and-feel flags shared by demo and chat.
type uiFlags struct {
	theme, keys, notify string
	noRead              bool
}

func (f *uiFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&f.theme, "theme", "auto", "colour theme: auto (from the terminal background), light or dark")
	fs.StringVar(&f.keys, "keys", "default", "key preset: default or vim")
	fs.StringVar(&f.notify, "notify", "desktop", "notifications for mentions and knocks: desktop (bell + OSC 9/777), bell or off")
	fs.BoolVar(&f.noRead, "no-read-receipts", false, "do not send read receipts")
}

func runDemo(args []string, io stdio) error {
	c := commands["demo"]
	fs := newFlagSet(c, io)
	var uf uiFlags
	uf.register(fs)
	pace := fs.Float64("pace", 1, "script speed: pauses are multiplied by this")
	noScript := fs.Bool("no-script", false, "set up the rooms but run no live script")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(io.err, "mimichat demo: starting a relay on loopback and three peers…")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := demo.Start(ctx, demo.Options{Pace: *pace, NoScript: *noScript})
	if err != nil {
		return err
	}
	defer d.Close()
	s, err := session.Open(d.User)
	if err != nil {
		return err
	}
	defer s.Close()
	s.Start()
	if err := s.WaitOnline(ctx); err != nil {
		return fmt.Errorf("connect to the demo relay: %w", err)
	}
	if err := d.Join(ctx, s); err != nil {
		return err
	}
	return runUI(s, uf, ui.Options{Names: d.Names, Room: d.Rooms[0], Upload: d.Upload})
}

// runUI runs the terminal client on an opened session until the user quits.
func runUI(s *session.Session, uf uiFlags, o ui.Options) error {
	km, err := keys.New(uf.keys, nil)
	if err != nil {
		return err
	}
	o.Session, o.Keymap, o.Theme, o.Languages = s, km, uf.theme, userLanguages()
	o.Notify, o.NoReadReceipts, o.DownloadDir = uf.notify, uf.noRead, downloadDir()
	m, err := ui.New(o)
	if err != nil {
		return err
	}
	_, err = tea.NewProgram(m).Run()
	return err
}

// userLanguages are the user's languages from $LANGUAGE / $LC_ALL / $LANG
// ("fr_FR.UTF-8" → "fr-FR", then "fr"), for chooseOne parts.
func userLanguages() []string {
	var out []string
	add := func(v string) {
		v, _, _ = strings.Cut(v, ".")
		v, _, _ = strings.Cut(v, "@")
		if v == "" || v == "C" || v == "POSIX" {
			return
		}
		tag := strings.ReplaceAll(v, "_", "-")
		out = append(out, tag)
		if base, _, ok := strings.Cut(tag, "-"); ok {
			out = append(out, base)
		}
	}
	if l := os.Getenv("LANGUAGE"); l != "" {
		for _, v := range strings.Split(l, ":") {
			add(v)
		}
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			add(v)
			break
		}
	}
	return out
}

// downloadDir is where saved attachments go: $XDG_DOWNLOAD_DIR, ~/Downloads
// when it exists, else the current directory.
func downloadDir() string {
	if d := os.Getenv("XDG_DOWNLOAD_DIR"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		d := home + "/Downloads"
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return "."
}
