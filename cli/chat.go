package cli

// `mimichat` with no arguments (or `mimichat chat`): the terminal client on
// the config file's account. With no config it offers the demo instead of
// failing.

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"

	"mimichat/config"
	"mimichat/ui"
)

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
		s, r, err := openSession(&cf, cfg, terminal)
		if errors.Is(err, config.ErrMissing) && cf.configPath == "" {
			return offerDemo(c, err)
		}
		if err != nil {
			return err
		}
		defer s.Close()
		return runUI(s, uf, cfg, ui.Options{History: r.HistoryPerRoom, Upload: s.Upload})
	}
}

// offerDemo explains the missing config and, on a terminal, offers the demo.
func offerDemo(c *call, why error) error {
	path, _ := config.DefaultPath()
	fmt.Fprintf(c.err, "mimichat: no account configured (%v).\n", why)
	fmt.Fprintf(c.err, "Write %s (see config.example.toml), or try the demo.\n", path)
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
