package history

import (
	"io"

	"mimichat/session"
)

// ImportFile reads a history file of any format and merges it into the
// cache in one transaction: the whole file is parsed and checked before
// anything is written, so a bad file or a failed commit changes nothing.
// room overrides the room named by the file ("" keeps it).
func ImportFile(st *session.Store, r io.Reader, room string) (Format, *Report, *ImportResult, error) {
	var items []Item
	f, h, rep, err := Read(r, func(it *Item) error {
		items = append(items, *it)
		return nil
	})
	if err != nil {
		return f, rep, nil, err
	}
	res, err := ImportIntoStore(st, h, items, room)
	if res != nil && res.Duplicates > 0 {
		rep.Note("entries already in the cache (skipped)", res.Duplicates)
	}
	return f, rep, res, err
}
