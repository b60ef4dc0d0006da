package relay

import (
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// BenchmarkDurableSubmitsSQLite is BenchmarkDurableSubmits' baseline: the
// same event frames inserted into a bare SQLite file (the relay's driver,
// WAL, 8 KiB pages, the events table's shape: a rowid table with a unique
// (room, seq) index; no websocket, no protocol, no submission-key levels),
// one row per transaction, 64 and 512 (the relay's MaxBatch) per
// transaction; compare with the relay's reqs/commit. Run with -bench
// DurableSubmits and compare submits/s.
func BenchmarkDurableSubmitsSQLite(b *testing.B) {
	for _, mode := range []string{SyncFull, SyncNormal} {
		for _, batch := range []int{1, 64, 512} {
			b.Run(fmt.Sprintf("%s/batch=%d", mode, batch), func(b *testing.B) { benchBareSQLite(b, mode, batch) })
		}
	}
}

func benchBareSQLite(b *testing.B, mode string, batch int) {
	db := openBareSQLite(b, mode)
	frames, keys := bareFrames(b, b.N)
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i += batch {
		if err := insertBare(db, frames, keys, i, min(i+batch, b.N)); err != nil {
			b.Fatal(err)
		}
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "submits/s")
	// This process's CPU per commit: beside the store's CommitOne
	// (relay/store/sqlite), what the relay's store adds to a bare insert.
	b.ReportMetric(float64(cpu.Microseconds())/float64((b.N+batch-1)/batch), "cpu-us/commit")
}

// openBareSQLite opens a new bare SQLite file as the baselines use it: the
// relay's driver, WAL, 8 KiB pages, the events table's shape, one
// connection, synchronous(mode), SQLite's own autocheckpoint.
func openBareSQLite(b *testing.B, mode string) *sql.DB {
	q := url.Values{}
	for _, p := range []string{"synchronous(" + mode + ")", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "bare.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	// The page size before WAL, on the new file (as the store's open does):
	// a WAL database's page size is fixed.
	for _, q := range []string{`PRAGMA page_size=8192`, `PRAGMA journal_mode=WAL`} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	// The relay's events table (relay/store/sqlite/schema.go) since the
	// storage layout of issue 18; it was WITHOUT ROWID keyed by (room, seq).
	for _, q := range []string{`CREATE TABLE events(id INTEGER PRIMARY KEY, room TEXT NOT NULL, seq INTEGER NOT NULL,
		ts INTEGER NOT NULL, submit_key BLOB, ends TEXT, frame BLOB NOT NULL)`,
		`CREATE UNIQUE INDEX events_by_seq ON events(room, seq)`} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	var pageSize int
	var journal string
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil || pageSize != 8192 {
		b.Fatalf("page size %d (%v), want 8192", pageSize, err)
	}
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&journal); err != nil || journal != "wal" {
		b.Fatalf("journal mode %q (%v), want wal", journal, err)
	}
	return db
}

const bareUser, bareRoom = "mimi://example.com/u/s0", "mimi://example.com/r/bench"

// bareFrames are n event frames of the benchmarks' messages, with their
// submission keys.
func bareFrames(b *testing.B, n int) (frames, keys [][]byte) {
	msgs := prebuilt(b, bareUser, bareRoom, n)
	frames = make([][]byte, n)
	keys = make([][]byte, n)
	for i, m := range msgs {
		f, err := proto.Encode(&proto.Event{Room: bareRoom, Seq: uint64(i + 1), TS: time.Now().UnixMilli(),
			Sender: bareUser, Kind: proto.KindMessage, ID: m.ID, Content: m.Content})
		if err != nil {
			b.Fatal(err)
		}
		k := store.SubmitKey(m.Content)
		frames[i], keys[i] = f, k[:]
	}
	return frames, keys
}

// insertBare inserts frames[from:to] in one transaction.
func insertBare(db *sql.DB, frames, keys [][]byte, from, to int) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for j := from; j < to; j++ {
		if _, err := tx.Exec(`INSERT INTO events(room, seq, ts, submit_key, frame) VALUES(?, ?, ?, ?, ?)`,
			bareRoom, j+1, time.Now().UnixMilli(), keys[j], frames[j]); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// benchBareSQLiteLatency is LatencyAt1000's disk baseline: frames queued at
// start + i ms and committed to a bare SQLite file (synchronous full) by
// one committer that, like the relay's writer, takes whatever has queued as
// soon as its last commit returned; p50 and p99 from queued to committed.
// What the relay adds (protocol, fan-out to the subscribers) is above it.
func benchBareSQLiteLatency(b *testing.B) {
	db := openBareSQLite(b, SyncFull)
	frames, keys := bareFrames(b, b.N)
	queued := make([]int64, b.N) // unix ns, written before n is raised
	var mu sync.Mutex
	n := 0
	wake := make(chan struct{}, 1)
	b.ResetTimer()
	go func() {
		start := time.Now()
		for i := range b.N {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
			mu.Lock()
			queued[i] = time.Now().UnixNano()
			n = i + 1
			mu.Unlock()
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	lat := make([]time.Duration, 0, b.N)
	deadline := time.Now().Add(time.Duration(b.N)*time.Millisecond + 60*time.Second)
	for done := 0; done < b.N; {
		mu.Lock()
		upto := n
		mu.Unlock()
		if upto == done {
			select {
			case <-wake:
			case <-time.After(time.Until(deadline)):
				b.Fatalf("%d of %d committed by the deadline", done, b.N)
			}
			continue
		}
		if err := insertBare(db, frames, keys, done, upto); err != nil {
			b.Fatal(err)
		}
		now := time.Now().UnixNano()
		mu.Lock()
		for i := done; i < upto; i++ {
			lat = append(lat, time.Duration(now-queued[i]))
		}
		mu.Unlock()
		done = upto
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
