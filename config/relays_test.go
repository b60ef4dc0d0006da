package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestRelays: client.relays lists more URLs of the same relay (a cluster's
// nodes). They are converted like relay, the relay's own URL and repeats
// are dropped, relays alone provides relay, a bad one is an error naming
// its index, and a flag's list replaces the file's.
func TestRelays(t *testing.T) {
	tests := []struct {
		name       string
		relay      string
		relays     []string
		over       []string
		wantRelay  string
		wantRelays []string
		wantKey    string
	}{
		{"none", "ws://a/v1", nil, nil, "ws://a/v1", nil, ""},
		{"three nodes", "ws://a/v1", []string{"https://b", "ws://c/v1"}, nil, "ws://a/v1", []string{"wss://b/v1", "ws://c/v1"}, ""},
		{"relay repeated and duplicates dropped", "ws://a/v1", []string{"ws://a/v1", "ws://b/v1", "http://b"}, nil, "ws://a/v1", []string{"ws://b/v1"}, ""},
		{"relays alone", "", []string{"ws://a/v1", "ws://b/v1"}, nil, "ws://a/v1", []string{"ws://b/v1"}, ""},
		{"flag replaces the file's list", "ws://a/v1", []string{"ws://b/v1"}, []string{"ws://c/v1"}, "ws://a/v1", []string{"ws://c/v1"}, ""},
		{"empty flag list clears it", "ws://a/v1", []string{"ws://b/v1"}, []string{}, "ws://a/v1", nil, ""},
		{"bad scheme", "ws://a/v1", []string{"ws://b/v1", "ftp://c"}, nil, "", nil, "client.relays[1]"},
		{"no host", "ws://a/v1", []string{"ws:///v1"}, nil, "", nil, "client.relays[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Client{Relay: tt.relay, Relays: tt.relays, User: "mimi://ex.com/u/a", Token: "tok", DataDir: t.TempDir()}
			c.Override(Client{Relays: tt.over})
			r, err := c.Resolve()
			if tt.wantKey != "" {
				var ce *Error
				if !errors.As(err, &ce) || ce.Key != tt.wantKey {
					t.Fatalf("err %v, want a config error on %s", err, tt.wantKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Relay != tt.wantRelay || !reflect.DeepEqual(r.Relays, tt.wantRelays) {
				t.Fatalf("relay %q relays %q, want %q %q", r.Relay, r.Relays, tt.wantRelay, tt.wantRelays)
			}
		})
	}
}

// TestRelaysFromFile: the key loads from a config file's [client] table.
func TestRelaysFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	text := "[client]\nrelays = [\"ws://10.0.0.1:7878/v1\", \"ws://10.0.0.2:7878/v1\", \"ws://10.0.0.3:7878/v1\"]\nuser = \"mimi://ex.com/u/alice\"\ntoken = \"t\"\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.Client.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.Relay != "ws://10.0.0.1:7878/v1" || !reflect.DeepEqual(r.Relays, []string{"ws://10.0.0.2:7878/v1", "ws://10.0.0.3:7878/v1"}) {
		t.Fatalf("relay %q relays %q", r.Relay, r.Relays)
	}
}
