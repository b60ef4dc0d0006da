package sqlite

import (
	"testing"

	"mimichat/relay/store"
	"mimichat/relay/store/storetest"
)

// TestConformance runs the store conformance suite on SQLite, in both sync
// modes, and with a key tail merged into submit_index from its second key
// on, so that the suite's dedupe checks find keys in both levels and in a
// merge cut off by a reopen.
func TestConformance(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sync  string
		merge int
	}{{SyncFull, SyncFull, 0}, {SyncNormal, SyncNormal, 0}, {"full-merging", SyncFull, 2}} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Opener {
				dir := t.TempDir()
				return func() (store.Store, error) {
					return OpenWith(dir, Options{Sync: tt.sync, Create: true, mergeMinKeys: tt.merge})
				}
			})
		})
	}
}
