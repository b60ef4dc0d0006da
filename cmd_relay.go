package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"mimichat/config"
	"mimichat/relay"
)

// The relay command runs the provider hub and manages its users.
func init() {
	register(&command{
		name:    "relay",
		usage:   "relay [--listen ADDR] [--data DIR] [--domain D] [--tls-cert F --tls-key F] [--insecure] [--sync full|normal] [--rate N] [--max-blob SIZE] [--blob-quota SIZE] | relay user add NAME [--data DIR] [--domain D] | relay user list [--data DIR]",
		summary: "run the provider relay (hub), or manage its users",
		run:     runRelay,
	})
}

// relayDefaultData is $XDG_DATA_HOME/mimichat/relay: a database and blobs
// are data, not configuration.
func relayDefaultData() string {
	if d, err := config.DefaultDataDir(); err == nil {
		return filepath.Join(d, "relay")
	}
	return "mimichat-relay"
}

func runRelay(args []string, io stdio) error {
	if len(args) > 0 && args[0] == "user" {
		return runRelayUser(args[1:], io)
	}
	c := commands["relay"]
	fs := newFlagSet(c, io)
	cfg := relay.Config{}
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:7878", "address to listen on")
	fs.StringVar(&cfg.Data, "data", relayDefaultData(), "data directory (SQLite database)")
	fs.StringVar(&cfg.Domain, "domain", "", "domain in user and room URIs (fixed on first start; default localhost)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate (PEM) for wss")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key (PEM)")
	fs.BoolVar(&cfg.Insecure, "insecure", false, "allow plain ws on a non-loopback address")
	fs.StringVar(&cfg.Sync, "sync", relay.SyncFull, "commit durability: full (fsync each commit; survives power loss) or normal (survives a relay crash)")
	fs.Float64Var(&cfg.RatePerSec, "rate", 50, "writes (submits, room operations) per user per second (negative: unlimited)")
	cfg.MaxBlob, cfg.BlobQuota = relay.DefaultMaxBlob, relay.DefaultBlobQuota
	fs.Var((*byteSize)(&cfg.MaxBlob), "max-blob", "largest attachment upload (bytes, or with K, M, G: 25M = 25 MiB)")
	fs.Var((*byteSize)(&cfg.BlobQuota), "blob-quota", "attachment bytes a user may upload per 24 h (negative: unlimited)")
	verbose := fs.Bool("v", false, "debug logs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(io.err, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return relay.Serve(ctx, cfg, func(addr string) {
		fmt.Fprintf(io.out, "mimichat relay listening on %s\n", addr)
	})
}

// byteSize is a flag holding a byte count: digits with an optional binary
// suffix K, M or G (KiB, MiB, GiB also read), or a negative number.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "IB"), "B")
	shift := 0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		}
		if shift > 0 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || (v > 0 && v > math.MaxInt64>>shift) {
		return fmt.Errorf("%q is not a byte size (like 1048576, 512K, 25M, 1G)", s)
	}
	*b = byteSize(v << shift)
	return nil
}

func runRelayUser(args []string, io stdio) error {
	c := &command{name: "relay user", usage: "relay user add NAME | relay user list", summary: "manage relay users"}
	fs := newFlagSet(c, io)
	data := fs.String("data", relayDefaultData(), "data directory (SQLite database)")
	domain := fs.String("domain", "", "domain in user URIs (must match the relay's)")
	// Flags may come before or after the verb and the name.
	var rest []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: relay user needs add or list", errUsage)
	}
	store, err := relay.OpenStore(*data)
	if err != nil {
		return err
	}
	defer store.Close()
	dom, err := store.Domain(*domain)
	if err != nil {
		return err
	}
	switch {
	case rest[0] == "add" && len(rest) == 2:
		u, token, err := store.AddUser(dom, rest[1])
		if errors.Is(err, relay.ErrBadUserName) {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "user  %s\ntoken %s\n", u.URI, token)
		fmt.Fprintln(io.err, "The token is shown only this once; the relay keeps only its hash.")
		return nil
	case rest[0] == "list" && len(rest) == 1:
		users, err := store.Users()
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintf(io.out, "%s\t%s\t%s\n", u.Name, u.URI, u.Created.Format("2006-01-02 15:04:05Z"))
		}
		return nil
	}
	return fmt.Errorf("%w: relay user add NAME | relay user list", errUsage)
}
