package cli

// What the commands that talk to the relay share: the connection flags, the
// one place that opens a session, and room and user arguments.

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
	"mimichat/owner"
	"mimichat/session"
)

// clientFlags are the connection flags every client command takes; each
// overrides the same key of the config file's [client] table.
type clientFlags struct {
	configPath string
	over       config.Client
	timeout    time.Duration
}

// register defines the flags on fs; timeout is the --timeout default (0:
// none).
func (f *clientFlags) register(fs *flag.FlagSet, timeout time.Duration) {
	fs.StringVar(&f.configPath, "config", "", "config file (default $XDG_CONFIG_HOME/mimichat/config.toml)")
	fs.StringVar(&f.over.Relay, "relay", "", "relay websocket URL, ws(s)://HOST/v1; http(s):// is converted (client.relay)")
	fs.Func("relays", "more `URLs` of the same relay, comma-separated: the other nodes of a relay cluster, dialled when one is unreachable (client.relays)", func(v string) error {
		f.over.Relays = nil
		for u := range strings.SplitSeq(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				f.over.Relays = append(f.over.Relays, u)
			}
		}
		if f.over.Relays == nil {
			f.over.Relays = []string{} // --relays "": none, overriding the file
		}
		return nil
	})
	fs.StringVar(&f.over.User, "user", "", "your user URI, mimi://DOMAIN/u/NAME (client.user)")
	fs.StringVar(&f.over.Token, "token", "", "relay token (client.token); other users can read it in the process list: prefer --token-file or MIMICHAT_TOKEN")
	fs.StringVar(&f.over.TokenFile, "token-file", "", "file holding the relay token (client.token_file)")
	fs.StringVar(&f.over.DataDir, "data-dir", "", "directory of the outbox and history cache (client.data_dir)")
	fs.DurationVar(&f.timeout, "timeout", timeout, "give up waiting for the relay after this long (0: wait until interrupted)")
}

// load reads the config file (--config, else the default path).
func (f *clientFlags) load() (*config.Config, error) {
	return config.Load(f.configPath)
}

// client merges the config file's [client] table and the flags.
func (f *clientFlags) client(cfg *config.Config) config.Client {
	c := cfg.Client
	c.Override(f.over)
	return c
}

// sessionUse says who drives a session, which decides its options.
type sessionUse int

const (
	// headless: send, tail, rooms, room. Each run lasts at most --timeout,
	// so a lost connection is retried soon (the reconnect delay stays under
	// 2 s) rather than on the terminal client's relaxed schedule.
	headless sessionUse = iota
	// terminal: the chat client, which runs for hours; it reconnects on
	// session's default schedule (up to 30 s) and backfills what the config
	// asks for.
	terminal
)

// TokenEnv names the environment variable holding the relay token: unlike
// --token it is not visible to other users in the process list.
const TokenEnv = "MIMICHAT_TOKEN"

// resolve checks the merged config and flags and picks the data directory.
// The token comes from --token or --token-file, else MIMICHAT_TOKEN, else
// the config file. Warnings are printed on call's stderr.
func (f *clientFlags) resolve(cfg *config.Config, call *call) (config.Resolved, error) {
	c := f.client(cfg)
	if f.over.Token == "" && f.over.TokenFile == "" {
		if tok := strings.TrimSpace(os.Getenv(TokenEnv)); tok != "" {
			c.Token, c.TokenFile = tok, ""
		}
	}
	r, err := c.Resolve()
	if err != nil {
		return r, err
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(call.err, "warning: %s\n", w)
	}
	r.DataDir, err = userDataDir(r, c.DataDir)
	return r, err
}

