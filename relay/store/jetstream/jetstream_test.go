package jetstream

import (
	"testing"

	"mimichat/relay/store"
	"mimichat/relay/store/storetest"
)

var _ store.Store = (*Store)(nil)

// TestConformance runs the store conformance suite on a real embedded
// JetStream server (in process, no listener) whose data lives in the
// subtest's directory; reopening starts a new server on the same directory.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dir := t.TempDir()
		return func() (store.Store, error) { return Open(Options{Dir: dir}) }
	})
}
