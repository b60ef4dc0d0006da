package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// cpuProfileEnv names a file to write a CPU profile of the whole command
// to (hidden: for measuring `mimichat import`/`export` as processes, where
// a test's -cpuprofile cannot reach; docs/history.md).
const cpuProfileEnv = "MIMICHAT_CPUPROFILE"

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
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
