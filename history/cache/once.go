package cache

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"mimichat/history"
	"mimichat/proto"
	"mimichat/session"
)

// OnceSource serves a cached room to history.Export, which makes two
// passes, while reading the store once: the first pass spills the rows it
// reads to an unlinked temporary file in a flat binary form, later passes
// read that back. Reading and converting SQLite rows was half of a 100k
// export's CPU (issue 18: `mimichat export` read the store twice); the
// spill costs a sequential write and read of about the rows' bytes, and
// memory stays one page, as with Source.
type OnceSource struct {
	st    *session.Store
	room  string
	dir   string
	spill *os.File
	n     int // entries spilled
}

// NewOnceSource prepares room of st; the spill goes to dir ("" for the
// system's temporary directory). Close removes it.
func NewOnceSource(st *session.Store, room, dir string) *OnceSource {
	return &OnceSource{st: st, room: room, dir: dir}
}

// Source is the history.Source to export from.
func (s *OnceSource) Source() history.Source {
	return func(fn func(*history.Item) error) error {
		if s.spill == nil {
			return s.first(fn)
		}
		return s.again(fn)
	}
}

// Close removes the spill.
func (s *OnceSource) Close() error {
	if s.spill == nil {
		return nil
	}
	err := s.spill.Close()
	os.Remove(s.spill.Name()) // already gone where an open file can be unlinked
	return err
}

func (s *OnceSource) first(fn func(*history.Item) error) error {
	f, err := os.CreateTemp(s.dir, ".mimichat-export-spill-*")
	if err != nil {
		return fmt.Errorf("cache: export spill: %w", err)
	}
	s.spill = f
	os.Remove(f.Name()) // the open file stays readable, and nothing is left behind if the process dies
	w := bufio.NewWriterSize(f, 256<<10)
	var buf []byte
	// One query streams the room (the entry's bytes are valid only during
	// the call: they are spilled, and the plan's first pass keeps none).
	err = s.st.EachEntry(s.room, func(e *session.Entry) error {
		it, ok := ItemFromEntry(e)
		if !ok {
			return nil
		}
		buf = appendEntry(buf[:0], e)
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("cache: export spill: %w", err)
		}
		s.n++
		return fn(&it)
	})
	if err == nil {
		if err = w.Flush(); err != nil {
			err = fmt.Errorf("cache: export spill: %w", err)
		}
	}
	if err != nil {
		s.spill.Close()
		s.spill = nil
	}
	return err
}

func (s *OnceSource) again(fn func(*history.Item) error) error {
	if _, err := s.spill.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("cache: export spill: %w", err)
	}
	sr := spillReader{r: bufio.NewReaderSize(s.spill, 256<<10), names: map[string]string{}}
	for range s.n {
		it, err := sr.item()
		if err != nil {
			return fmt.Errorf("cache: export spill: %w", err)
		}
		if err := fn(&it); err != nil {
			return err
		}
	}
	return nil
}

// An entry is spilled flat: seq, time, kind, sender, and the ID and raw
// bytes of a message or the target, role, value and reason of a room
// operation, each string with its length: what ItemFromEntry reads.
func appendEntry(b []byte, e *session.Entry) []byte {
	b = binary.AppendUvarint(b, e.Seq)
	b = binary.AppendVarint(b, e.Time.UnixMilli())
	b = appendString(b, string(e.Kind))
	b = appendString(b, e.Sender)
	if e.IsMessage() {
		b = append(b, e.ID[:]...)
		return appendString(b, string(e.Raw))
	}
	for _, s := range []string{e.Target, string(e.Role), e.Value, e.Reason} {
		b = appendString(b, s)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// spillReader reads spilled entries back. The few distinct short strings
// (kinds, senders, roles) are interned: a 100k export read 200,000 copies
// of a few dozen names.
type spillReader struct {
	r       *bufio.Reader
	scratch []byte
	names   map[string]string
}

func (sr *spillReader) item() (history.Item, error) {
	r := sr.r
	seq, err := binary.ReadUvarint(r)
	if err != nil {
		return history.Item{}, err
	}
	ms, err := binary.ReadVarint(r)
	if err != nil {
		return history.Item{}, err
	}
	e := session.Entry{Seq: seq, Time: time.UnixMilli(ms).UTC()}
	var kind string
	for _, p := range []*string{&kind, &e.Sender} {
		if *p, err = sr.name(); err != nil {
			return history.Item{}, err
		}
	}
	e.Kind = proto.Kind(kind)
	if e.IsMessage() {
		if _, err := io.ReadFull(r, e.ID[:]); err != nil {
			return history.Item{}, err
		}
		if e.Raw, err = sr.bytes(); err != nil {
			return history.Item{}, err
		}
	} else {
		var role string
		for _, p := range []*string{&e.Target, &role, &e.Value, &e.Reason} {
			if *p, err = sr.name(); err != nil {
				return history.Item{}, err
			}
		}
		e.Role = proto.Role(role)
	}
	it, ok := ItemFromEntry(&e)
	if !ok {
		return it, errors.New("a spilled entry no longer converts")
	}
	return it, nil
}

// spillLen reads a length.
func (sr *spillReader) spillLen() (int, error) {
	n, err := binary.ReadUvarint(sr.r)
	if err != nil {
		return 0, err
	}
	if n > 1<<30 {
		return 0, errors.New("length out of range")
	}
	return int(n), nil
}

// bytes reads a length-prefixed byte string into a slice of its own.
func (sr *spillReader) bytes() ([]byte, error) {
	n, err := sr.spillLen()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = io.ReadFull(sr.r, b)
	return b, err
}

// name reads a length-prefixed string, interned when short.
func (sr *spillReader) name() (string, error) {
	n, err := sr.spillLen()
	if err != nil {
		return "", err
	}
	if n > 256 {
		b := make([]byte, n)
		_, err = io.ReadFull(sr.r, b)
		return string(b), err
	}
	sr.scratch = slices.Grow(sr.scratch[:0], n)[:n]
	if _, err := io.ReadFull(sr.r, sr.scratch); err != nil {
		return "", err
	}
	if s, ok := sr.names[string(sr.scratch)]; ok {
		return s, nil
	}
	s := string(sr.scratch)
	if len(sr.names) < 4096 {
		sr.names[s] = s
	}
	return s, nil
}
