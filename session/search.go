package session

// Full-text search over the cache (SQLite FTS5, built into modernc.org/sqlite).
//
// Every write of rows to entries (live commits, scrollback, imports, a
// rebased run) queues the seqs it wrote as one range (queueSearch), not one
// row per message: an import of 100,000 messages queues one row, where a
// per-row queue cost a fifth of the import. The queue is drained in Go,
// which decodes the content (the cache holds encrypted rooms' plaintext, so
// they are searched alike). The index holds one document per
// message, keyed by its first version's ID, with the text as it is now: an
// edit by the sender replaces the text, a delete (by the sender, or by a
// moderator or owner at the time) empties it, and a change that arrives
// before its original (scrollback fetches older pages later) is kept and
// applied when the original comes. Messages with an expiry are not indexed:
// they vanish from the timeline, so search must not bring them back.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"mimichat/content"
	"mimichat/proto"
)

const searchSchema = `
-- Seqs lo..hi of room wait to be indexed (their message rows; other kinds
-- in the range are passed over).
CREATE TABLE IF NOT EXISTS search_ranges (
	room TEXT    NOT NULL,
	lo   INTEGER NOT NULL,
	hi   INTEGER NOT NULL,
	PRIMARY KEY (room, lo)
) WITHOUT ROWID;
-- One document per message (first version), its text as it is now ('' once deleted).
CREATE TABLE IF NOT EXISTS search_docs (
	docid  INTEGER PRIMARY KEY,
	room   TEXT    NOT NULL,
	msg_id BLOB    NOT NULL,
	seq    INTEGER NOT NULL,
	hub_ms INTEGER NOT NULL,
	sender TEXT    NOT NULL,
	text   TEXT    NOT NULL,
	UNIQUE (room, msg_id)
);
CREATE INDEX IF NOT EXISTS search_docs_by_seq ON search_docs(room, seq);
-- Edits and deletes by the first version they replace (their text stays in entries).
CREATE TABLE IF NOT EXISTS search_changes (
	room   TEXT    NOT NULL,
	target BLOB    NOT NULL,
	seq    INTEGER NOT NULL,
	sender TEXT    NOT NULL,
	del    INTEGER NOT NULL,
	PRIMARY KEY (room, target, seq)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
	text, content='search_docs', content_rowid='docid', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS search_docs_ai AFTER INSERT ON search_docs BEGIN
	INSERT INTO search_fts(rowid, text) VALUES (new.docid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS search_docs_ad AFTER DELETE ON search_docs BEGIN
	INSERT INTO search_fts(search_fts, rowid, text) VALUES ('delete', old.docid, old.text);
END;
CREATE TRIGGER IF NOT EXISTS search_docs_au AFTER UPDATE OF text ON search_docs BEGIN
	INSERT INTO search_fts(search_fts, rowid, text) VALUES ('delete', old.docid, old.text);
	INSERT INTO search_fts(rowid, text) VALUES (new.docid, new.text);
END;
`

// searchMeta marks a cache whose existing messages were queued for
// indexing (caches made before search get theirs queued once, at open).
const searchMeta = "search_index"

// initSearch creates the index and, once per cache, queues every cached
// message (the migration of caches older than search). A cache of the
// per-row queue (search_queue and its trigger on entries) has its queue
// moved into ranges and the trigger dropped.
func initSearch(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, searchSchema); err != nil {
		return fmt.Errorf("create search index: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("search index migration: %w", err)
	}
	defer tx.Rollback()
	if err := migrateSearchQueue(ctx, tx); err != nil {
		return err
	}
	var v string
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key=?`, searchMeta).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO search_ranges(room, lo, hi)
			SELECT room, min(seq), max(seq) FROM entries WHERE kind = 'message' GROUP BY room
			ON CONFLICT(room, lo) DO UPDATE SET hi = max(hi, excluded.hi)`); err != nil {
			return fmt.Errorf("search index migration: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES(?, '1')`, searchMeta); err != nil {
			return fmt.Errorf("search index migration: %w", err)
		}
	case err != nil:
		return fmt.Errorf("search index migration: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("search index migration: %w", err)
	}
	return nil
}

