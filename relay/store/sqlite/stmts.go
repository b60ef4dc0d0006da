package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// writerStmts caches the writer connection's prepared statements by their
// text. SQLite parsed the queries a commit runs (a room's head, the
// submission-key lookups) again at every commit: a fifth of AppendBatch's
// CPU in a paced profile (issue 18, BenchmarkPacedCommits), and every
// microsecond of a commit is one every message queued behind it waits.
type writerStmts struct {
	mu    sync.Mutex
	db    *sql.DB
	stmts map[string]*sql.Stmt
}

// maxWriterStmts bounds the cache: the lookups' IN lists make up to a few
// hundred texts (one per list length); beyond, queries are parsed each time.
const maxWriterStmts = 1024

// get returns the prepared statement for query, or nil if it is not
// cached and prepare is false, could not be prepared or the cache is full
// (the caller then runs the text). prepare must be false inside a
// transaction: preparing on the pool would wait for the one connection
// the transaction holds.
func (w *writerStmts) get(ctx context.Context, query string, prepare bool) *sql.Stmt {
	w.mu.Lock()
	defer w.mu.Unlock()
	if st, ok := w.stmts[query]; ok {
		return st
	}
	if !prepare || len(w.stmts) >= maxWriterStmts {
		return nil
	}
	st, err := w.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if w.stmts == nil {
		w.stmts = map[string]*sql.Stmt{}
	}
	w.stmts[query] = st
	return st
}

func (w *writerStmts) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.stmts {
		st.Close()
	}
	w.stmts = nil
}

// cachedTx runs a transaction's queries with the writer's cached
// statements (the writer has one connection, so a statement prepared on
// the pool is the transaction's connection's: Tx.StmtContext reuses it).
// It prepares none: see get.
type cachedTx struct {
	tx    *sql.Tx
	stmts *writerStmts
}

func (c cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmts.get(ctx, query, false); st != nil {
		return c.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return c.tx.QueryContext(ctx, query, args...)
}

func (c cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.stmts.get(ctx, query, false); st != nil {
		return c.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return c.tx.QueryRowContext(ctx, query, args...)
}

// cachedDB is cachedTx outside a transaction, on the writer's connection;
// it prepares what it does not find.
type cachedDB struct{ stmts *writerStmts }

func (c cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmts.get(ctx, query, true); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.stmts.db.QueryContext(ctx, query, args...)
}
