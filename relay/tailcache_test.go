package relay

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
	"mimichat/relay/store/sqlite"
)

// TestTailRing: the ring keeps exactly the newest contiguous run within
// the per-room bounds, whatever the sizes, across wrap-arounds.
func TestTailRing(t *testing.T) {
	cache := newTailCache(-1)
	for _, tc := range []struct {
		name     string
		n        int
		size     func(i int) int
		wantHeld int // events held at the end
	}{
		{"few", 10, func(int) int { return 100 }, 10},
		{"exactly full", tailEvents, func(int) int { return 10 }, tailEvents},
		{"wraps many times", 5*tailEvents + 17, func(int) int { return 10 }, tailEvents},
		{"byte bound", 3000, func(int) int { return 4 << 10 }, tailBytes / (4<<10 + tailEntryOverhead)},
		{"mixed sizes", 4000, func(i int) int { return (i * 7919) % (8 << 10) }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := &tail{loaded: true}
			for i := 1; i <= tc.n; i++ {
				tl.add(cache, store.Event{Seq: uint64(i), Frame: bytes.Repeat([]byte{byte(i)}, tc.size(i))})
			}
			if tc.wantHeld >= 0 && tl.n != tc.wantHeld {
				t.Fatalf("holds %d events, want %d", tl.n, tc.wantHeld)
			}
			if tl.n > tailEvents || tl.bytes > tailBytes || len(tl.ring) > tailEvents {
				t.Fatalf("over the per-room bound: %d events, %d bytes, ring %d", tl.n, tl.bytes, len(tl.ring))
			}
			sum := 0
			for i := 0; i < tl.n; i++ {
				sum += entrySize(*tl.at(i))
			}
			if sum != tl.bytes {
				t.Fatalf("bytes %d, entries sum to %d", tl.bytes, sum)
			}
			first := uint64(tc.n - tl.n + 1)
			evs, ok := tl.read("r", first-1, tailEvents)
			if !ok || len(evs) != tl.n {
				t.Fatalf("read from %d: ok %v, %d events, want %d", first, ok, len(evs), tl.n)
			}
			for i, e := range evs {
				want := first + uint64(i)
				if e.Seq != want || len(e.Frame) != tc.size(int(want)) || (len(e.Frame) > 0 && e.Frame[0] != byte(want)) {
					t.Fatalf("event %d: seq %d (%d bytes), want seq %d", i, e.Seq, len(e.Frame), want)
				}
			}
			if _, ok := tl.read("r", first-2, 1); ok && first > 1 {
				t.Fatal("read before the held run claims to be cached")
			}
		})
	}
}

// TestTailCacheLRU: over budget, the least recently used tails are
// unloaded, the total stays exact and within budget, and a tail touched
// before each newcomer survives.
func TestTailCacheLRU(t *testing.T) {
	cache := newTailCache(3 * minTailCacheBytes) // three full tails fit, four do not
	tails := make([]*tail, 6)
	touched := uint64(1000)
	for i := range tails {
		if i >= 3 {
			touched++
			tails[0].add(cache, store.Event{Seq: touched, Frame: make([]byte, 1000)})
		}
		tails[i] = &tail{loaded: true}
		for seq := 1; seq <= 1000; seq++ {
			tails[i].add(cache, store.Event{Seq: uint64(seq), Frame: make([]byte, 1000)})
		}
	}
	sum := 0
	for i, tl := range tails {
		tl.mu.Lock()
		sum += tl.held()
		loaded := tl.loaded
		tl.mu.Unlock()
		if want := i == 0 || i >= 4; loaded != want {
			t.Errorf("tail %d loaded %v, want %v", i, loaded, want)
		}
	}
	if got := cache.bytes(); got != sum || got > cache.budget {
		t.Fatalf("cache counts %d bytes, tails hold %d, budget %d", got, sum, cache.budget)
	}
}

