package cli

import (
	"bytes"
	"strings"
	"testing"

	"mimichat/relay/store/jetstream"
)

// TestRelayClusterCommands: relay user add/list --nats and relay cluster
// status against a real embedded JetStream server with a client listener
// on 127.0.0.1 port 0.
func TestRelayClusterCommands(t *testing.T) {
	js, err := jetstream.Open(jetstream.Options{Dir: t.TempDir(), Listen: "127.0.0.1:0", Name: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	defer js.Close()
	url := js.Server().ClientURL()
	runIt := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
		return code, out.String(), errb.String()
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"relay", "user", "add", "alice", "--nats", url, "--domain", "example.com"}, 0, "mimi://example.com/u/alice"},
		{[]string{"relay", "user", "add", "alice", "--nats", url}, 1, ""},
		{[]string{"relay", "user", "list", "--nats", url}, 0, "alice\tmimi://example.com/u/alice\t"},
		{[]string{"relay", "cluster", "status", "--nats", url}, 0, "stream   MIMI (1 replicas"},
		{[]string{"relay", "cluster", "status", "--nats", "nats://127.0.0.1:1", "--timeout", "2s"}, 1, ""},
	} {
		code, out, errs := runIt(tt.args...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Fatalf("%v: exit %d, out %q, err %q; want %d and %q", tt.args, code, out, errs, tt.code, tt.want)
		}
	}
}