// migrateSearchQueue moves what the per-row queue of older builds holds
// into search_ranges (runs of consecutive seqs as one range) and drops it
// and the trigger that filled it.
func migrateSearchQueue(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name IN ('search_queue', 'entries_search_queue')`).
		Scan(&n); err != nil {
		return fmt.Errorf("search queue migration: %w", err)
	}
	if n == 0 {
		return nil
	}
	for _, q := range []string{
		`DROP TRIGGER IF EXISTS entries_search_queue`,
		`CREATE TABLE IF NOT EXISTS search_queue (room TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (room, seq)) WITHOUT ROWID`,
		`INSERT INTO search_ranges(room, lo, hi)
			SELECT room, min(seq), max(seq) FROM (
				SELECT room, seq, seq - row_number() OVER (PARTITION BY room ORDER BY seq) AS run FROM search_queue)
			WHERE true GROUP BY room, run
			ON CONFLICT(room, lo) DO UPDATE SET hi = max(hi, excluded.hi)`,
		`DROP TABLE search_queue`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("search queue migration: %w", err)
		}
	}
	return nil
}

// queueSearch queues seqs lo..hi of room for indexing, in the transaction
// that wrote them: one row however many messages the range holds.
func queueSearch(tx *sql.Tx, room string, lo, hi uint64) error {
	if _, err := tx.Exec(`INSERT INTO search_ranges(room, lo, hi) VALUES(?, ?, ?)
		ON CONFLICT(room, lo) DO UPDATE SET hi = max(hi, excluded.hi)`, room, int64(lo), int64(hi)); err != nil {
		return fmt.Errorf("session: search queue %s %d..%d: %w", room, lo, hi, err)
	}
	return nil
}

// messageSpan is the lowest and highest seq of the messages among es (ok
// false when there is none): the range a write of es queues.
func messageSpan(es []Entry) (lo, hi uint64, ok bool) {
	for i := range es {
		if !es[i].IsMessage() {
			continue
		}
		if !ok {
			lo, ok = es[i].Seq, true
		}
		hi = es[i].Seq
	}
	return lo, hi, ok
}

// indexBatch is how many queued messages one transaction indexes: short
// enough that a commit of new entries waits little for the write lock.
const indexBatch = 500

// SearchPending is how many cached messages wait to be indexed (a message
// in two queued ranges counts twice).
func (s *Store) SearchPending() (int, error) {
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM search_ranges q
		JOIN entries e ON e.room = q.room AND e.seq BETWEEN q.lo AND q.hi WHERE e.kind = 'message'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("session: search queue: %w", err)
	}
	return n, nil
}

// IndexPending indexes every queued message, indexBatch per transaction,
// and returns how many it took from the queue.
func (s *Store) IndexPending(ctx context.Context) (int, error) {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, more, err := s.indexBatch(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// queuedRange is a row of search_ranges.
type queuedRange struct {
	room   string
	lo, hi int64
}

// queuedMessage is a message of a queued range, as indexBatch reads it.
type queuedMessage struct {
	seq, ms int64
	sender  string
	id, raw []byte
}

// indexBatch indexes up to indexBatch messages from the queued ranges, in
// room and seq order, taking the ranges it finishes off the queue and
// putting back the rest of the one it stops in. more is false when the
// queue was empty.
func (s *Store) indexBatch(ctx context.Context) (n int, more bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("session: search index: %w", err)
	}
	defer tx.Rollback()
	ranges, err := queuedRanges(ctx, tx)
	if err != nil || len(ranges) == 0 {
		return 0, false, err
	}
	ix := indexer{tx: tx}
	for _, r := range ranges {
		if n == indexBatch {
			break
		}
		want := indexBatch - n
		batch, err := queuedMessages(ctx, tx, r, want)
		if err != nil {
			return 0, false, err
		}
		if _, err := tx.Exec(`DELETE FROM search_ranges WHERE room=? AND lo=?`, r.room, r.lo); err != nil {
			return 0, false, fmt.Errorf("session: search index: %w", err)
		}
		if len(batch) == want {
			if last := batch[len(batch)-1].seq; last < r.hi {
				if err := queueSearch(tx, r.room, uint64(last+1), uint64(r.hi)); err != nil {
					return 0, false, err
				}
			}
		}
		for _, q := range batch {
			if len(q.raw) == 0 || len(q.id) != len(content.MessageID{}) {
				continue // not decryptable here
			}
			if err := ix.add(r.room, q.seq, q.ms, q.sender, content.MessageID(q.id), q.raw); err != nil {
				return 0, false, err
			}
		}
		n += len(batch)
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("session: search index: %w", err)
	}
	return n, true, nil
}

// queuedRanges reads the first ranges of the queue, room and seq order.
func queuedRanges(ctx context.Context, tx *sql.Tx) ([]queuedRange, error) {
	rows, err := tx.QueryContext(ctx, `SELECT room, lo, hi FROM search_ranges ORDER BY room, lo LIMIT ?`, indexBatch)
	if err != nil {
		return nil, fmt.Errorf("session: search index: %w", err)
	}
	defer rows.Close()
	var out []queuedRange
	for rows.Next() {
		var r queuedRange
		if err := rows.Scan(&r.room, &r.lo, &r.hi); err != nil {
			return nil, fmt.Errorf("session: search index: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("session: search index: %w", err)
	}
	return out, nil
}

// queuedMessages reads up to limit cached messages of r, seq order.
func queuedMessages(ctx context.Context, tx *sql.Tx, r queuedRange, limit int) ([]queuedMessage, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, hub_ms, sender, msg_id, raw FROM entries
		WHERE room=? AND seq BETWEEN ? AND ? AND kind='message' ORDER BY seq LIMIT ?`, r.room, r.lo, r.hi, limit)
	if err != nil {
		return nil, fmt.Errorf("session: search index %s: %w", r.room, err)
	}
	defer rows.Close()
	var out []queuedMessage
	for rows.Next() {
		var q queuedMessage
		if err := rows.Scan(&q.seq, &q.ms, &q.sender, &q.id, &q.raw); err != nil {
			return nil, fmt.Errorf("session: search index %s: %w", r.room, err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("session: search index %s: %w", r.room, err)
	}
	return out, nil
}

// indexer updates the index inside one transaction.
type indexer struct{ tx *sql.Tx }

// add indexes one cached message: a new document, or a change to one.
func (ix indexer) add(room string, seq, ms int64, sender string, id content.MessageID, raw []byte) error {
	m, err := content.Decode(raw)
	if err != nil || content.IsStatusUpdate(m) {
		return nil // nothing to find in it
	}
	if m.Replaces != nil {
		del, ok := changeKind(&m.Body)
		if !ok {
			return nil // a reaction change or unlike
		}
		if _, err := ix.tx.Exec(`INSERT OR REPLACE INTO search_changes(room, target, seq, sender, del) VALUES(?, ?, ?, ?, ?)`,
			room, m.Replaces[:], seq, sender, del); err != nil {
			return fmt.Errorf("session: search index %s seq %d: %w", room, seq, err)
		}
		return ix.refresh(room, *m.Replaces)
	}
	if m.Body.Disposition == content.Reaction || m.Expires != nil {
		return nil
	}
	text := searchText(&m.Body)
	res, err := ix.tx.Exec(`UPDATE search_docs SET seq=?, hub_ms=?, sender=?, text=? WHERE room=? AND msg_id=?`,
		seq, ms, sender, text, room, id[:])
	if err != nil {
		return fmt.Errorf("session: search index %s seq %d: %w", room, seq, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if err := ix.insertDoc(room, id, seq, ms, sender, text); err != nil {
			return err
		}
	}
	return ix.refresh(room, id)
}

// insertDoc adds a document whose docid orders by time: FTS5 walks a
// match's documents in rowid order and stops at the LIMIT, so "newest
// first" costs no sort of every match (a word in half of 100,000 messages
// took 360 ms sorted by a column, see BenchmarkSearch100k). The low bits
// spread messages of one millisecond; a taken docid moves up by one.
func (ix indexer) insertDoc(room string, id content.MessageID, seq, ms int64, sender, text string) error {
	docid := max(ms, 0)<<docidTimeShift | int64(id[0])<<8 | int64(id[1])
	for range 1 << 10 {
		_, err := ix.tx.Exec(`INSERT INTO search_docs(docid, room, msg_id, seq, hub_ms, sender, text) VALUES(?, ?, ?, ?, ?, ?, ?)`,
			docid, room, id[:], seq, ms, sender, text)
		if err == nil {
			return nil
		}
		var taken int
		if qerr := ix.tx.QueryRow(`SELECT count(*) FROM search_docs WHERE docid=?`, docid).Scan(&taken); qerr != nil || taken == 0 {
			return fmt.Errorf("session: search index %s seq %d: %w", room, seq, err)
		}
		docid++
	}
	return fmt.Errorf("session: search index %s seq %d: no free docid near %d", room, seq, docid)
}

// docidTimeShift leaves 16 bits under the hub time (ms since 1970 needs
// 41 bits until the year 2039 and 47 until 6429: int64 holds it).
const docidTimeShift = 16

// changeKind says whether a replacing body deletes (true) or edits (false)
// a message; ok is false for reaction changes and unlikes.
func changeKind(b *content.NestedPart) (del bool, ok bool) {
	switch {
	case b.Cardinality == content.NullPart:
		return true, b.Disposition != content.Reaction
	case b.Disposition == content.Reaction:
		return false, false
	case b.Cardinality == content.Multi && b.Semantics == content.ProcessAll:
		for i := range b.Parts {
			if b.Parts[i].Disposition != content.Reaction {
				return false, true
			}
		}
		return false, false
	}
	return false, true
}

// refresh sets a document's text from its versions: deleted when a delete
// by its sender (or by a moderator or owner) came after it, else the text of
// the sender's latest edit, else its own. The timeline refuses edits by
// anyone else, so they change nothing here either.
func (ix indexer) refresh(room string, target content.MessageID) error {
	var (
		docid, seq int64
		sender     string
	)
	err := ix.tx.QueryRow(`SELECT docid, seq, sender FROM search_docs WHERE room=? AND msg_id=?`, room, target[:]).
		Scan(&docid, &seq, &sender)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the original is not cached (yet): its changes wait
	}
	if err != nil {
		return fmt.Errorf("session: search index %s: %w", room, err)
	}
	rows, err := ix.tx.Query(`SELECT seq, sender, del FROM search_changes WHERE room=? AND target=? AND seq>? ORDER BY seq`,
		room, target[:], seq)
	if err != nil {
		return fmt.Errorf("session: search index %s: %w", room, err)
	}
	type change struct {
		seq    int64
		sender string
		del    bool
	}
	var changes []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.seq, &c.sender, &c.del); err != nil {
			rows.Close()
			return fmt.Errorf("session: search index %s: %w", room, err)
		}
		changes = append(changes, c)
	}
	rows.Close()
	if len(changes) == 0 {
		return nil
	}
	textSeq := seq
	for _, c := range changes {
		switch {
		case c.del && (c.sender == sender || ix.mayDeleteOthers(room, c.sender, c.seq)):
			return ix.setText(docid, "")
		case !c.del && c.sender == sender:
			textSeq = c.seq
		}
	}
	var raw []byte
	if err := ix.tx.QueryRow(`SELECT raw FROM entries WHERE room=? AND seq=?`, room, textSeq).Scan(&raw); err != nil {
		return fmt.Errorf("session: search index %s seq %d: %w", room, textSeq, err)
	}
	m, err := content.Decode(raw)
	if err != nil {
		return nil
	}
	return ix.setText(docid, searchText(&m.Body))
}

