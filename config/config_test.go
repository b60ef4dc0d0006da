package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, key, msg string
	}{
		{"unknown key", "[client]\nrelai = \"ws://x\"\n", "client.relai", "unknown key"},
		{"unknown table", "[clinet]\nrelay = \"ws://x\"\n", "clinet", "unknown key"},
		{"bad scheme", "[client]\nrelay = \"ftp://x\"\n", "client.relay", "scheme"},
		{"no host", "[client]\nrelay = \"ws://\"\n", "client.relay", "no host"},
		{"bad user", "[client]\nuser = \"alice\"\n", "client.user", "mimi://"},
		{"token twice", "[client]\ntoken = \"a\"\ntoken_file = \"b\"\n", "client.token_file", "not both"},
		{"negative history", "[client]\nhistory_per_room = -1\n", "client.history_per_room", ">= 0"},
		{"syntax", "[client\n", "", "line 2"},
		{"wrong type", "[client]\nrelay = 3\n", "", "relay"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.text)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse: got %v, want *config.Error", err)
			}
			if tc.key != "" && ce.Key != tc.key {
				t.Errorf("key = %q, want %q (err %v)", ce.Key, tc.key, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

func TestLoadExampleFile(t *testing.T) {
	// The documented example in the repository root must load as is.
	cfg, err := Load("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Client.Relay == "" || cfg.Client.User == "" || cfg.Client.TokenFile == "" {
		t.Errorf("example left keys empty: %+v", cfg.Client)
	}
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte("  s3cret \nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.toml")
	text := "[client]\nrelay = \"ws://127.0.0.1:1/v1\"\nuser = \"mimi://ex.com/u/alice\"\ntoken_file = \"tok\"\ndata_dir = \"data\"\n"
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
	want := Resolved{Relay: "ws://127.0.0.1:1/v1", User: "mimi://ex.com/u/alice", Token: "s3cret",
		DataDir: filepath.Join(dir, "data"), HistoryPerRoom: DefaultHistoryPerRoom}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("Resolve = %+v\nwant      %+v", r, want)
	}
}

func TestLoadMissing(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	cfg, err := Load("")
	if err != nil || !reflect.DeepEqual(cfg.Client, Client{}) {
		t.Fatalf("missing default file: got %+v, %v; want empty config", cfg, err)
	}
	_, err = Load(filepath.Join(t.TempDir(), "nope.toml"))
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing explicit file: got %v, want *Error wrapping ErrNotExist", err)
	}
}

func TestResolveMissingAndOverride(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg/data")
	base := Client{Relay: "ws://a:1", User: "mimi://ex.com/u/a", TokenFile: "/nonexistent/tok"}
	tests := []struct {
		name    string
		over    Client
		wantKey string
		want    Resolved
	}{
		{"token flag beats file", Client{Token: "t"}, "", Resolved{Relay: "ws://a:1", User: "mimi://ex.com/u/a", Token: "t", DataDir: "/xdg/data/mimichat", HistoryPerRoom: DefaultHistoryPerRoom}},
		{"unreadable token file", Client{}, "client.token_file", Resolved{}},
		{"relay flag", Client{Relay: "wss://b", Token: "t", DataDir: "/d", HistoryPerRoom: 5}, "", Resolved{Relay: "wss://b", User: "mimi://ex.com/u/a", Token: "t", DataDir: "/d", HistoryPerRoom: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.Override(tc.over)
			r, err := c.Resolve()
			if tc.wantKey != "" {
				var ce *Error
				if !errors.As(err, &ce) || ce.Key != tc.wantKey {
					t.Fatalf("got %v, want error on %s", err, tc.wantKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r, tc.want) {
				t.Errorf("got %+v, want %+v", r, tc.want)
			}
		})
	}
	for _, key := range []string{"client.relay", "client.user", "client.token"} {
		c := Client{Relay: "ws://a:1", User: "mimi://ex.com/u/a", Token: "t"}
		switch key {
		case "client.relay":
			c.Relay = ""
		case "client.user":
			c.User = ""
		case "client.token":
			c.Token = ""
		}
		_, err := c.Resolve()
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != key || !errors.Is(err, ErrMissing) {
			t.Errorf("without %s: got %v, want ErrMissing on it", key, err)
		}
	}
}

// The offline commands need only a data directory: no relay, user or token
// (and an unreadable token file is not read), but what is given is checked.
func TestResolveLocal(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg/data")
	r, err := Client{TokenFile: "/nonexistent/tok"}.ResolveLocal()
	if err != nil || r.DataDir != "/xdg/data/mimichat" || r.User != "" || r.HistoryPerRoom != DefaultHistoryPerRoom {
		t.Fatalf("empty client: %+v, %v", r, err)
	}
	r, err = Client{User: "mimi://ex.com/u/a", DataDir: "/d"}.ResolveLocal()
	if err != nil || r.User != "mimi://ex.com/u/a" || r.DataDir != "/d" {
		t.Fatalf("user and data dir: %+v, %v", r, err)
	}
	var ce *Error
	if _, err := (Client{User: "alice"}).ResolveLocal(); !errors.As(err, &ce) || ce.Key != "client.user" {
		t.Fatalf("bad user: got %v, want an error on client.user", err)
	}
}

// FuzzParse: any text either parses into a config whose values pass the
// same validation again, or fails with a *config.Error; it never panics.
func FuzzParse(f *testing.F) {
	f.Add("[client]\nrelay = \"ws://127.0.0.1:1/v1\"\nuser = \"mimi://ex.com/u/a\"\ntoken = \"t\"\n")
	f.Add("[client]\ntoken_file = \"~/tok\"\nhistory_per_room = 5\n")
	f.Add("[client\n")
	f.Add("x = 1\n")
	f.Add("[ui]\ntheme = \"dark\"\nlanguages = [\"en\"]\n[ui.colours]\naccent = \"#fff\"\n[ui.names]\n\"mimi://e/u/b\" = \"B\"\n")
	f.Add("[keys]\npreset = \"vim\"\n[keys.timeline]\nreply = [\"r\"]\n")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := Parse(text)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *config.Error", err, err)
			}
			return
		}
		if err := cfg.Client.validate(); err != nil {
			t.Fatalf("parsed config fails validation: %v", err)
		}
		if err := cfg.UI.validate(); err != nil {
			t.Fatalf("parsed [ui] fails validation: %v", err)
		}
		if err := cfg.Keys.validate(); err != nil {
			t.Fatalf("parsed [keys] fails validation: %v", err)
		}
	})
}

