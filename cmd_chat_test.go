package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestChatWithoutConfigOffersDemo: `mimichat` with no config file and no
// flags does not fail obscurely: it names what is missing and points to
// the demo (on a terminal it asks to start it).
func TestChatWithoutConfigOffersDemo(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	var out, errb bytes.Buffer
	code := run(nil, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code == 0 {
		t.Fatalf("exit 0 without an account; stderr:\n%s", errb.String())
	}
	for _, want := range []string{"no account configured", "client.relay", "config.example.toml", "mimichat demo"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestUserLanguages(t *testing.T) {
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "fr_CA.UTF-8")
	got := strings.Join(userLanguages(), ",")
	if got != "fr-CA,fr" {
		t.Fatalf("userLanguages = %q", got)
	}
	t.Setenv("LANGUAGE", "de:en_GB")
	if got := strings.Join(userLanguages(), ","); got != "de,en-GB,en,fr-CA,fr" {
		t.Fatalf("userLanguages with LANGUAGE = %q", got)
	}
}