func (ix indexer) setText(docid int64, text string) error {
	if _, err := ix.tx.Exec(`UPDATE search_docs SET text=? WHERE docid=? AND text<>?`, text, docid, text); err != nil {
		return fmt.Errorf("session: search index: %w", err)
	}
	return nil
}

// mayDeleteOthers reports whether user was a moderator or owner of room at
// seq, by the last role the cached log gave them. A user the cache knows no
// role of (their join is older than the cached run) is trusted: keeping a
// deleted message findable would be the worse mistake.
func (ix indexer) mayDeleteOthers(room, user string, seq int64) bool {
	var kind, role string
	err := ix.tx.QueryRow(`SELECT kind, role FROM entries WHERE room=? AND seq<? AND
		((kind='role' AND target=?) OR (kind IN ('join', 'create') AND sender=?)) ORDER BY seq DESC LIMIT 1`,
		room, seq, user, user).Scan(&kind, &role)
	if err != nil {
		return true
	}
	if kind == string(proto.KindCreate) {
		return true
	}
	return proto.Role(role).Rank() >= proto.RoleModerator.Rank()
}

// searchText is what a body says: its text parts (every alternative) and
// its attachments' names and descriptions. The snippet markers are kept out.
func searchText(b *content.NestedPart) string {
	var parts []string
	var walk func(p *content.NestedPart)
	walk = func(p *content.NestedPart) {
		if p.Disposition == content.Reaction {
			return
		}
		switch p.Cardinality {
		case content.Single:
			switch {
			case content.IsMarkdownType(p.ContentType):
				parts = append(parts, markdownWords(string(p.Content)))
			case content.IsTextType(p.ContentType):
				parts = append(parts, string(p.Content))
			}
		case content.External:
			if p.External != nil {
				parts = append(parts, p.External.Filename, p.External.Description)
			}
		case content.Multi:
			for i := range p.Parts {
				walk(&p.Parts[i])
			}
		}
	}
	walk(b)
	return strings.NewReplacer(markOpen, "\uFFFD", markClose, "\uFFFD").Replace(strings.Join(parts, "\n"))
}

