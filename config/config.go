package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is the whole file.
type Config struct {
	Client Client `toml:"client"`
	UI     UI     `toml:"ui"`
	Keys   Keys   `toml:"keys"`
	// Notify is the [notify] table (highlight words).
	Notify Notify `toml:"notify"`
	// Cluster is read by `mimichat relay --config FILE` (cluster.go).
	Cluster Cluster `toml:"cluster"`
}

// Client is the [client] table: where the relay is and who we are.
type Client struct {
	// Relay is the relay's websocket URL, e.g. ws://127.0.0.1:7878/v1. An
	// http(s) URL is accepted and converted by Resolve (see relayURL).
	Relay string `toml:"relay"`
	// Relays are more URLs of the same relay: the other nodes of a relay
	// cluster (docs/cluster.md). A session that loses its node, or cannot
	// reach it, dials the next at once. With Relay empty, the first is
	// Relay.
	Relays []string `toml:"relays"`
	// User is the user's MIMI URI, e.g. mimi://example.com/u/alice.
	User string `toml:"user"`
	// Token authenticates User to the relay. Prefer TokenFile.
	Token string `toml:"token"`
	// TokenFile names a file holding the token (first line, trimmed).
	// Relative paths are relative to the config file's directory.
	TokenFile string `toml:"token_file"`
	// DataDir holds the outbox and history cache. Default: DefaultDataDir().
	DataDir string `toml:"data_dir"`
	// HistoryPerRoom is how many cached messages per room load at start.
	HistoryPerRoom int `toml:"history_per_room"`
}

// DefaultHistoryPerRoom is used when history_per_room is absent or zero.
const DefaultHistoryPerRoom = 200

// Error is a configuration problem tied to one key (or the file itself when
// Key is empty).
type Error struct {
	Path string // the config file, "" for values that came from elsewhere
	Key  string // e.g. "client.relay"
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrMissing marks a required value that was not given anywhere.
var ErrMissing = errors.New("missing: set it in the config file or with a flag")

// DefaultPath is $XDG_CONFIG_HOME/mimichat/config.toml, falling back to
// ~/.config when XDG_CONFIG_HOME is unset.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("config: locate home directory: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "mimichat", "config.toml"), nil
}

// DefaultDataDir is $XDG_DATA_HOME/mimichat, falling back to
// ~/.local/share/mimichat. Each user's data directory is a directory in it
// named by UserDirName (see the cli's data directory rule); an older single
// store directly in it stays its owner's.
func DefaultDataDir() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("config: locate home directory: %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "mimichat"), nil
}

// Load reads the file at path. When path is "" it reads DefaultPath() and a
// missing default file is not an error (an empty Config is returned): a user
// may configure everything with flags. A file named explicitly must exist.
func Load(path string) (*Config, error) {
	explicit := path != ""
	if !explicit {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return &Config{}, nil
		}
		return nil, &Error{Path: path, Err: err}
	}
	cfg, err := Parse(string(data))
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.Path = path
			return nil, ce
		}
		return nil, &Error{Path: path, Err: err}
	}
	cfg.resolveRelative(filepath.Dir(path))
	return cfg, nil
}

// Parse decodes TOML text. Unknown keys are errors, so a typo never silently
// falls back to a default.
func Parse(text string) (*Config, error) {
	var cfg Config
	md, err := toml.Decode(text, &cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Key: pe.LastKey, Err: fmt.Errorf("line %d: %s", pe.Position.Line, pe.Message)}
		}
		return nil, &Error{Err: err}
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, &Error{Key: und[0].String(), Err: errors.New("unknown key")}
	}
	if err := cfg.Client.validate(); err != nil {
		return nil, err
	}
	if err := cfg.UI.validate(); err != nil {
		return nil, err
	}
	if err := cfg.Keys.validate(); err != nil {
		return nil, err
	}
	if err := cfg.Notify.validate(); err != nil {
		return nil, err
	}
	if err := cfg.Cluster.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// resolveRelative makes file paths in the config relative to its directory.
func (c *Config) resolveRelative(dir string) {
	if c.Client.TokenFile != "" && !filepath.IsAbs(c.Client.TokenFile) && !strings.HasPrefix(c.Client.TokenFile, "~/") {
		c.Client.TokenFile = filepath.Join(dir, c.Client.TokenFile)
	}
	if c.Client.DataDir != "" && !filepath.IsAbs(c.Client.DataDir) && !strings.HasPrefix(c.Client.DataDir, "~/") {
		c.Client.DataDir = filepath.Join(dir, c.Client.DataDir)
	}
	c.UI.resolveRelative(dir)
}

// UserDirName is the name of user's data directory inside DefaultDataDir:
// the URI without its scheme, every character other than a letter, digit,
// '.', '-' or '@' replaced by '_' ("mimi://example.com/u/alice" is
// "example.com_u_alice"), so two users of one machine account never share
// a cache, an outbox or a lock.
func UserDirName(user string) string {
	name := strings.TrimPrefix(user, "mimi://")
	b := []byte(name)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '@'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		b = append([]byte("_"), b...)
	}
	return string(b)
}
