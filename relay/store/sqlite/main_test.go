package sqlite

import (
	"os"
	"testing"
)

// TestMain removes the stores BenchmarkStartCheck and BenchmarkStoredCommits
// generated.
func TestMain(m *testing.M) {
	code := m.Run()
	if bigStore.dir != "" {
		os.RemoveAll(bigStore.dir)
	}
	if seeded.dir != "" {
		os.RemoveAll(seeded.dir)
	}
	os.Exit(code)
}
