package history

import (
	"testing"

	"mimichat/content"
)

// Fixtures for the tests of the cache adapter (history/cache), which are in
// package history_test in this directory: they import history/cache, which
// imports history, so they cannot be in package history, and they share the
// test room and snapshots with the format tests.

const (
	RoomURI = roomURI
	Alice   = alice
)

var T0 = t0

// EveryKind is the test room with every message kind and room event.
func EveryKind(tb testing.TB) []Item { return everyKind(tb).items }

// Big is the 100,000-message room of the benchmarks (built once).
func Big(tb testing.TB) []Item { return big(tb) }

// PeakHeap is the peak live heap while fn runs, above what was live before.
func PeakHeap(fn func()) uint64 { return peakHeap(fn) }

// ReportCPU runs fn and reports the process CPU time it took as cpu-s/op.
func ReportCPU(b *testing.B, fn func()) { reportCPU(b, fn) }

// TimelineOf applies items to a fresh timeline and expires at now.
func TimelineOf(items []Item, now int64) *content.Timeline { return timelineOf(items, now) }

// CPIMCarries is items as a CPIM round trip leaves them.
func CPIMCarries(items []Item) []Item { return cpimCarries(items) }

// SnapshotCached renders what a timeline fed from the cache shows: never
// the cache's seqs or raw bytes (an import renumbers), topics and room
// events where the format carries them.
func SnapshotCached(tl *content.Timeline, topics, events bool) string {
	return snapshot(tl, carries{topics: topics, events: events, deletedBy: true, multiSemantics: true})
}
