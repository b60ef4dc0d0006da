package sqlite

import (
	"os"
	"testing"
)

// TestMain removes the store BenchmarkStartCheck generated.
func TestMain(m *testing.M) {
	code := m.Run()
	if bigStore.dir != "" {
		os.RemoveAll(bigStore.dir)
	}
	os.Exit(code)
}