// userDataDir is the data directory of r's user. A configured one (flag or
// client.data_dir) is used as given. Otherwise each user gets their own
// directory in the default one (config.UserDirName: two users of one
// machine account never share a cache, an outbox or a lock), except that a
// store left directly in the default directory by an older version stays
// in use by the user it belongs to.
func userDataDir(r config.Resolved, configured string) (string, error) {
	if configured != "" || r.User == "" {
		return r.DataDir, nil
	}
	old := filepath.Join(r.DataDir, session.StoreFile)
	if _, err := os.Stat(old); err == nil {
		st, err := session.OpenStore(old)
		if err != nil {
			return "", err
		}
		holder, err := st.BindUser("")
		st.Close()
		if err != nil {
			return "", err
		}
		if holder == r.User || holder == "" {
			return r.DataDir, nil
		}
	}
	return filepath.Join(r.DataDir, config.UserDirName(r.User)), nil
}

// sessionOptions are the session options of a use, from the resolved
// config: the one place that builds session.Options for the commands that
// talk to the relay.
func sessionOptions(r config.Resolved, use sessionUse) session.Options {
	o := session.Options{Relay: r.Relay, Relays: r.Relays, User: r.User, Token: r.Token, DataDir: r.DataDir}
	switch use {
	case terminal:
		o.ClientName = "mimichat"
		o.Backfill = uint64(r.HistoryPerRoom)
		o.Backoff = session.DefaultBackoff
	default:
		o.ClientName = "mimichat-cli"
		o.Backoff = session.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}
	}
	return o
}

// ownerOptions say how a command of use reaches or becomes the owner of
// r's data directory.
func ownerOptions(r config.Resolved, use sessionUse, command string) owner.Options {
	return owner.Options{DataDir: r.DataDir, User: r.User, Command: command,
		Open: func() (*session.Session, error) { return session.Open(sessionOptions(r, use)) }}
}

// acquire merges the config file and the flags and returns the handle the
// headless commands work through: this process's own session when no other
// mimichat process of the user owns the data directory (it then serves the
// control socket itself), else the owner's control socket.
func (f *clientFlags) acquire(ctx context.Context, c *call, command string) (*owner.Handle, config.Resolved, error) {
	cfg, err := f.load()
	if err != nil {
		return nil, config.Resolved{}, err
	}
	r, err := f.resolve(cfg, c)
	if err != nil {
		return nil, r, err
	}
	h, err := owner.Acquire(ctx, ownerOptions(r, headless, command))
	return h, r, err
}

// openCache opens the history cache for the commands that work offline
// (export, import): no relay or token is needed. The user comes from the
// flags or the config, else from the cache, which records whose it is; a
// cache of another user is refused as session.Open refuses it.
func (f *clientFlags) openCache() (*session.Store, config.Resolved, error) {
	cfg, err := f.load()
	if err != nil {
		return nil, config.Resolved{}, err
	}
	c := f.client(cfg)
	r, err := c.ResolveLocal()
	if err != nil {
		return nil, r, err
	}
	if r.DataDir, err = userDataDir(r, c.DataDir); err != nil {
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

// lockCache is openCache for import, which writes the cache: it takes the
// data directory's lock first, so it never writes beside a running client
// (that one alone writes its cache); release closes the store and the lock.
func (f *clientFlags) lockCache() (st *session.Store, r config.Resolved, release func(), err error) {
	cfg, err := f.load()
	if err != nil {
		return nil, config.Resolved{}, nil, err
	}
	c := f.client(cfg)
	r, err = c.ResolveLocal()
	if err != nil {
		return nil, r, nil, err
	}
	if r.DataDir, err = userDataDir(r, c.DataDir); err != nil {
		return nil, r, nil, err
	}
	lk, err := owner.TryLock(r.DataDir, "import")
	if err != nil {
		return nil, r, nil, fmt.Errorf("%w; stop it first: it writes this cache", err)
	}
	st, r, err = f.openCache()
	if err != nil {
		lk.Release()
		return nil, r, nil, err
	}
	return st, r, func() { st.Close(); lk.Release() }, nil
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

// noArgs refuses positional arguments for a command that takes none.
func noArgs(c *call) error {
	if len(c.args) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, c.args[0])
	}
	return nil
}
