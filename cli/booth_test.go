package cli

import (
	"strings"
	"testing"
)

// TestBoothFlags: booth flags that cannot work are refused as usage errors
// (exit 2) naming the flag, before any relay, demo or listener starts.
func TestBoothFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--relay", "ws://127.0.0.1:1/v1"}, "--relay needs --ssh ADDR"},
		{[]string{"demo", "--ssh-authorized-keys", "keys"}, "--ssh-authorized-keys needs --ssh ADDR"},
		{[]string{"demo", "-v"}, "-v needs --ssh ADDR"},
		{[]string{"demo", "--ssh", "127.0.0.1:0", "--relay", "ws://127.0.0.1:1/v1"}, "--relay needs --accounts FILE"},
		{[]string{"demo", "--ssh", "127.0.0.1:0", "--rooms", "mimi://x/r/a"}, "--accounts and --rooms go with --relay URL"},
		{[]string{"demo", "--ssh", "127.0.0.1:0", "--ssh-max-visitors", "0"}, "--ssh-max-visitors: want at least 1, got 0"},
	}
	for _, tt := range tests {
		code, _, errs := runArgs(tt.args)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errs, tt.want)
		}
	}
}

func TestBoothListenAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1:2222", "127.0.0.1:2222"},
		{":2222", "127.0.0.1:2222"},
		{"2222", "127.0.0.1:2222"},
		{"0.0.0.0:2222", "0.0.0.0:2222"},
		{"[::1]:2222", "[::1]:2222"},
	}
	for _, tt := range tests {
		f := boothFlags{listen: tt.in}
		got, err := f.listenAddr()
		if err != nil || got != tt.want {
			t.Errorf("listenAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
