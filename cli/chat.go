package cli

// `mimichat` with no arguments (or `mimichat chat`): the terminal client on
// the config file's account. With no config it offers the demo instead of
// failing.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"

	"mimichat/config"
	"mimichat/owner"
	"mimichat/ui"
)

// ownWait is how long the terminal client waits for another process of the
// user to give the data directory up.
const ownWait = 5 * time.Second

// chatCommand is `mimichat chat`, also run by `mimichat` alone.
func chatCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 0)
	// The client waits for the relay for ever; --timeout means nothing here.
	hideFlag(fs, "timeout")
	var uf uiFlags
	uf.register(fs)
	return func(c *call) error {
		if len(c.args) > 0 {
			return fmt.Errorf("%w: unexpected argument %q (a command comes first: mimichat %s --config FILE)", errUsage, c.args[0], c.args[0])
		}
		cfg, err := cf.load()
		if err != nil {
			return err
		}
		r, err := cf.resolve(cfg, c)
		if errors.Is(err, config.ErrMissing) && cf.configPath == "" {
			return offerDemo(c, err)
		}
		if err != nil {
			return err
		}
		// The client owns its data directory for as long as it runs; a
		// headless command still running there (a send finishing, a tail)
		// gets a moment to end.
		ctx, cancel := context.WithTimeout(context.Background(), ownWait)
		h, err := owner.Own(ctx, ownerOptions(r, terminal, "chat"))
		cancel()
		if err != nil {
			return fmt.Errorf("%w; stop that process, or give this client another data directory (--data-dir, client.data_dir)", err)
		}
		defer h.Close()
		s := h.Session()
		return runUI(s, uf, cfg, ui.Options{History: r.HistoryPerRoom, Upload: s.Upload, HTTP: blobClient(r)})
	}
}

// offerDemo explains the missing config and, on a terminal, offers the demo.
func offerDemo(c *call, why error) error {
	path, _ := config.DefaultPath()
	c.err.printf("mimichat: no account configured (%v).\n", why)
	c.err.printf("Write %s (see config.example.toml), or try the demo.\n", path)
	f, ok := c.in.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
		fmt.Fprintln(c.err, "Run 'mimichat demo' to try it.")
		return why
	}
	fmt.Fprint(c.err, "Start the demo now? [Y/n] ")
	line, _ := bufio.NewReader(c.in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a == "" || a == "y" || a == "yes" {
		return demoCommand(newFlagSet(&command{name: "demo"}))(c)
	}
	return nil
}
