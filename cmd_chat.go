package main

// `mimichat` with no arguments (or `mimichat chat`): the terminal client on
// the config file's account. With no config it offers the demo instead of
// failing.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"

	"mimichat/config"
	"mimichat/session"
	"mimichat/ui"
)

func init() {
	defaultCommand = "chat"
	register(&command{
		name:    "chat",
		usage:   "chat [--config FILE] [--relay URL] [--user URI] [--token T | --token-file F] [--data-dir DIR] [--theme T] [--keys P] [--notify N] [--no-read-receipts]",
		summary: "the terminal client (the default command); offers the demo when there is no config",
		run:     runChat,
	})
}

func runChat(args []string, io stdio) error {
	c := commands["chat"]
	fs := newFlagSet(c, io)
	var cf clientFlags
	cf.register(fs)
	var uf uiFlags
	uf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(cf.configPath)
	if err != nil {
		return err
	}
	cc := cfg.Client
	cc.Override(cf.over)
	r, err := cc.Resolve()
	if errors.Is(err, config.ErrMissing) && cf.configPath == "" {
		return offerDemo(io, err)
	}
	if err != nil {
		return err
	}
	s, err := session.Open(session.Options{Relay: r.Relay, User: r.User, Token: r.Token, DataDir: r.DataDir,
		ClientName: "mimichat", Backfill: uint64(r.HistoryPerRoom),
		Backoff: session.Backoff{Initial: 250 * time.Millisecond, Max: 30 * time.Second}})
	if err != nil {
		return err
	}
	defer s.Close()
	return runUI(s, uf, cfg, ui.Options{History: r.HistoryPerRoom, Upload: s.Upload})
}

// offerDemo explains the missing config and, on a terminal, offers the demo.
func offerDemo(io stdio, why error) error {
	path, _ := config.DefaultPath()
	fmt.Fprintf(io.err, "mimichat: no account configured (%v).\n", why)
	fmt.Fprintf(io.err, "Write %s (see config.example.toml), or try the demo.\n", path)
	f, ok := io.in.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
		fmt.Fprintln(io.err, "Run 'mimichat demo' to try it.")
		return why
	}
	fmt.Fprint(io.err, "Start the demo now? [Y/n] ")
	line, _ := bufio.NewReader(io.in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a == "" || a == "y" || a == "yes" {
		return runDemo(nil, io)
	}
	return nil
}
