package relay

import (
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
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
	q := url.Values{}
	for _, p := range []string{"synchronous(" + mode + ")", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "bare.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
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
	const user, room = "mimi://example.com/u/s0", "mimi://example.com/r/bench"
	msgs := prebuilt(b, user, room, b.N)
	frames := make([][]byte, b.N)
	keys := make([][]byte, b.N)
	for i, m := range msgs {
		f, err := proto.Encode(&proto.Event{Room: room, Seq: uint64(i + 1), TS: time.Now().UnixMilli(),
			Sender: user, Kind: proto.KindMessage, ID: m.ID, Content: m.Content})
		if err != nil {
			b.Fatal(err)
		}
		k := store.SubmitKey(m.Content)
		frames[i], keys[i] = f, k[:]
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += batch {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for j := i; j < min(i+batch, b.N); j++ {
			if _, err := tx.Exec(`INSERT INTO events(room, seq, ts, submit_key, frame) VALUES(?, ?, ?, ?, ?)`,
				room, j+1, time.Now().UnixMilli(), keys[j], frames[j]); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "submits/s")
}
