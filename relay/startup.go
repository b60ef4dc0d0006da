package relay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"mimichat/internal/flock"
	"mimichat/relay/store/sqlite"
)

// LockFile is the relay's lock inside its data directory. The relay takes
// it before touching anything else there: two relays on one directory each
// assign sequence numbers from their own memory (subscribers miss events,
// bans through one are unseen by the other) and a second one's start-up
// would empty the first's blobs/.tmp under an upload in progress.
const LockFile = "relay.lock"

// ErrDataInUse is wrapped by Start's error when another process holds the
// data directory's lock.
var ErrDataInUse = errors.New("relay: data directory is in use by another relay")

// lockData creates dir (0700) if needed and takes its lock.
func lockData(dir string) (*flock.Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("relay: data directory: %w", err)
	}
	l, err := flock.TryLock(filepath.Join(dir, LockFile), fmt.Sprintf("pid %d, mimichat relay", os.Getpid()))
	var held *flock.HeldError
	if errors.As(err, &held) {
		holder := held.Holder
		if holder == "" {
			holder = "holder unknown"
		}
		return nil, fmt.Errorf("%w: %s is locked by %s; stop that relay first, or give this one another --data", ErrDataInUse, dir, holder)
	}
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	return l, nil
}

// Check modes (Config.Check, --check).
const (
	CheckAuto  = "auto"
	CheckQuick = "quick"
	CheckOff   = "off"
)

// AutoCheckMax is the largest database CheckAuto checks whole at start
// (quick_check reads every page: 4.7-10.5 s per GB on the shared 2-core VM,
// so about 0.3 s at this size). A larger one gets the incremental check at
// start and the whole check in the background (docs/relay.md).
const AutoCheckMax = 32 << 20

// checkMode decides how this start checks the database.
func (c *Config) checkMode() (sqlite.CheckMode, error) {
	switch c.Check {
	case "", CheckAuto:
		fi, err := os.Stat(filepath.Join(c.Data, sqlite.File))
		if err != nil || fi.Size() <= c.CheckFullMax {
			return sqlite.CheckFull, nil
		}
		return sqlite.CheckIncremental, nil
	case CheckQuick:
		return sqlite.CheckFull, nil
	case CheckOff:
		return sqlite.CheckNone, nil
	}
	return sqlite.CheckNone, fmt.Errorf("relay: check mode %q is not %q, %q or %q", c.Check, CheckAuto, CheckQuick, CheckOff)
}

func checkModeName(m sqlite.CheckMode) string {
	switch m {
	case sqlite.CheckFull:
		return "full"
	case sqlite.CheckIncremental:
		return "incremental"
	}
	return "off"
}

// freshDir reports whether dir holds nothing but the relay's lock file: a
// new relay may create its database there. Anywhere else a missing or
// empty relay.db means a lost database, not a new relay.
func freshDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("relay: data directory: %w", err)
	}
	for _, e := range entries {
		if e.Name() != LockFile {
			return false, nil
		}
	}
	return true, nil
}

// openSQLite opens the data directory's database for a relay or an
// operator's command, refusing a lost or damaged one with what to do.
func openSQLite(dir, sync string, init bool, o sqlite.Options) (*sqlite.Store, error) {
	create := init
	if !create {
		fresh, err := freshDir(dir)
		if err != nil {
			return nil, err
		}
		create = fresh
	}
	o.Sync, o.Create = sync, create
	db, err := sqlite.OpenWith(dir, o)
	switch {
	case errors.Is(err, sqlite.ErrNoDatabase):
		return nil, fmt.Errorf("relay: %w.\nThe data directory %s holds other files, so this is a lost database, not a new relay: "+
			"starting would serve an empty relay (every user gone, every token refused). Restore relay.db from a backup "+
			"(mimichat relay backup), or give --init to start a new, empty relay here", err, dir)
	case errors.Is(err, sqlite.ErrDamaged):
		return nil, fmt.Errorf("relay: %w.\nRefusing to serve damaged events. %s", err, repairAdvice(dir))
	}
	return db, err
}

// repairAdvice says how to repair the damaged database in dir.
func repairAdvice(dir string) string {
	db := filepath.Join(dir, sqlite.File)
	return fmt.Sprintf("Stop every process using %s, then either restore the "+
		"latest backup (cp BACKUP %s; rm -f %s-wal %s-shm) or recover what is readable: "+
		"sqlite3 %s .recover | sqlite3 %s.recovered && mv %s.recovered %s (docs/relay.md, \"Start-up checks\")",
		dir, db, db, db, db, db, db, db)
}

// Backup writes a consistent copy of the relay database in dir to dest
// (which must not exist), beside a running relay: it reads through its own
// read-only connection and takes no lock. Blobs are files (blobs/ID,
// never changed once written): copy them beside it (docs/relay.md).
func Backup(dir, dest string) error {
	if err := sqlite.Backup(dir, dest); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	return nil
}
