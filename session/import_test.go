package session

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// stageBelow adds n entries (raw "raw-1000".. in file order) to an import
// below testRoom's run.
func stageBelow(t *testing.T, st *Store, n uint64) *ImportTx {
	t.Helper()
	tx, err := st.BeginImportBelow(testRoom)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < n; i++ {
		e := msgEntry(testRoom, 1000+i)
		e.Seq = tx.Next()
		if err := tx.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	return tx
}

// An import below a cached run lands at low-n..low-1 in file order, or, when
// rolled back or too large, leaves the run and its entries as they were;
// the same whether its entries were held in memory or spilled to
// import_stage.
func TestImportBelowRun(t *testing.T) {
	cases := []struct {
		name     string
		n        uint64 // entries staged (more than insertBatch for a flush)
		spill    bool   // past heldLimit from the first flush: staged in import_stage
		rollback bool
		wantErr  error
	}{
		{name: "commit", n: 150},
		{name: "rollback", n: 150, rollback: true},
		{name: "too many", n: 200, wantErr: ErrNoSeqsBelow},
		{name: "commit spilled", n: 150, spill: true},
		{name: "rollback spilled", n: 150, spill: true, rollback: true},
		{name: "too many spilled", n: 200, spill: true, wantErr: ErrNoSeqsBelow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.spill {
				defer func(limit int) { heldLimit = limit }(heldLimit)
				heldLimit = 0
			}
			st := openTestStore(t)
			if err := st.SaveRoom(Room{ID: testRoom, Low: 200, Cursor: 199}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Commit(Room{ID: testRoom}, msgEntries(testRoom, 200, 205)); err != nil {
				t.Fatal(err)
			}
			tx := stageBelow(t, st, c.n)
			if tx.Added() != c.n || tx.staged != c.spill {
				t.Fatalf("added %d, staged %v", tx.Added(), tx.staged)
			}
			var err error
			if c.rollback {
				tx.Rollback()
			} else {
				_, err = tx.Commit(Room{})
			}
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("commit: %v, want %v", err, c.wantErr)
			}
			var staged int
			if err := st.db.QueryRow(`SELECT count(*) FROM import_stage`).Scan(&staged); err != nil || staged != 0 {
				t.Fatalf("import_stage holds %d rows after the import (%v)", staged, err)
			}
			r, _, _ := st.Room(testRoom)
			all, _ := st.After(testRoom, 0, 1000)
			if c.rollback || c.wantErr != nil {
				if r.Low != 200 || len(all) != 6 || all[0].Seq != 200 {
					t.Fatalf("changed: low %d, %d entries", r.Low, len(all))
				}
				return
			}
			if r.Low != 200-c.n || r.Cursor != 205 || uint64(len(all)) != c.n+6 {
				t.Fatalf("low %d cursor %d, %d entries", r.Low, r.Cursor, len(all))
			}
			for i := uint64(0); i < c.n; i++ {
				if e := all[i]; e.Seq != r.Low+i || string(e.Raw) != string(msgEntry(testRoom, 1000+i).Raw) {
					t.Fatalf("entry %d: seq %d raw %s", i, e.Seq, e.Raw)
				}
			}
		})
	}
}

