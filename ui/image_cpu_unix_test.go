//go:build unix

package ui

import (
	"syscall"
	"time"
)

// processCPU returns the user+system CPU time of the whole process (GC
// workers included). On a shared machine it is a steadier per-frame cost
// than wall time.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
