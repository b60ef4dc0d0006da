package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultWALReserve is the reserve that suits the relay's WAL
// (Options.WALReserve; `mimichat relay --wal-reserve 80M`): walLimit, where
// the writer restarts the log, plus what a busy writer commits before the
// checkpointer's next look flags it. No relay keeps one unless told to:
// see reserveWAL.
const DefaultWALReserve = walLimit + 16<<20

// reserveWAL grows the WAL file to size bytes of written zeros, once at
// open. A commit then overwrites blocks the file already has, so its
// fdatasync writes data alone: appending to the file made every commit's
// fdatasync also commit the filesystem's journal (the file's new size and
// blocks), which waits for every other file's metadata and ordered data in
// that journal transaction (the checkpoint growing the database, other
// processes): on this machine's ext4 the slowest of 1,000 paced fdatasyncs
// took 13–30 ms appending and 3–5 ms overwriting (a first quiet
// measurement; BenchmarkFdatasync). But in 20 quiet runs of each, the
// relay's paced p99 (LatencyAt1000/full) was no better with a reserve
// (median 10.2 ms) than without (8.1 ms), and the reserve costs its size
// on disk and its write at every start: so it is an operator's choice,
// off by default (docs/performance.md, "Paced latency").
// journal_size_limit keeps the file at size once the WAL restarts.
//
// Only bytes past the file's end are written, and no connection writes
// while Open runs: the WAL's frames are untouched, and SQLite reads the
// zeros after them as the end of the log (a frame must carry the header's
// salts and a running checksum). A WAL file created here was not created
// by SQLite, which syncs the directory of a WAL it creates: so is it here.
func reserveWAL(path string, size int64) error {
	wal := path + "-wal"
	_, statErr := os.Stat(wal)
	created := os.IsNotExist(statErr)
	f, err := os.OpenFile(wal, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite store: reserve the WAL: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlite store: reserve the WAL: %w", err)
	}
	if fi.Size() >= size {
		return nil
	}
	zeros := make([]byte, 1<<20)
	for off := fi.Size(); off < size; {
		n := min(int64(len(zeros)), size-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return fmt.Errorf("sqlite store: reserve the WAL: %w", err)
		}
		off += n
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sqlite store: reserve the WAL: %w", err)
	}
	if created {
		d, err := os.Open(filepath.Dir(wal))
		if err != nil {
			return fmt.Errorf("sqlite store: reserve the WAL: %w", err)
		}
		defer d.Close()
		if err := d.Sync(); err != nil {
			return fmt.Errorf("sqlite store: reserve the WAL: %w", err)
		}
	}
	return nil
}