// mdLink is a Markdown link: its text and its target.
var mdLink = regexp.MustCompile(`\[([^\]\n]*)\]\(([^)\s]*)\)`)

// markdownWords is Markdown source as a reader sees it, for the index and
// its snippets: a mention link is its text (@Name, not the user's URI),
// another link its text and target, and emphasis and code marks go.
func markdownWords(md string) string {
	md = mdLink.ReplaceAllStringFunc(md, func(l string) string {
		sub := mdLink.FindStringSubmatch(l)
		if strings.HasPrefix(sub[2], "mimi:") || sub[1] == sub[2] {
			return sub[1]
		}
		return sub[1] + " " + sub[2]
	})
	return strings.NewReplacer("**", "", "__", "", "~~", "", "`", "").Replace(md)
}

// markOpen and markClose bracket matches in FTS5's snippet; searchText
// replaces them in message text, so the markers are unambiguous.
const (
	markOpen  = "\x01"
	markClose = "\x02"
)

// SearchHit is one message found.
type SearchHit struct {
	Room   string
	ID     content.MessageID // the first version's ID
	Seq    uint64
	Time   time.Time
	Sender string
	// Snippet is the text around the match, in spans; Match spans are
	// what the query matched. Network text: sanitize before showing.
	Snippet []SnippetSpan
}

