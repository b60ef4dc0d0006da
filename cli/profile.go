package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
)

// cpuProfileEnv names a file to write a CPU profile of the whole command
// to (hidden: for measuring `mimichat import`/`export` as processes, where
// a test's -cpuprofile cannot reach; docs/history.md).
const cpuProfileEnv = "MIMICHAT_CPUPROFILE"

// cpuProfileUntilEnv = "first-frame" ends the terminal client's profile
// when its first frame is composed, so the profile is the start-up alone
// (docs/ui.md, first frame from process start).
const cpuProfileUntilEnv = "MIMICHAT_CPUPROFILE_UNTIL"

// stopCPUProfile stops the running profile (once); a no-op without one.
var stopCPUProfile = func() {}

// startCPUProfile starts the profile MIMICHAT_CPUPROFILE asks for and
// returns what stops it; without it, it does nothing.
func startCPUProfile() (stop func()) {
	path := os.Getenv(cpuProfileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mimichat: %s: %v\n", cpuProfileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "mimichat: %s: %v\n", cpuProfileEnv, err)
		f.Close()
		return func() {}
	}
	stopCPUProfile = sync.OnceFunc(func() {
		pprof.StopCPUProfile()
		f.Close()
	})
	return stopCPUProfile
}

// profileUntilFirstFrame reports whether the profile ends at the first
// frame.
func profileUntilFirstFrame() bool { return os.Getenv(cpuProfileUntilEnv) == "first-frame" }
