package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
)

// keyFilter is a Bloom filter over the key prefixes in submit_index, so
// that a lookup of a new key (nearly every submit) does not probe the
// index: a submit's key is a hash, so each probe lands on a random leaf
// of an index that grows with the store, and right after a start those
// leaves are not in the writer's cache yet (findKeys was 15-22 % of the
// relay's CPU at 1 M stored events, BenchmarkSubmitsStored). A key the
// filter does not have is in no row of submit_index; one it has may be
// (about 1 in 1,700 absent keys at the filter's capacity), and is probed.
//
// The invariant: every prefix in submit_index is in the filter or in the
// tail (keyTail.ids). The merge adds a slice's prefixes before inserting
// them; deleted events leave their prefixes in the filter (a false
// positive, no more). The filter is saved in submit_filter in the
// transaction that ends a merge, with the tail's n it covers up to
// (meta submit_filter_through): the keys of a merge cut off by a crash are
// still in the tail at the next open. If the saved filter is missing or
// does not fit the tail (a database of an older relay, or one an older
// relay merged into since), it is built again from submit_index at open.
//
// It grows in parts: once the last part holds its capacity, the next key
// starts a part twice the size of all before it, so the false positives
// stay near one part's rate times the number of parts (a few) without
// rebuilding anything.
type keyFilter struct {
	parts []*filterPart
}

// filterPart is one Bloom filter of 1<<logBits bits.
type filterPart struct {
	words    []uint64
	mask     uint64
	keys     int // prefixes added
	capacity int // prefixes it takes at filterBitsPerKey
	dirty    bool
}

const (
	filterBitsPerKey = 16 // with filterHashes: 0.06 % false positives at capacity
	filterHashes     = 8
)

func newFilterPart(capacity int) *filterPart {
	nbits := uint64(1) << bits.Len64(uint64(max(capacity*filterBitsPerKey, 512)-1))
	return &filterPart{words: make([]uint64, nbits/64), mask: nbits - 1, capacity: capacity, dirty: true}
}