// SnippetSpan is a piece of a snippet.
type SnippetSpan struct {
	Text  string
	Match bool
}

// ErrEmptyQuery is returned for a query with no word to look for.
var ErrEmptyQuery = errors.New("search: the query has no word to look for")

// Search indexes what is queued, then finds messages whose current text
// has every word of query (the last as a prefix, so results follow typing),
// newest first, at most limit. room "" searches every room.
func (s *Store) Search(ctx context.Context, query, room string, limit int) ([]SearchHit, error) {
	match := ftsQuery(query)
	if match == "" {
		return nil, ErrEmptyQuery
	}
	if _, err := s.IndexPending(ctx); err != nil {
		return nil, err
	}
	q := `SELECT d.room, d.msg_id, d.seq, d.hub_ms, d.sender,
		snippet(search_fts, 0, '` + markOpen + `', '` + markClose + `', '…', 16)
		FROM search_fts JOIN search_docs d ON d.docid = search_fts.rowid
		WHERE search_fts MATCH ?`
	args := []any{match}
	if room != "" {
		q += ` AND d.room = ?`
		args = append(args, room)
	}
	q += ` ORDER BY search_fts.rowid DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("session: search %q: %w", query, err)
	}
	defer rows.Close()
	var out []SearchHit
	for rows.Next() {
		var (
			h       SearchHit
			id      []byte
			seq, ms int64
			snip    string
		)
		if err := rows.Scan(&h.Room, &id, &seq, &ms, &h.Sender, &snip); err != nil {
			return nil, fmt.Errorf("session: search: %w", err)
		}
		copy(h.ID[:], id)
		h.Seq, h.Time, h.Snippet = uint64(seq), msTime(ms), splitSnippet(snip)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("session: search: %w", err)
	}
	return out, nil
}

// ftsQuery turns what the user typed into an FTS5 query: each word a quoted
// string (so no FTS5 syntax can be typed by accident), the last one a
// prefix. Words with no letter or digit are dropped (the tokenizer would
// find nothing in them).
func ftsQuery(text string) string {
	var words []string
	for _, w := range strings.Fields(text) {
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
			continue
		}
		words = append(words, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
	}
	if len(words) == 0 {
		return ""
	}
	words[len(words)-1] += "*"
	return strings.Join(words, " ")
}

func splitSnippet(s string) []SnippetSpan {
	var out []SnippetSpan
	for s != "" {
		i := strings.Index(s, markOpen)
		if i < 0 {
			out = append(out, SnippetSpan{Text: s})
			break
		}
		if i > 0 {
			out = append(out, SnippetSpan{Text: s[:i]})
		}
		s = s[i+len(markOpen):]
		j := strings.Index(s, markClose)
		if j < 0 {
			j = len(s)
		}
		out = append(out, SnippetSpan{Text: s[:j], Match: true})
		s = s[min(len(s), j+len(markClose)):]
	}
	return out
}