// Only the import's connection has the larger page cache, and only while
// the import runs: the pooled connection it used gets its setting back.
func TestImportCacheSizeRestored(t *testing.T) {
	st := openTestStore(t)
	st.db.SetMaxOpenConns(1) // the import must use, and give back, the one connection
	var before int64
	if err := st.db.QueryRow(`PRAGMA cache_size`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	for _, commit := range []bool{true, false} {
		tx, err := st.BeginImport(testRoom)
		if err != nil {
			t.Fatal(err)
		}
		var during int64
		if err := tx.tx.QueryRow(`PRAGMA cache_size`).Scan(&during); err != nil || during != -importCacheKiB {
			t.Fatalf("cache_size during the import: %d (%v), want %d", during, err, -importCacheKiB)
		}
		if commit {
			e := msgEntry(testRoom, 1)
			e.Seq = tx.Next()
			if err := tx.Add(e); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Commit(Room{ID: testRoom}); err != nil {
				t.Fatal(err)
			}
		} else {
			tx.Rollback()
		}
		var after int64
		if err := st.db.QueryRow(`PRAGMA cache_size`).Scan(&after); err != nil || after != before {
			t.Fatalf("cache_size after the import (commit %v): %d (%v), want %d", commit, after, err, before)
		}
		if commit {
			// the next pass imports a room not cached yet
			if _, err := st.db.Exec(`DELETE FROM rooms; DELETE FROM entries`); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The held and the spilled import write the same cache: every column of
// every entry, the run and the search queue, including rows a rebased run
// left below the run, which the import replaces.
func TestImportBelowHeldEqualsSpilled(t *testing.T) {
	dump := func(spill bool) string {
		if spill {
			defer func(limit int) { heldLimit = limit }(heldLimit)
			heldLimit = 0
		}
		st := openTestStore(t)
		// Rows 50..60 of an earlier run, then the run rebased to 200.
		if _, err := st.Commit(Room{ID: testRoom}, msgEntries(testRoom, 1, 60)); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveRoom(Room{ID: testRoom, Low: 200, Cursor: 199}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Commit(Room{ID: testRoom}, msgEntries(testRoom, 200, 205)); err != nil {
			t.Fatal(err)
		}
		tx := stageBelow(t, st, 150)
		if tx.staged != spill {
			t.Fatalf("staged %v, want %v", tx.staged, spill)
		}
		if _, err := tx.Commit(Room{}); err != nil {
			t.Fatal(err)
		}
		return dumpImportTables(t, st)
	}
	held, spilled := dump(false), dump(true)
	if held != spilled {
		t.Errorf("held and spilled imports differ\n--- held\n%s--- spilled\n%s", held, spilled)
	}
	if !strings.Contains(held, `"raw-1149"`) || strings.Contains(held, `"raw-60"`) {
		t.Errorf("the import is missing or the stale rows stayed:\n%s", held)
	}
}

// dumpImportTables is every column of every entry, the runs, the search
// queue and the stage's row count: what an import below a run may change.
func dumpImportTables(t *testing.T, st *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT ` + rowCols + ` FROM entries ORDER BY room, seq`,
		`SELECT room, low, cursor, head FROM rooms ORDER BY room`,
		`SELECT room, lo, hi FROM search_ranges ORDER BY room, lo`,
		`SELECT count(*) FROM import_stage`,
	} {
		rows, err := st.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%q\n", vals)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// An import below a run told its count (ExpectBelow) writes its rows while
// they come, and ends with exactly the cache the held import writes: for
// a right count given at any point, and for a wrong one (too high, too low,
// found at the commit or while adding), which moves the written rows to the
// stage. Where it cannot take the count (spilled, stale rows below the
// run, too many for the room below it) it says so and the import goes on as
// before. A rollback after rows were written leaves the cache as it was.
func TestImportBelowExpectedEqualsHeld(t *testing.T) {
	const n = 150
	cases := []struct {
		name   string
		at     uint64 // entries added before ExpectBelow
		expect uint64
		spill  bool
		stale  bool // rows of an earlier run at 50..60, below the run at 200
		taken  bool // ExpectBelow takes the count
	}{
		{name: "right at start", at: 0, expect: n, taken: true},
		{name: "right after a flush", at: 100, expect: n, taken: true},
		{name: "right after the last add", at: n, expect: n, taken: true},
		{name: "too high", at: 0, expect: n + 10, taken: true},
		{name: "too low, found while adding", at: 0, expect: n - 100, taken: true},
		{name: "too low, found at the commit", at: 0, expect: n - 1, taken: true},
		{name: "already past it", at: 100, expect: 64},
		{name: "no room below", at: 0, expect: 200},
		{name: "too high, down to seq 1", at: 0, expect: 199, taken: true},
		{name: "spilled", at: 100, expect: n, spill: true},
		{name: "stale rows", at: 0, expect: n, stale: true},
		{name: "stale rows out of its range", at: 0, expect: 100, stale: true, taken: true},
	}
	open := func(t *testing.T, stale bool) *Store {
		st := openTestStore(t)
		if stale {
			if _, err := st.Commit(Room{ID: testRoom}, msgEntries(testRoom, 1, 60)); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SaveRoom(Room{ID: testRoom, Low: 200, Cursor: 199}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Commit(Room{ID: testRoom}, msgEntries(testRoom, 200, 205)); err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := open(t, c.stale)
			tx := stageBelow(t, ref, n)
			if _, err := tx.Commit(Room{}); err != nil {
				t.Fatal(err)
			}
			want := dumpImportTables(t, ref)

			for _, rollback := range []bool{false, true} {
				if c.spill {
					defer func(limit int) { heldLimit = limit }(heldLimit)
					heldLimit = 0
				}
				st := open(t, c.stale)
				before := dumpImportTables(t, st)
				tx := stageBelow(t, st, c.at)
				taken, err := tx.ExpectBelow(c.expect)
				if err != nil || taken != c.taken {
					t.Fatalf("ExpectBelow(%d) after %d: %v, %v; want %v", c.expect, c.at, taken, err, c.taken)
				}
				for i := c.at; i < n; i++ {
					e := msgEntry(testRoom, 1000+i)
					e.Seq = tx.Next()
					if err := tx.Add(e); err != nil {
						t.Fatal(err)
					}
				}
				if c.taken && c.expect == n {
					// written while adding: every full batch is in entries already
					var written uint64
					if err := tx.tx.QueryRow(`SELECT count(*) FROM entries WHERE room=? AND seq>=? AND seq<200`,
						testRoom, 200-n).Scan(&written); err != nil || written != n/insertBatch*insertBatch {
						t.Fatalf("%d rows written before the commit (%v), want %d", written, err, n/insertBatch*insertBatch)
					}
				}
				if rollback {
					tx.Rollback()
					if got := dumpImportTables(t, st); got != before {
						t.Fatalf("rolled back, the cache changed\n--- got\n%s--- before\n%s", got, before)
					}
					continue
				}
				if _, err := tx.Commit(Room{}); err != nil {
					t.Fatal(err)
				}
				if got := dumpImportTables(t, st); got != want {
					t.Fatalf("differs from the held import\n--- got\n%s--- held\n%s", got, want)
				}
			}
		})
	}
}
