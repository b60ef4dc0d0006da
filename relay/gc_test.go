package relay

import (
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"testing"
)

// TestTuneGC: a relay process (TuneGC, as `mimichat relay` calls it) runs
// the collector at relayGCPercent with the soft limit relayMemoryLimit,
// unless the environment set GOGC or GOMEMLIMIT.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	TuneGC()
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

// TestStartLeavesGC: Start leaves the process's collector as it was: a
// program embedding a relay (the demo and its TUI) keeps its settings.
func TestStartLeavesGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(123))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(456 << 20))
	startRelay(t, Config{})
	samples := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	rtmetrics.Read(samples)
	if got := samples[0].Value.Uint64(); got != 123 {
		t.Errorf("GOGC %d after Start, want 123", got)
	}
	if got := samples[1].Value.Uint64(); got != 456<<20 {
		t.Errorf("memory limit %d after Start, want %d", got, 456<<20)
	}
}
