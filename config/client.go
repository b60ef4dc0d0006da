package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// validate checks the values that are present; absent ones are checked by
// Resolve, after flags have had their say.
func (c *Client) validate() error {
	if c.Relay != "" {
		if err := checkRelayURL(c.Relay); err != nil {
			return &Error{Key: "client.relay", Err: err}
		}
	}
	for i, u := range c.Relays {
		if err := checkRelayURL(u); err != nil {
			return &Error{Key: fmt.Sprintf("client.relays[%d]", i), Err: err}
		}
	}
	if c.User != "" {
		if err := checkUserURI(c.User); err != nil {
			return &Error{Key: "client.user", Err: err}
		}
	}
	if c.Token != "" && c.TokenFile != "" {
		return &Error{Key: "client.token_file", Err: errors.New("set token or token_file, not both")}
	}
	if c.HistoryPerRoom < 0 {
		return &Error{Key: "client.history_per_room", Err: fmt.Errorf("must be >= 0, got %d", c.HistoryPerRoom)}
	}
	return nil
}

func checkRelayURL(s string) error {
	_, err := relayURL(s)
	return err
}

// relayURL checks a relay URL and returns the websocket URL to dial. ws and
// wss are used as given. http and https are accepted because a relay's
// address is often copied from a browser or from its /healthz URL: http
// becomes ws and https wss, the path is kept, and an empty path (the relay's
// root) becomes /v1, where the relay serves its websocket.
func relayURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return "", fmt.Errorf("scheme %q: want ws, wss, http or https", u.Scheme)
	}
	if u.Host == "" {
		return "", errors.New("no host")
	}
	switch u.Scheme {
	case "ws", "wss":
		return s, nil
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	if u.Path == "" || u.Path == "/" {
		u.Path, u.RawPath = "/v1", ""
	}
	return u.String(), nil
}

func checkUserURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URI: %w", err)
	}
	if u.Scheme != "mimi" || u.Host == "" || u.Path == "" {
		return fmt.Errorf("%q: want mimi://DOMAIN/u/NAME", s)
	}
	return nil
}

// Override replaces each field of c with the same field of o when o's is set.
// Commands use it to let flags win over the file.
func (c *Client) Override(o Client) {
	if o.Relay != "" {
		c.Relay = o.Relay
	}
	if o.Relays != nil {
		c.Relays = o.Relays
	}
	if o.User != "" {
		c.User = o.User
	}
	if o.Token != "" {
		c.Token, c.TokenFile = o.Token, ""
	}
	if o.TokenFile != "" {
		c.TokenFile, c.Token = o.TokenFile, ""
	}
	if o.DataDir != "" {
		c.DataDir = o.DataDir
	}
	if o.HistoryPerRoom != 0 {
		c.HistoryPerRoom = o.HistoryPerRoom
	}
}

// Resolved is a Client with every value present and checked.
type Resolved struct {
	Relay          string
	Relays         []string // more URLs of the same relay (a cluster's other nodes), converted like Relay
	User           string
	Token          string
	DataDir        string
	HistoryPerRoom int
	// Warnings are problems worth telling the user that do not stop the
	// command (a token file others can read).
	Warnings []string
}

// Resolve checks that the required values are present, reads the token file
// and fills in defaults.
func (c Client) Resolve() (Resolved, error) {
	r, err := c.ResolveLocal()
	if err != nil {
		return Resolved{}, err
	}
	if r.Relay == "" {
		return Resolved{}, &Error{Key: "client.relay", Err: ErrMissing}
	}
	if r.User == "" {
		return Resolved{}, &Error{Key: "client.user", Err: ErrMissing}
	}
	if c.TokenFile != "" {
		path := expandHome(c.TokenFile)
		tok, err := readToken(path)
		if err != nil {
			return Resolved{}, &Error{Key: "client.token_file", Err: err}
		}
		r.Token = tok
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("token file %s is readable by others (mode %v): chmod 600 %s", path, fi.Mode().Perm(), path))
		}
	}
	if r.Token == "" {
		return Resolved{}, &Error{Key: "client.token", Err: ErrMissing}
	}
	return r, nil
}

// ResolveLocal is Resolve for the commands that work on the local cache
// only (export, import): they need neither the relay nor a token, and the
// user is optional (the cache knows whose it is). Relay and Token are left
// as given; the token file is not read.
func (c Client) ResolveLocal() (Resolved, error) {
	if err := c.validate(); err != nil {
		return Resolved{}, err
	}
	r := Resolved{Relay: c.Relay, User: c.User, Token: c.Token, DataDir: c.DataDir, HistoryPerRoom: c.HistoryPerRoom}
	if r.Relay != "" {
		var err error
		if r.Relay, err = relayURL(r.Relay); err != nil { // validate checked it; this converts http(s)
			return Resolved{}, &Error{Key: "client.relay", Err: err}
		}
	}
	for i, u := range c.Relays {
		w, err := relayURL(u)
		if err != nil {
			return Resolved{}, &Error{Key: fmt.Sprintf("client.relays[%d]", i), Err: err}
		}
		switch {
		case r.Relay == "":
			r.Relay = w // relays alone lists every node
		case w != r.Relay && !slices.Contains(r.Relays, w):
			r.Relays = append(r.Relays, w)
		}
	}
	if r.DataDir == "" {
		d, err := DefaultDataDir()
		if err != nil {
			return Resolved{}, err
		}
		r.DataDir = d
	}
	r.DataDir = expandHome(r.DataDir)
	if r.HistoryPerRoom == 0 {
		r.HistoryPerRoom = DefaultHistoryPerRoom
	}
	return r, nil
}

func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	tok := strings.TrimSpace(line)
	if tok == "" {
		return "", fmt.Errorf("%s: empty token", path)
	}
	return tok, nil
}

// expandHome turns a leading "~/" into the home directory.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}
