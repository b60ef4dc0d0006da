package cache

import (
	"errors"
	"fmt"
	"io"
	"os"

	"mimichat/content"
	"mimichat/history"
	"mimichat/proto"
	"mimichat/session"
)

// ImportFile reads a history file of any format and merges it into the
// cache in one transaction, so a bad file or a failed commit changes
// nothing. room overrides the room named by the file ("" keeps it).
//
// The file is streamed: it is parsed on one goroutine while the entries are
// written on this one, and no more than a channel's worth of items is in
// memory. A room the cache does not hold is numbered from 1. Into a cached
// room the entries go below the cached run, at low-n..low-1: a file that can
// be read again by offset is counted on another goroutine meanwhile
// (history.CountVCon) and, once the count is in, written as it is read;
// otherwise (a pipe, a format or file the count cannot follow) session
// holds them, or stages them, until the commit knows n. Only a file that
// names its room at its end (none of ours) is collected and merged by Import.
func ImportFile(st *session.Store, r io.Reader, room string) (history.Format, *history.Report, *ImportResult, error) {
	type readDone struct {
		f   history.Format
		h   *history.History
		rep *history.Report
		err error
	}
	// Items cross in batches: one channel hand-over per item woke the
	// writer 100,000 times for a 100k file (futex and scheduler spinning
	// were a tenth of the process's CPU). Used batches come back for reuse.
	batches := make(chan []history.Item, 4)
	free := make(chan []history.Item, 6)
	stop := make(chan struct{})
	done := make(chan readDone, 1)
	go func() {
		batch := make([]history.Item, 0, importBatch)
		send := func() bool {
			select {
			case batches <- batch:
			case <-stop:
				return false
			}
			select {
			case batch = <-free:
				batch = batch[:0]
			default:
				batch = make([]history.Item, 0, importBatch)
			}
			return true
		}
		f, h, rep, err := history.Read(r, func(it *history.Item) error {
			if batch = append(batch, *it); len(batch) == importBatch && !send() {
				return errImportStopped
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			send()
		}
		close(batches)
		done <- readDone{f, h, rep, err}
	}()
	imp := &fileImport{st: st, override: room, room: room, res: &ImportResult{Room: room}}
	imp.file, imp.fileSize, _ = fileAt(r)
	defer imp.stopCount()
	var err error
	for batch := range batches {
		if err == nil {
			if err = imp.takeCount(false); err != nil {
				close(stop)
			}
		}
		for i := range batch {
			if err != nil {
				break
			}
			if err = imp.add(&batch[i]); err != nil {
				close(stop)
			}
		}
		clear(batch) // the items' bytes are in the entries now (or dropped)
		select {
		case free <- batch:
		default:
		}
	}
	d := <-done
	if err == nil {
		err = d.err
	}
	if err != nil {
		imp.abandon()
		return d.f, d.rep, nil, err
	}
	res, err := imp.finish(d.h)
	if res != nil && res.Duplicates > 0 {
		d.rep.Note("entries already in the cache (skipped)", res.Duplicates)
	}
	return d.f, d.rep, res, err
}

// importBatch is how many parsed items cross from the reader to the writer
// at a time.
const importBatch = 256

var errImportStopped = errors.New("history cache: import stopped")

// fileImport decides at the first item whether it can stream (a room not
// cached) or must collect the items for Import.
type fileImport struct {
	st       *session.Store
	override string // the caller's room, "" = the file's
	room     string
	started  bool
	tx       *session.ImportTx // streaming
	below    bool              // into a cached room, below its run
	items    []history.Item    // collecting
	seen     map[content.MessageID]bool
	events   map[content.RoomEvent]bool
	res      *ImportResult
	// Below a cached run, a regular file is counted on a goroutine of its
	// own (history.CountVCon) while it is read: once the count is in,
	// the entries are written as they come (session.ImportTx.ExpectBelow)
	// instead of after the whole file.
	file      io.ReaderAt
	fileSize  int64
	counted   chan uint64 // the count, once; closed without one when there is none
	countStop chan struct{}
	countDone chan struct{}
}

// fileAt is the file under r when it can be read again by offset: a
// regular file (also under a progress reader) or an in-memory reader.
func fileAt(r io.Reader) (io.ReaderAt, int64, bool) {
	if p, ok := r.(*history.ProgressReader); ok {
		r = p.R
	}
	switch f := r.(type) {
	case *os.File:
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return nil, 0, false
		}
		return f, st.Size(), true
	case interface {
		io.ReaderAt
		Size() int64
	}:
		return f, f.Size(), true
	}
	return nil, 0, false
}

// startCount counts the file's new entries: the items CountVCon finds
// that are neither cached (seen, events: the cached run's, before any of
// the file's went in) nor given twice.
func (fi *fileImport) startCount() {
	if fi.file == nil {
		return
	}
	seen := make(map[content.MessageID]bool, len(fi.seen))
	for id := range fi.seen {
		seen[id] = true
	}
	events := make(map[content.RoomEvent]bool, len(fi.events))
	for k := range fi.events {
		events[k] = true
	}
	counted, stop, done := make(chan uint64, 1), make(chan struct{}), make(chan struct{})
	fi.counted, fi.countStop, fi.countDone = counted, stop, done
	file, size := fi.file, fi.fileSize
	go func() {
		defer close(done)
		defer close(counted)
		var n uint64
		ok := history.CountVCon(file, size, stop, func(it *history.Item) {
			if it.Event == nil {
				if !seen[it.ID] {
					seen[it.ID] = true
					n++
				}
				return
			}
			if k := eventKey(it.Event); !events[k] {
				events[k] = true
				n++
			}
		})
		if ok {
			counted <- n
		}
	}()
}

// takeCount hands the count to the import once it is in (a count it
// cannot take leaves the import as it was); wait: until it is in, as at
// the end of the file, where a count still saves holding the last rows.
func (fi *fileImport) takeCount(wait bool) error {
	if fi.counted == nil || fi.tx == nil {
		return nil
	}
	var n uint64
	var ok bool
	if wait {
		n, ok = <-fi.counted
	} else {
		select {
		case n, ok = <-fi.counted:
		default:
			return nil
		}
	}
	fi.counted = nil
	if ok {
		if _, err := fi.tx.ExpectBelow(n); err != nil {
			return fmt.Errorf("history cache: import into %s: %w", fi.room, err)
		}
	}
	return nil
}

// stopCount ends the counting goroutine and waits for it, so the file is
// not read after the import returns.
func (fi *fileImport) stopCount() {
	if fi.countStop == nil {
		return
	}
	close(fi.countStop)
	<-fi.countDone
	fi.countStop = nil
}

func (fi *fileImport) add(it *history.Item) error {
	if !fi.started {
		fi.started = true
		if err := fi.begin(it.Room); err != nil {
			return err
		}
	}
	if fi.tx == nil {
		fi.items = append(fi.items, *it)
		return nil
	}
	if it.Event == nil {
		if fi.seen[it.ID] {
			fi.res.Duplicates++
			return nil
		}
		fi.seen[it.ID] = true
	} else {
		k := eventKey(it.Event)
		if fi.events[k] {
			fi.res.Duplicates++
			return nil
		}
		fi.events[k] = true
	}
	if fi.below && fi.tx.Added()+1 >= fi.tx.Low() {
		return fmt.Errorf("%w: more than %d entries below seq %d", ErrNoRoomBelow, fi.tx.Low()-1, fi.tx.Low())
	}
	e := EntryFromItem(fi.room, fi.tx.Next(), it)
	if err := fi.tx.Add(e); err != nil {
		return fmt.Errorf("history cache: import into %s: %w", fi.room, err)
	}
	fi.res.Imported++
	return nil
}

// begin picks the mode: stream into a new room when the room is known now
// and not cached.
func (fi *fileImport) begin(fileRoom string) error {
	if fi.room == "" {
		fi.room = fileRoom
	}
	if fi.room == "" {
		return nil // named at the end of the file: collect
	}
	fi.seen, fi.events = map[content.MessageID]bool{}, map[content.RoomEvent]bool{}
	tx, err := fi.st.BeginImport(fi.room)
	if errors.Is(err, session.ErrRoomCached) {
		// Below the cached run: the cached messages' IDs and room events go
		// into the sets the file's own duplicates are found in. One paged
		// scan costs far less than an index lookup per imported message
		// (0.8 s for 100k), and the sets grow with the cache, not the file.
		err = Scan(fi.st, fi.room, func(it *history.Item) error {
			if it.Event != nil {
				fi.events[eventKey(it.Event)] = true
			} else {
				fi.seen[it.ID] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		tx, err = fi.st.BeginImportBelow(fi.room)
		fi.below = true
		if err == nil {
			fi.startCount()
		}
	}
	if err != nil {
		return err
	}
	fi.tx = tx
	fi.res = &ImportResult{Room: fi.room, NewRoom: !fi.below}
	return nil
}

func (fi *fileImport) abandon() {
	if fi.tx != nil {
		fi.tx.Rollback()
	}
}

func (fi *fileImport) finish(h *history.History) (*ImportResult, error) {
	if fi.tx == nil {
		return Import(fi.st, h, fi.items, fi.override)
	}
	if fi.res.Imported == 0 {
		fi.tx.Rollback()
		fi.res.NewRoom = false
		if fi.below {
			return fi.res, saveProfile(fi.st, fi.room, h) // the names may be new
		}
		return fi.res, nil
	}
	if err := fi.tx.SaveProfile(profileOf(h)); err != nil {
		return fi.res, fmt.Errorf("history cache: import into %s: %w", fi.room, err)
	}
	if fi.below {
		if err := fi.takeCount(true); err != nil {
			return fi.res, err
		}
		fi.res.Counted = fi.tx.Expected()
		if _, err := fi.tx.Commit(session.Room{}); err != nil {
			fi.res.Counted = false
			if errors.Is(err, session.ErrNoSeqsBelow) {
				err = fmt.Errorf("%w: %w", ErrNoRoomBelow, err)
			}
			return fi.res, fmt.Errorf("history cache: import into %s: %w", fi.room, err)
		}
		return fi.res, nil
	}
	meta := session.Room{ID: fi.room, Name: h.Room.Name, Topic: h.Room.Subject, State: proto.StateNone}
	if _, err := fi.tx.Commit(meta); err != nil {
		return fi.res, fmt.Errorf("history cache: import into %s: %w", fi.room, err)
	}
	return fi.res, nil
}
