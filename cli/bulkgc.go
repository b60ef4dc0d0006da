package cli

import (
	"os"
	"runtime/debug"
)

// bulkGC makes the garbage collector run less often for the bulk history
// commands (import, export), which allocate hundreds of MB of short-lived
// garbage over a live heap of ~10 MB: at the default GOGC=100 a 100k
// export spent about a fifth of its CPU collecting. With 400 the heap may
// grow to about five times the live heap; the soft memory limit brings
// collection back should a file make the live heap large. A GOGC or
// GOMEMLIMIT the user set wins.
func bulkGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(bulkGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(bulkMemoryLimit)
	}
}

const (
	bulkGCPercent   = 400
	bulkMemoryLimit = 512 << 20
)
