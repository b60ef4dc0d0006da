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
	held, spilled := dump(false), dump(true)
	if held != spilled {
		t.Errorf("held and spilled imports differ\n--- held\n%s--- spilled\n%s", held, spilled)
	}
	if !strings.Contains(held, `"raw-1149"`) || strings.Contains(held, `"raw-60"`) {
		t.Errorf("the import is missing or the stale rows stayed:\n%s", held)
	}
}
