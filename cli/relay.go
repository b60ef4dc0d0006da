package cli

import (
	"time"

	"context"
	"errors"
	"flag"
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

// relayDefaultData is $XDG_DATA_HOME/mimichat/relay: a database and blobs
// are data, not configuration.
func relayDefaultData() string {
	if d, err := config.DefaultDataDir(); err == nil {
		return filepath.Join(d, "relay")
	}
	return "mimichat-relay"
}

// relayCommand is `mimichat relay`: it runs the provider hub.
func relayCommand(fs *flag.FlagSet) runFunc {
	cfg := relay.Config{}
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:7878", "address to listen on")
	fs.StringVar(&cfg.Data, "data", relayDefaultData(), "data directory (SQLite database)")
	fs.StringVar(&cfg.Domain, "domain", "", "domain in user and room URIs (fixed on first start; default localhost)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate (PEM) for wss")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key (PEM)")
	fs.BoolVar(&cfg.Insecure, "insecure", false, "allow plain ws on a non-loopback address")
	fs.BoolVar(&cfg.Init, "init", false, "start a new, empty relay even though the data directory holds files but no database")
	fs.StringVar(&cfg.Check, "check", relay.CheckAuto, "database integrity check: auto (quick_check of a database up to 32 MiB at start; a larger one: what no clean check has seen at start, the whole file in the background), quick (the whole file at start, any size) or off")
	fs.StringVar(&cfg.Sync, "sync", relay.SyncFull, "commit durability: full (fsync each commit; survives power loss) or normal (survives a relay crash)")
	fs.Float64Var(&cfg.RatePerSec, "rate", 50, "writes (submits, room operations) per user per second (negative: unlimited)")
	cfg.MaxBlob, cfg.BlobQuota = relay.DefaultMaxBlob, relay.DefaultBlobQuota
	fs.Var((*byteSize)(&cfg.MaxBlob), "max-blob", "largest attachment upload (bytes, or with K, M, G: 25M = 25 MiB)")
	fs.Var((*byteSize)(&cfg.BlobQuota), "blob-quota", "attachment bytes a user may upload per 24 h (negative: unlimited)")
	fs.DurationVar(&cfg.Retain, "retain", 0, "delete messages and room events older than this (e.g. 720h; each room keeps its newest); 0 keeps them for ever")
	fs.DurationVar(&cfg.RetainBlobs, "retain-blobs", 0, "delete attachment blobs older than this (e.g. 720h); 0 keeps them for ever")
	cfg.TailCacheBytes = relay.DefaultTailCacheBytes
	fs.Var((*byteSize)(&cfg.TailCacheBytes), "tail-cache", "memory for all rooms' newest events, replayed without a database read (negative: unlimited)")
	fs.Var((*byteSize)(&cfg.WALReserve), "wal-reserve", "keep the database's write-ahead log file at this size (e.g. 80M), written once at start, so commits overwrite it instead of growing it (0: none)")
	cfg.ReadBytesPerSec = relay.DefaultReadBytesPerSec
	fs.Var((*byteSize)(&cfg.ReadBytesPerSec), "read-rate", "bytes of history, room state and room lists each user may read per second (negative: unlimited)")
	fs.Float64Var(&cfg.PingRate, "ping-rate", 2, "websocket pings answered per user per second (negative: unlimited)")
	fs.Float64Var(&cfg.SubscribeRate, "subscribe-rate", 20, "subscribes per user per second, burst 1000 (negative: unlimited)")
	fs.IntVar(&cfg.MaxConnsPerUser, "max-conns-per-user", 16, "live connections per user (negative: unlimited)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 10000, "live connections in all (negative: unlimited)")
	fs.StringVar(&cfg.MetricsListen, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (a loopback address unless --insecure; default off)")
	var cl relay.ClusterConfig
	cluster := fs.Bool("cluster", false, "run as a node of a relay cluster on NATS JetStream, embedded in this process (docs/cluster.md)")
	fs.StringVar(&cl.Node, "node", "", "this node's name in the cluster (--cluster; default mimichat)")
	fs.StringVar(&cl.Listen, "cluster-listen", "", "address the embedded NATS server listens on for the other nodes' routes (--cluster)")
	fs.StringVar(&cl.Advertise, "cluster-advertise", "", "host:port the other nodes reach this node's routes at, when not --cluster-listen's (NAT, containers) (--cluster)")
	peers := fs.String("cluster-peers", "", "the other nodes' --cluster-listen addresses, comma-separated (--cluster)")
	fs.StringVar(&cl.NATSListen, "nats-listen", "", "address the embedded NATS server serves clients on (relay cluster status; default: none)")
	fs.StringVar(&cl.NATS, "nats", "", "use an existing NATS JetStream server or cluster at this URL instead of an embedded one")
	fs.IntVar(&cl.Replicas, "replicas", 0, "stream replicas (default 3 in a cluster, 1 alone)")
	configPath := fs.String("config", "", "read the [cluster] table of this configuration file (flags win)")
	verbose := fs.Bool("v", false, "debug logs")
	return func(c *call) error {
		if err := noArgs(c); err != nil {
			return err
		}
		if *configPath != "" {
			file, err := config.Load(*configPath)
			if err != nil {
				return err
			}
			applyClusterTable(fs, file.Cluster, cluster, &cl, peers)
		}
		if *peers != "" {
			for _, p := range strings.Split(*peers, ",") {
				if p = strings.TrimSpace(p); p != "" {
					cl.Peers = append(cl.Peers, p)
				}
			}
		}
		switch {
		case *cluster || cl.NATS != "":
			cfg.Cluster = &cl
		case cl.Listen != "" || len(cl.Peers) > 0 || cl.Node != "" || cl.NATSListen != "" || cl.Advertise != "":
			return fmt.Errorf("%w: --node, --cluster-listen, --cluster-advertise, --cluster-peers and --nats-listen need --cluster", errUsage)
		}
		level := slog.LevelInfo
		if *verbose {
			level = slog.LevelDebug
		}
		cfg.Logger = slog.New(slog.NewJSONHandler(c.err, &slog.HandlerOptions{Level: level}))
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		relay.TuneGC()
		return relay.Serve(ctx, cfg, func(addr string) {
			fmt.Fprintf(c.out, "mimichat relay listening on %s\n", addr)
		})
	}
}

// byteSize is a flag holding a byte count: digits with an optional binary
// suffix K, M or G (KiB, MiB, GiB also read), or a negative number.
type byteSize int64

// String is the shortest form Set reads back: 25M, not 26214400.
func (b *byteSize) String() string {
	v := int64(*b)
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"G", 30}, {"M", 20}, {"K", 10}} {
		if v != 0 && v%(1<<u.shift) == 0 {
			return strconv.FormatInt(v>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(v, 10)
}

// TypeName names the flag's value in the help.
func (*byteSize) TypeName() string { return "size" }

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

// relayUserSubcommands is the table of `mimichat relay user …`.
var relayUserSubcommands = []*command{
	{name: "add", usage: "[--data DIR | --nats URL] [--domain D] NAME",
		summary: "create the user mimi://DOMAIN/u/NAME and print their token (shown only this once)",
		flags:   relayUserAddCommand},
	{name: "list", usage: "[--data DIR | --nats URL]", summary: "list the relay's users", flags: relayUserListCommand},
	{name: "token", usage: "[--data DIR | --nats URL] NAME",
		summary: "print a token for a new device of NAME, once (it binds to the first device using it within 7 days)",
		flags:   relayUserChange("token")},
	{name: "rotate", usage: "[--data DIR | --nats URL] NAME",
		summary: "give NAME a new token, printed once; every old one (each device's) is refused and its connections closed",
		flags:   relayUserChange("rotate")},
	{name: "revoke", usage: "[--data DIR | --nats URL] NAME",
		summary: "refuse NAME's token and close its connections (rotate gives a new one later)",
		flags:   relayUserChange("revoke")},
	{name: "remove", usage: "[--data DIR | --nats URL] NAME",
		summary: "delete NAME's account: token refused, connections closed; rooms keep its events",
		flags:   relayUserChange("remove")},
}

// relayUserFlags are the flags of relay user add and list.
type relayUserFlags struct{ data, domain, nats string }

func (f *relayUserFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", relayDefaultData(), "data directory (SQLite database)")
	fs.StringVar(&f.nats, "nats", "", "a relay cluster's NATS address (a node's --nats-listen) instead of --data")
	fs.StringVar(&f.domain, "domain", "", "domain in user URIs (must match the relay's)")
}

// open opens the relay's store and its domain (fixed by the first use).
func (f *relayUserFlags) open() (*relay.Store, string, error) {
	open := func() (*relay.Store, error) { return relay.OpenStore(f.data) }
	if f.nats != "" {
		open = func() (*relay.Store, error) { return relay.OpenClusterStore(f.nats) }
	}
	store, err := open()
	if err != nil {
		return nil, "", err
	}
	dom, err := store.Domain(f.domain)
	if err != nil {
		store.Close()
		return nil, "", err
	}
	return store, dom, nil
}

func relayUserAddCommand(fs *flag.FlagSet) runFunc {
	var f relayUserFlags
	f.register(fs)
	return func(c *call) error {
		if len(c.args) != 1 {
			return fmt.Errorf("%w: relay user add takes one NAME", errUsage)
		}
		store, dom, err := f.open()
		if err != nil {
			return err
		}
		defer store.Close()
		u, token, err := store.AddUser(dom, c.args[0])
		if errors.Is(err, relay.ErrBadUserName) {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "user  %s\ntoken %s\n", u.URI, token)
		fmt.Fprintln(c.err, "The token is shown only this once; the relay keeps only its hash.")
		return nil
	}
}

func relayUserListCommand(fs *flag.FlagSet) runFunc {
	var f relayUserFlags
	f.register(fs)
	return func(c *call) error {
		if err := noArgs(c); err != nil {
			return err
		}
		store, _, err := f.open()
		if err != nil {
			return err
		}
		defer store.Close()
		users, err := store.Users()
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintf(c.out, "%s\t%s\t%s\n", u.Name, u.URI, u.Created.Format("2006-01-02 15:04:05Z"))
		}
		return nil
	}
}

// relayBackupCommand is `mimichat relay backup DEST`: a consistent copy of
// relay.db through a read-only connection, beside the running relay.
func relayBackupCommand(fs *flag.FlagSet) runFunc {
	data := fs.String("data", relayDefaultData(), "data directory (SQLite database)")
	return func(c *call) error {
		if len(c.args) != 1 {
			return fmt.Errorf("%w: relay backup takes one DEST", errUsage)
		}
		if err := relay.Backup(*data, c.args[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "backed up %s to %s\n", filepath.Join(*data, relay.DBFile), c.args[0])
		fmt.Fprintf(c.err, "Attachments are files in %s: copy them too (rsync -a %s/ DEST_DIR/blobs/).\n",
			filepath.Join(*data, relay.BlobDir), filepath.Join(*data, relay.BlobDir))
		return nil
	}
}

// relayUserChange is `relay user token|rotate|revoke|remove NAME`. It changes the
// database only; a running relay notices within a second and closes the
// user's live connections.
func relayUserChange(what string) func(fs *flag.FlagSet) runFunc {
	return func(fs *flag.FlagSet) runFunc {
		var f relayUserFlags
		f.register(fs)
		return func(c *call) error {
			if len(c.args) != 1 {
				return fmt.Errorf("%w: relay user %s takes one NAME", errUsage, what)
			}
			store, _, err := f.open()
			if err != nil {
				return err
			}
			defer store.Close()
			name := c.args[0]
			switch what {
			case "token":
				token, expires, err := store.AddDeviceToken(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.out, "token %s\n", token)
				fmt.Fprintf(c.err, "Shown only this once; it binds to the first device that uses it before %s.\n", expires.UTC().Format(time.RFC3339))
			case "rotate":
				token, err := store.RotateToken(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.out, "token %s\n", token)
				fmt.Fprintln(c.err, "The new token is shown only this once; the old one is refused from now on.")
			case "revoke":
				if err := store.RevokeToken(name); err != nil {
					return err
				}
				fmt.Fprintf(c.out, "revoked the token of %s\n", name)
			case "remove":
				if err := store.RemoveUser(name); err != nil {
					return err
				}
				fmt.Fprintf(c.out, "removed %s\n", name)
			}
			return nil
		}
	}
}

// applyClusterTable fills what the [cluster] table sets and no flag did.
func applyClusterTable(fs *flag.FlagSet, t config.Cluster, enabled *bool, cl *relay.ClusterConfig, peers *string) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["cluster"] && t.Enabled {
		*enabled = true
	}
	for name, pair := range map[string]struct {
		dst *string
		v   string
	}{"node": {&cl.Node, t.Node}, "cluster-listen": {&cl.Listen, t.Listen}, "cluster-advertise": {&cl.Advertise, t.Advertise}, "nats": {&cl.NATS, t.NATS}, "nats-listen": {&cl.NATSListen, t.NATSListen}} {
		if !set[name] && pair.v != "" {
			*pair.dst = pair.v
		}
	}
	if !set["cluster-peers"] && len(t.Peers) > 0 {
		*peers = strings.Join(t.Peers, ",")
	}
	if !set["replicas"] && t.Replicas > 0 {
		cl.Replicas = t.Replicas
	}
}
