package main

// The headless client commands (send, tail, rooms, room ...): the session
// package driven from flags and the config file, for testers and scripts.

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"mimichat/config"
	"mimichat/session"
)

// clientFlags are the connection flags every client command takes; each
// overrides the same key of the config file's [client] table.
type clientFlags struct {
	configPath string
	over       config.Client
	timeout    time.Duration
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.configPath, "config", "", "config file (default $XDG_CONFIG_HOME/mimichat/config.toml)")
	fs.StringVar(&f.over.Relay, "relay", "", "relay websocket URL (client.relay)")
	fs.StringVar(&f.over.User, "user", "", "your user URI, mimi://DOMAIN/u/NAME (client.user)")
	fs.StringVar(&f.over.Token, "token", "", "relay token (client.token)")
	fs.StringVar(&f.over.TokenFile, "token-file", "", "file holding the relay token (client.token_file)")
	fs.StringVar(&f.over.DataDir, "data-dir", "", "directory of the outbox and history cache (client.data_dir)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up waiting for the relay after this long")
}

// client merges the config file's [client] table and the flags.
func (f *clientFlags) client() (config.Client, error) {
	cfg, err := config.Load(f.configPath)
	if err != nil {
		return config.Client{}, err
	}
	c := cfg.Client
	c.Override(f.over)
	return c, nil
}

// resolve merges the config file and the flags.
func (f *clientFlags) resolve() (config.Resolved, error) {
	c, err := f.client()
	if err != nil {
		return config.Resolved{}, err
	}
	return c.Resolve()
}

// openCache opens the history cache for the commands that work offline
// (export, import): no relay or token is needed. The user comes from the
// flags or the config, else from the cache, which records whose it is; a
// cache of another user is refused as session.Open refuses it.
func (f *clientFlags) openCache() (*session.Store, config.Resolved, error) {
	c, err := f.client()
	if err != nil {
		return nil, config.Resolved{}, err
	}
	r, err := c.ResolveLocal()
	if err != nil {
		return nil, r, err
	}
	st, err := session.OpenStore(filepath.Join(r.DataDir, session.StoreFile))
	if err != nil {
		return nil, r, err
	}
	if r.User, err = st.BindUser(r.User); err != nil {
		st.Close()
		return nil, r, err
	}
	return st, r, nil
}

// open opens the user's session (cache and outbox) without connecting.
func (f *clientFlags) open() (*session.Session, config.Resolved, error) {
	r, err := f.resolve()
	if err != nil {
		return nil, r, err
	}
	s, err := session.Open(session.Options{
		Relay: r.Relay, User: r.User, Token: r.Token, DataDir: r.DataDir, ClientName: "mimichat-cli",
		Backoff: session.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second},
	})
	return s, r, err
}

// connect opens the session, starts it and waits until it is online.
func (f *clientFlags) connect(ctx context.Context) (*session.Session, error) {
	s, r, err := f.open()
	if err != nil {
		return nil, err
	}
	s.Start()
	if err := s.WaitOnline(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to %s: %w", r.Relay, err)
	}
	return s, nil
}

// commandContext is cancelled by the timeout or by ^C.
func commandContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	if timeout <= 0 {
		return ctx, stop
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return ctx, func() { cancel(); stop() }
}

// roomURI accepts a room URI or a bare local name, which is taken to be on
// the user's domain: "lobby" for mimi://example.com/u/alice is
// mimi://example.com/r/lobby.
func roomURI(arg, user string) (string, error) {
	if strings.HasPrefix(arg, "mimi://") {
		return arg, nil
	}
	u, err := url.Parse(user)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%w: room %q: give a mimi:// URI", errUsage, arg)
	}
	if arg == "" || strings.ContainsAny(arg, "/ ") {
		return "", fmt.Errorf("%w: room %q: give a mimi:// URI or a local name", errUsage, arg)
	}
	return "mimi://" + u.Host + "/r/" + arg, nil
}

// userURI accepts a user URI or a bare name on the acting user's domain.
func userURI(arg, self string) (string, error) {
	if strings.HasPrefix(arg, "mimi://") {
		return arg, nil
	}
	u, err := url.Parse(self)
	if err != nil || u.Host == "" || arg == "" || strings.ContainsAny(arg, "/ ") {
		return "", fmt.Errorf("%w: user %q: give a mimi:// URI or a local name", errUsage, arg)
	}
	return "mimi://" + u.Host + "/u/" + arg, nil
}
