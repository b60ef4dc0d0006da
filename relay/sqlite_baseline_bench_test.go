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
// WAL, the events table's shape, no websocket, no protocol), one row per
// transaction, 64 and 512 (the relay's MaxBatch) per transaction; compare
// with the relay's reqs/commit. Run with -bench DurableSubmits and compare
// submits/s.
func BenchmarkDurableSubmitsSQLite(b *testing.B) {
	for _, mode := range []string{SyncFull, SyncNormal} {
		for _, batch := range []int{1, 64, 512} {
			b.Run(fmt.Sprintf("%s/batch=%d", mode, batch), func(b *testing.B) { benchBareSQLite(b, mode, batch) })
		}
	}
}

func benchBareSQLite(b *testing.B, mode string, batch int) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(" + mode + ")", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "bare.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE events(room TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
		key BLOB, frame BLOB NOT NULL, PRIMARY KEY(room, seq)) WITHOUT ROWID`); err != nil {
		b.Fatal(err)
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
			if _, err := tx.Exec(`INSERT INTO events(room, seq, ts, key, frame) VALUES(?, ?, ?, ?, ?)`,
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
