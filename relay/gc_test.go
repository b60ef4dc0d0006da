package relay

import (
	"os"
	rtmetrics "runtime/metrics"
	"testing"
)

// TestTuneGC: a started relay runs the process's collector at
// relayGCPercent with the soft limit relayMemoryLimit, unless the
// environment set GOGC or GOMEMLIMIT.
func TestTuneGC(t *testing.T) {
	startRelay(t, Config{})
	samples := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	rtmetrics.Read(samples)
	for _, tt := range []struct {
		env  string
		got  uint64
		want uint64
	}{
		{"GOGC", samples[0].Value.Uint64(), relayGCPercent},
		{"GOMEMLIMIT", samples[1].Value.Uint64(), relayMemoryLimit},
	} {
		if os.Getenv(tt.env) != "" {
			t.Logf("%s is set: the relay leaves it (%d)", tt.env, tt.got)
			continue
		}
		if tt.got != tt.want {
			t.Errorf("%s: %d, want %d", tt.env, tt.got, tt.want)
		}
	}
}
