package cli

// `mimichat demo`: the README's first command. An in-process relay, three
// scripted peers and the full terminal client, nothing to configure.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"mimichat/config"
	"mimichat/demo"
	"mimichat/session"
	"mimichat/ui"
)

// uiFlags are the look-and-feel flags shared by demo and chat. Each one
// that is given wins over the same key of the config file's [ui] or [keys]
// table; an absent one leaves the file's value (or the default).
type uiFlags struct {
	theme, keys, notify, images string
	noRead                      bool
}

func (f *uiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.theme, "theme", "", "colour theme: auto (from the terminal background), light or dark (ui.theme; default auto)")
	fs.StringVar(&f.keys, "keys", "", "key preset: default or vim (keys.preset; default default)")
	fs.StringVar(&f.notify, "notify", "", "notifications for mentions and knocks: desktop (bell + OSC 9/777), bell or off (ui.notify; default desktop)")
	fs.BoolVar(&f.noRead, "no-read-receipts", false, "do not send read receipts (ui.read_receipts = false)")
	fs.StringVar(&f.images, "images", "", "inline images: auto (ask the terminal), kitty, sixel, blocks or off (ui.images; default auto)")
}

// override is the [ui] table the flags stand for.
func (f *uiFlags) override() config.UI {
	o := config.UI{Theme: f.theme, Notify: f.notify, Images: f.images}
	if f.noRead {
		off := false
		o.ReadReceipts = &off
	}
	return o
}

// demoCommand is `mimichat demo`.
func demoCommand(fs *flag.FlagSet) runFunc {
	var uf uiFlags
	uf.register(fs)
	configPath := fs.String("config", "", "config file whose [ui] and [keys] apply ([client] is ignored; default $XDG_CONFIG_HOME/mimichat/config.toml)")
	pace := fs.Float64("pace", 1, "script speed: pauses are multiplied by this")
	noScript := fs.Bool("no-script", false, "set up the rooms but run no live script")
	var bf boothFlags
	bf.register(fs)
	return func(c *call) error {
		if err := noArgs(c); err != nil {
			return err
		}
		if err := bf.check(); err != nil {
			return err
		}
		// The demo has its own account; only the user's look and keys apply.
		cfg, err := config.Load(*configPath)
		if err != nil {
			return err
		}
		base, err := uiOptions(uf, cfg, ui.Options{})
		if err != nil {
			return err // before starting anything
		}
		if bf.listen != "" {
			return runBooth(c, &bf, base, demo.Options{Pace: *pace, NoScript: *noScript})
		}
		fmt.Fprintln(c.err, "mimichat demo: starting a relay on loopback and three peers…")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		d, err := demo.Start(ctx, demo.Options{Pace: *pace, NoScript: *noScript})
		if err != nil {
			return err
		}
		defer d.Close()
		// The demo's own session options: its relay and account are the
		// demo package's.
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
		return runUI(s, uf, cfg, ui.Options{Names: d.Names, Room: d.Rooms[0], Upload: d.Upload})
	}
}

// runUI runs the terminal client on an opened session until the user quits.
func runUI(s *session.Session, uf uiFlags, cfg *config.Config, o ui.Options) error {
	o2, err := uiOptions(uf, cfg, o)
	if err != nil {
		return err
	}
	o2.Session = s
	// The size now, so the first frame is composed before the program
	// starts (ui.Options.Width).
	if fd := os.Stdout.Fd(); term.IsTerminal(fd) {
		o2.Width, o2.Height, _ = term.GetSize(fd)
	}
	if profileUntilFirstFrame() {
		onFrame := o2.OnFrame
		o2.OnFrame = func(frame string) {
			stopCPUProfile()
			if onFrame != nil {
				onFrame(frame)
			}
		}
	}
	m, err := ui.New(o2)
	if err != nil {
		return err
	}
	_, err = tea.NewProgram(m).Run()
	if serr := m.SaveOnExit(); err == nil {
		err = serr
	}
	return err
}

// uiOptions merges the config file's [ui] and [keys], the flags (which win)
// and the defaults into o. Names from the file are added to o's (a demo's
// own names stay unless the user renames them).
func uiOptions(uf uiFlags, cfg *config.Config, o ui.Options) (ui.Options, error) {
	// A bad flag is named as the flag, not as the config key it stands for.
	if _, err := uf.override().Resolve(nil, nil); err != nil {
		return o, flagValueError(err)
	}
	u := cfg.UI
	u.Override(uf.override())
	r, err := u.Resolve(userLanguages, downloadDir)
	if err != nil {
		return o, err
	}
	if uf.keys != "" {
		if _, err := (&config.Keys{}).Keymap(uf.keys); err != nil {
			return o, flagValueError(err)
		}
	}
	km, err := cfg.Keys.Keymap(uf.keys)
	if err != nil {
		return o, err
	}
	o.Keymap, o.Theme, o.Colours, o.Languages = km, r.Theme, r.Colours, r.Languages
	o.Notify, o.NoReadReceipts, o.DownloadDir = r.Notify, !r.ReadReceipts, r.DownloadDir
	o.NoHyperlinks = !r.Hyperlinks
	o.Images, o.ImageCols, o.ImageRows = r.Images, r.ImageCols, r.ImageRows
	o.Layout, o.GroupGap = r.Layout, time.Duration(r.GroupMinutes)*time.Minute
	if r.GroupMinutes == 0 {
		o.GroupGap = -1 // grouping off
	}
	o.Highlight = cfg.Notify.Highlight
	if len(r.Names) > 0 {
		names := make(map[string]string, len(o.Names)+len(r.Names))
		for k, v := range o.Names {
			names[k] = v
		}
		for k, v := range r.Names {
			names[k] = v
		}
		o.Names = names
	}
	return o, nil
}

// flagValueError names the flag behind a config key's error: ui.theme is
// --theme, ui.notify --notify, keys.preset --keys.
func flagValueError(err error) error {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return err
	}
	name := map[string]string{"ui.theme": "--theme", "ui.notify": "--notify", "ui.images": "--images", "keys.preset": "--keys"}[ce.Key]
	if name == "" {
		return err
	}
	return fmt.Errorf("%s: %w", name, ce.Err)
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
