package cli

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"mimichat/config"
	"mimichat/relay"
	"mimichat/relay/store/jetstream"
)

// TestRelayClusterCommands: relay user add/list/token --nats and relay cluster
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
		// A cluster binds tokens to devices too: a token for alice's next device.
		{[]string{"relay", "user", "token", "alice", "--nats", url}, 0, "token mct_"},
		{[]string{"relay", "cluster", "status", "--nats", url}, 0, "stream   MIMI (1 replicas"},
		{[]string{"relay", "cluster", "status", "--nats", "nats://127.0.0.1:1", "--timeout", "2s"}, 1, ""},
	} {
		code, out, errs := runIt(tt.args...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Fatalf("%v: exit %d, out %q, err %q; want %d and %q", tt.args, code, out, errs, tt.code, tt.want)
		}
	}
}

// TestClusterAdvertiseFlag: --cluster-advertise (and [cluster] advertise)
// reach the node's cluster configuration, the flag winning over the
// table, and the flag alone, without --cluster, is a usage error.
func TestClusterAdvertiseFlag(t *testing.T) {
	for _, tt := range []struct {
		name  string
		args  []string
		table string
		want  string
	}{
		{"table", nil, "203.0.113.5:16222", "203.0.113.5:16222"},
		{"flag wins", []string{"--cluster-advertise", "198.51.100.7:6222"}, "203.0.113.5:16222", "198.51.100.7:6222"},
		{"neither", nil, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("relay", flag.ContinueOnError)
			var cl relay.ClusterConfig
			enabled := fs.Bool("cluster", false, "")
			fs.StringVar(&cl.Advertise, "cluster-advertise", "", "")
			peers := fs.String("cluster-peers", "", "")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			applyClusterTable(fs, config.Cluster{Enabled: true, Advertise: tt.table}, enabled, &cl, peers)
			if cl.Advertise != tt.want || !*enabled {
				t.Fatalf("advertise %q enabled %v, want %q", cl.Advertise, *enabled, tt.want)
			}
		})
	}
	var out, errb bytes.Buffer
	code := run([]string{"relay", "--cluster-advertise", "127.0.0.1:7", "--listen", "127.0.0.1:0", "--data", t.TempDir()},
		stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != 2 || !strings.Contains(errb.String(), "--cluster-advertise") {
		t.Fatalf("--cluster-advertise without --cluster: exit %d, %q", code, errb.String())
	}
}
