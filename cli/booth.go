package cli

// `mimichat demo --ssh ADDR`: the booth. The demo (or a real relay with a
// pool of accounts) served over SSH, one client per visitor, until the
// process is interrupted.

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"mimichat/booth"
	"mimichat/config"
	"mimichat/demo"
	"mimichat/ui"
)

// boothFlags are demo's flags for the booth.
type boothFlags struct {
	listen, hostKey, authorizedKeys string
	maxVisitors                     int
	relay, accounts, rooms          string
	verbose                         bool
}

func (f *boothFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "ssh", "", "serve the demo over SSH on ADDR, one client per visitor (a bare :PORT listens on loopback)")
	fs.StringVar(&f.hostKey, "ssh-host-key", "", "the booth's SSH host key, generated there on first use (default $XDG_DATA_HOME/mimichat/booth/ssh_host_ed25519_key)")
	fs.StringVar(&f.authorizedKeys, "ssh-authorized-keys", "", "only the keys of this authorized_keys file may visit (default: anyone)")
	fs.IntVar(&f.maxVisitors, "ssh-max-visitors", 50, "visitors connected at once; one more is turned away politely")
	fs.StringVar(&f.relay, "relay", "", "with --ssh: serve a real relay at this websocket URL instead of the in-process demo (needs --accounts)")
	fs.StringVar(&f.accounts, "accounts", "", "with --relay: the visitors' accounts, as mimichat relay user add prints them (user URI, token T)")
	fs.StringVar(&f.rooms, "rooms", "", "with --relay: comma-separated room URIs every visitor joins")
	fs.BoolVar(&f.verbose, "v", false, "with --ssh: log visitors arriving, leaving and refused to stderr")
}

// check refuses booth flags given without --ssh, or --relay without its
// accounts, before anything starts.
func (f *boothFlags) check() error {
	if f.listen == "" {
		for _, fl := range []struct{ name, v string }{{"--relay", f.relay}, {"--accounts", f.accounts}, {"--rooms", f.rooms},
			{"--ssh-host-key", f.hostKey}, {"--ssh-authorized-keys", f.authorizedKeys}} {
			if fl.v != "" {
				return fmt.Errorf("%w: %s needs --ssh ADDR", errUsage, fl.name)
			}
		}
		if f.verbose {
			return fmt.Errorf("%w: -v needs --ssh ADDR", errUsage)
		}
		return nil
	}
	if f.relay != "" && f.accounts == "" {
		return fmt.Errorf("%w: --relay needs --accounts FILE (the visitors' accounts on that relay)", errUsage)
	}
	if f.relay == "" && (f.accounts != "" || f.rooms != "") {
		return fmt.Errorf("%w: --accounts and --rooms go with --relay URL", errUsage)
	}
	if f.maxVisitors < 1 {
		return fmt.Errorf("%w: --ssh-max-visitors: want at least 1, got %d", errUsage, f.maxVisitors)
	}
	return nil
}

// listenAddr is --ssh's address; a bare port listens on loopback, so the
// booth is reachable from elsewhere only when an address says so.
func (f *boothFlags) listenAddr() (string, error) {
	a := f.listen
	if !strings.Contains(a, ":") {
		a = ":" + a
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", fmt.Errorf("%w: --ssh: %v", errUsage, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// runBooth serves the booth until SIGINT or SIGTERM.
func runBooth(c *call, f *boothFlags, o ui.Options, dopts demo.Options) error {
	addr, err := f.listenAddr()
	if err != nil {
		return err
	}
	hostKey := f.hostKey
	if hostKey == "" {
		dir, err := config.DefaultDataDir()
		if err != nil {
			return err
		}
		hostKey = filepath.Join(dir, "booth", "ssh_host_ed25519_key")
	}
	logger := slog.New(slog.DiscardHandler)
	if f.verbose {
		logger = slog.New(slog.NewTextHandler(c.err, nil))
	}
	cfg := booth.Config{Listen: addr, HostKey: hostKey, AuthorizedKeys: f.authorizedKeys,
		MaxVisitors: f.maxVisitors, UI: o, Logger: logger}
	if f.relay != "" {
		dir, err := os.MkdirTemp("", "mimichat-booth-")
		if err != nil {
			return fmt.Errorf("booth: temp dir: %w", err)
		}
		defer os.RemoveAll(dir)
		var rooms []string
		for _, r := range strings.Split(f.rooms, ",") {
			if r = strings.TrimSpace(r); r != "" {
				rooms = append(rooms, r)
			}
		}
		pool, err := booth.LoadPoolAccounts(f.accounts, f.relay, dir, rooms)
		if err != nil {
			return err
		}
		cfg.Accounts = pool
		fmt.Fprintf(c.err, "mimichat booth: %d accounts on %s\n", pool.Size(), f.relay)
	} else {
		fmt.Fprintln(c.err, "mimichat booth: starting a relay on loopback and three peers…")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		d, err := demo.Start(ctx, dopts)
		cancel()
		if err != nil {
			return err
		}
		defer d.Close()
		cfg.Accounts = booth.NewDemoAccounts(d)
	}
	b, err := booth.Start(cfg)
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(b.Addr())
	fmt.Fprintf(c.err, "mimichat booth: listening on %s; visit with: ssh -p %s NAME@HOST (ctrl+c stops the booth)\n", b.Addr(), port)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- b.Wait() }()
	select {
	case <-ctx.Done():
	case err := <-served:
		if err != nil {
			return fmt.Errorf("booth: %w", err)
		}
	}
	fmt.Fprintln(c.err, "mimichat booth: closing")
	return b.Close()
}