// heapAfterGC is the live heap once garbage is collected.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rss is the process's resident set in bytes (0 where /proc is missing).
func rss() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// seedRooms writes rooms rooms of events events (create, then messages of
// size bytes) owned by alice straight into the SQLite store in dir, and
// returns alice's token.
func seedRooms(t *testing.T, dir string, rooms, events, size int) string {
	db, err := sqlite.Open(dir, sqlite.SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &Store{db: db}
	if _, err := st.Domain("example.com"); err != nil {
		t.Fatal(err)
	}
	alice, tok, err := st.AddUser("example.com", "alice")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().UnixMilli()
	for r := 0; r < rooms; r++ {
		uri := proto.RoomURI("example.com", fmt.Sprintf("room%d", r))
		b := store.Batch{Rooms: []store.Room{{URI: uri, History: proto.HistoryShared, JoinPolicy: proto.JoinInvite, Receipts: proto.ReceiptsOn}},
			Members: []store.Member{{Room: uri, User: alice.URI, Role: string(proto.RoleOwner), State: string(proto.StateJoined), JoinSeq: 1}}}
		for seq := 1; seq <= events; seq++ {
			ev := &proto.Event{Room: uri, Seq: uint64(seq), TS: ts, Sender: alice.URI, Kind: proto.KindCreate, Role: proto.RoleOwner}
			var key []byte
			if seq > 1 {
				ev.Role, ev.Kind, ev.ID, ev.Content = "", proto.KindMessage, make([]byte, proto.MessageIDSize), make([]byte, size)
				rand.Read(ev.Content)
				k := store.SubmitKey(ev.Content)
				key = k[:]
			}
			frame, err := proto.Encode(ev)
			if err != nil {
				t.Fatal(err)
			}
			b.Events = append(b.Events, store.Event{Room: uri, Seq: uint64(seq), TS: ts, Key: key, Frame: frame})
		}
		if err := db.AppendBatch(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	return tok
}

// TestTailCacheBoundsMemory replays 1,000 rooms once each (32 events of
// 2 KiB: 66 MiB of tails if every room kept its own) through a real relay,
// with no client left connected, and checks the live heap grew by less than
// the tail budget plus a margin for the rooms' other state. The unbounded
// run shows what the bound saves, and that the measurement would catch a
// leak.
func TestTailCacheBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 66 MiB of events")
	}
	const rooms, events, size = 1000, 32, 2 << 10
	const budget = 8 << 20
	const margin = 6 << 20 // connections, buffers, the rooms' state, GC slack
	dir := t.TempDir()
	tok := seedRooms(t, dir, rooms, events, size)
	for _, tc := range []struct {
		name   string
		budget int64
	}{{"bounded", budget}, {"unbounded", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			s := startRelay(t, Config{Data: dir, Sync: SyncNormal, TailCacheBytes: tc.budget})
			baseHeap, baseRSS := heapAfterGC(), rss()
			c := dial(t, s.Addr(), tok)
			for r := 0; r < rooms; r++ {
				uri := proto.RoomURI("example.com", fmt.Sprintf("room%d", r))
				c.subscribe(uri, 0)
				if got := c.events(uri, events, 10*time.Second); len(got) != events {
					t.Fatalf("room %d: replayed %d events, want %d", r, len(got), events)
				}
				c.send(&proto.Unsubscribe{RID: c.nextRID(), Room: uri})
				expect[*proto.OK](c)
			}
			c.ws.Close()
			c.waitClosed(5 * time.Second)
			waitFor(t, func() bool { return s.connections() == 0 })
			heap, res := heapAfterGC(), rss()
			grew := int64(heap) - int64(baseHeap)
			t.Logf("%s: live heap %.1f MiB -> %.1f MiB (+%.1f MiB), RSS %.1f MiB -> %.1f MiB, tail cache %.1f MiB",
				tc.name, mib(baseHeap), mib(heap), float64(grew)/(1<<20), mib(baseRSS), mib(res), mib(uint64(s.hub.tails.bytes())))
			if tc.budget > 0 {
				if b := s.hub.tails.bytes(); int64(b) > tc.budget {
					t.Fatalf("tail cache holds %d bytes, budget %d", b, tc.budget)
				}
				if grew > budget+margin {
					t.Fatalf("live heap grew %d bytes after replaying %d rooms; budget %d + margin %d", grew, rooms, budget, margin)
				}
			} else if grew < 4*budget {
				t.Fatalf("unbounded tails grew the heap only %d bytes: the measurement does not see them", grew)
			}
		})
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