// TestExampleDocumentsEveryKey: every key the loader knows appears in
// config.example.toml, so the example stays the reference.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			key := prefix + f.Tag.Get("toml")
			if f.Type.Kind() == reflect.Struct {
				if !strings.Contains(text, "["+key+"]") {
					t.Errorf("example has no [%s] table", key)
				}
				walk(key+".", f.Type)
				continue
			}
			name := key[strings.LastIndex(key, ".")+1:]
			if !strings.Contains(text, name+" = ") && !strings.Contains(text, "["+key+"]") {
				t.Errorf("example does not document %s", key)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
}

// TestKeysDocExampleLoads: the TOML block of docs/keys.md is what the
// loader reads.
func TestKeysDocExampleLoads(t *testing.T) {
	data, err := os.ReadFile("../docs/keys.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```toml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/keys.md has no ```toml block")
	}
	cfg, err := Parse(block)
	if err != nil {
		t.Fatalf("docs/keys.md example: %v", err)
	}
	if cfg.Keys.Preset != "vim" || len(cfg.Keys.Timeline) == 0 {
		t.Errorf("example decoded to %+v", cfg.Keys)
	}
}

// TestRelayURLConversion: http(s) relay URLs, accepted by the file's check,
// resolve to the websocket URL the session dials (the dialer refuses http);
// any other scheme is refused when the file loads, naming the key.
func TestRelayURLConversion(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg/data")
	tests := []struct {
		in, want, bad string
	}{
		{in: "ws://127.0.0.1:7878/v1", want: "ws://127.0.0.1:7878/v1"},
		{in: "wss://chat.example.com/v1", want: "wss://chat.example.com/v1"},
		{in: "http://127.0.0.1:7878/v1", want: "ws://127.0.0.1:7878/v1"},
		{in: "https://chat.example.com/mimi/v1", want: "wss://chat.example.com/mimi/v1"},
		{in: "https://chat.example.com", want: "wss://chat.example.com/v1"},
		{in: "http://127.0.0.1:7878/", want: "ws://127.0.0.1:7878/v1"},
		{in: "ftp://chat.example.com/v1", bad: `scheme "ftp"`},
		{in: "https:///v1", bad: "no host"},
		{in: "chat.example.com:443", bad: "scheme"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			file := "[client]\nrelay = \"" + tc.in + "\"\nuser = \"mimi://ex.com/u/a\"\ntoken = \"t\"\n"
			cfg, err := Parse(file)
			if tc.bad != "" {
				var ce *Error
				if !errors.As(err, &ce) || ce.Key != "client.relay" || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("Parse: got %v, want an error on client.relay with %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := cfg.Client.Resolve()
			if err != nil || r.Relay != tc.want {
				t.Fatalf("Resolve: relay %q, %v; want %q", r.Relay, err, tc.want)
			}
			// A flag goes through the same conversion.
			c := Client{User: "mimi://ex.com/u/a", Token: "t"}
			c.Override(Client{Relay: tc.in})
			if r, err := c.Resolve(); err != nil || r.Relay != tc.want {
				t.Fatalf("Resolve with the flag: relay %q, %v; want %q", r.Relay, err, tc.want)
			}
		})
	}
}

func TestUserDirName(t *testing.T) {
	tests := []struct{ user, want string }{
		{"mimi://example.com/u/alice", "example.com_u_alice"},
		{"mimi://example.com:8443/u/bob", "example.com_8443_u_bob"},
		{"mimi://ex.com/u/../../etc", "ex.com_u_.._.._etc"},
		{"mimi://.hidden/u/x", "_.hidden_u_x"},
		{"", "_"},
	}
	for _, tt := range tests {
		if got := UserDirName(tt.user); got != tt.want {
			t.Errorf("UserDirName(%q) = %q, want %q", tt.user, got, tt.want)
		}
	}
}
