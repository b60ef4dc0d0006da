package relay

import (
	"os"
	"runtime/debug"
)

// The relay's garbage collector settings (issue 18). At 1,000 paced
// messages a second to 50 subscribers the process allocates about 90 MB a
// second (most of it the clients' reads and decodes in the benchmark, a
// few KB per event in the relay) over a live heap of about 20 MB, so at
// the default GOGC=100 it collected every 0.2 s, and each cycle's marking
// took CPU from deliveries already queued on two cores: in alternating
// loaded runs the raw broadcast baseline's p99 fell by 35-55 % with the
// collector at 400 or off. With 400 the heap may grow to about five times the
// live heap between collections; the soft memory limit brings collection
// back should the live heap grow large. A GOGC or GOMEMLIMIT the operator
// set wins. They are the relay process's (TuneGC, called by `mimichat
// relay`), not Start's: a program that embeds a relay (the demo, with its
// TUI in the same process) keeps its own collector settings.
const (
	relayGCPercent   = 400
	relayMemoryLimit = 1 << 30
)

// TuneGC applies the relay's garbage collector settings to the process. A
// program whose work is serving a relay calls it once, before Serve.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(relayGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(relayMemoryLimit)
	}
}
