package sqlite

import (
	"testing"

	"mimichat/relay/store"
	"mimichat/relay/store/storetest"
)

// TestConformance runs the store conformance suite on SQLite, in both sync
// modes.
func TestConformance(t *testing.T) {
	for _, sync := range []string{SyncFull, SyncNormal} {
		t.Run(sync, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Opener {
				dir := t.TempDir()
				return func() (store.Store, error) { return Open(dir, sync) }
			})
		})
	}
}