// filterHash spreads a prefix into the two hashes whose combinations
// h1 + i*h2 pick the bits (a prefix need not be a hash's: keys shorter
// than 8 bytes are padded).
func filterHash(k uint64) (uint64, uint64) {
	mix := func(z uint64) uint64 { // splitmix64's finalizer
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	h1 := mix(k + 0x9e3779b97f4a7c15)
	return h1, mix(h1) | 1
}

func (p *filterPart) add(k uint64) {
	h1, h2 := filterHash(k)
	for i := range uint64(filterHashes) {
		b := (h1 + i*h2) & p.mask
		p.words[b>>6] |= 1 << (b & 63)
	}
	p.keys++
	p.dirty = true
}

func (p *filterPart) has(k uint64) bool {
	h1, h2 := filterHash(k)
	for i := range uint64(filterHashes) {
		b := (h1 + i*h2) & p.mask
		if p.words[b>>6]&(1<<(b&63)) == 0 {
			return false
		}
	}
	return true
}

// add adds k to the last part, starting a new one when it is full;
// firstCap is the first part's capacity.
func (f *keyFilter) add(k uint64, firstCap int) {
	if len(f.parts) == 0 {
		f.parts = append(f.parts, newFilterPart(firstCap))
	}
	last := f.parts[len(f.parts)-1]
	if last.keys >= last.capacity {
		total := 0
		for _, p := range f.parts {
			total += p.capacity
		}
		last = newFilterPart(2 * total)
		f.parts = append(f.parts, last)
	}
	last.add(k)
}

func (f *keyFilter) has(k uint64) bool {
	for _, p := range f.parts {
		if p.has(k) {
			return true
		}
	}
	return false
}

const filterTable = `CREATE TABLE IF NOT EXISTS submit_filter(part INTEGER PRIMARY KEY, keys INTEGER NOT NULL, capacity INTEGER NOT NULL, bits BLOB NOT NULL);`

// saveFilter writes the filter's changed parts and the tail's n it covers
// (every key of submit_index is in the filter or in a tail row above
// through) in tx.
func saveFilter(ctx context.Context, tx *sql.Tx, f *keyFilter, through int64) error {
	for i, p := range f.parts {
		if !p.dirty {
			continue
		}
		b := make([]byte, 8*len(p.words))
		for j, w := range p.words {
			binary.LittleEndian.PutUint64(b[8*j:], w)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO submit_filter(part, keys, capacity, bits) VALUES(?,?,?,?)`,
			i, p.keys, p.capacity, b); err != nil {
			return fmt.Errorf("sqlite store: save the key filter: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('submit_filter_through', ?)
		ON CONFLICT(key) DO UPDATE SET value=excluded.value`, strconv.FormatInt(through, 10)); err != nil {
		return fmt.Errorf("sqlite store: save the key filter: %w", err)
	}
	return nil
}

// cleanFilter marks every part saved (after the commit that saved them).
func (f *keyFilter) clean() {
	for _, p := range f.parts {
		p.dirty = false
	}
}

// loadFilter reads the saved filter at open, or builds it from
// submit_index when none fits the tail: tailMin is the lowest n in
// submit_tail (0 if empty), lastN the highest n ever given.
func (s *Store) loadFilter(ctx context.Context, tailMin, lastN int64) error {
	t := &s.keys
	t.filter = keyFilter{}
	through := int64(-1)
	var v string
	switch err := s.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='submit_filter_through'`).Scan(&v); err {
	case nil:
		if n, perr := strconv.ParseInt(v, 10, 64); perr == nil {
			through = n
		}
	case sql.ErrNoRows:
	default:
		return fmt.Errorf("sqlite store: read the key filter: %w", err)
	}
	// Every key given an n above through must still be in the tail: the
	// tail starts right after through (or is empty with nothing given
	// since). Otherwise keys went to submit_index without the filter.
	fits := through >= 0 && (tailMin == through+1 || (tailMin == 0 && lastN <= through))
	if fits {
		rows, err := s.w.QueryContext(ctx, `SELECT part, keys, capacity, bits FROM submit_filter ORDER BY part`)
		if err != nil {
			return fmt.Errorf("sqlite store: read the key filter: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var part, keys, capacity int
			var b []byte
			if err := rows.Scan(&part, &keys, &capacity, &b); err != nil {
				return fmt.Errorf("sqlite store: read the key filter: %w", err)
			}
			p := newFilterPart(capacity)
			if part != len(t.filter.parts) || len(b) != 8*len(p.words) {
				fits = false // not what saveFilter wrote: build it again
				break
			}
			for j := range p.words {
				p.words[j] = binary.LittleEndian.Uint64(b[8*j:])
			}
			p.keys, p.dirty = keys, false
			t.filter.parts = append(t.filter.parts, p)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite store: read the key filter: %w", err)
		}
		rows.Close()
		if fits && len(t.filter.parts) > 0 {
			return nil
		}
	}
	return s.buildFilter(ctx, tailMin, lastN)
}

// buildFilter fills a new filter with every prefix of submit_index and
// saves it (once per database from before the filter: about 0.5 s per
// million keys).
func (s *Store) buildFilter(ctx context.Context, tailMin, lastN int64) error {
	t := &s.keys
	t.filterBuilds++
	var count int
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM submit_index`).Scan(&count); err != nil {
		return fmt.Errorf("sqlite store: build the key filter: %w", err)
	}
	t.filter = keyFilter{parts: []*filterPart{newFilterPart(max(t.minKeys, 2*count))}}
	rows, err := s.w.QueryContext(ctx, `SELECT k FROM submit_index`)
	if err != nil {
		return fmt.Errorf("sqlite store: build the key filter: %w", err)
	}
	defer rows.Close()
	p := t.filter.parts[0]
	for rows.Next() {
		var k sql.RawBytes
		if err := rows.Scan(&k); err != nil {
			return fmt.Errorf("sqlite store: build the key filter: %w", err)
		}
		p.add(prefix(k))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite store: build the key filter: %w", err)
	}
	rows.Close()
	through := lastN
	if tailMin > 0 {
		through = tailMin - 1
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: save the key filter: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM submit_filter`); err != nil {
		return fmt.Errorf("sqlite store: save the key filter: %w", err)
	}
	if err := saveFilter(ctx, tx, &t.filter, through); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: save the key filter: %w", err)
	}
	t.filter.clean()
	return nil
}
