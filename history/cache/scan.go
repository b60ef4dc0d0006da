package cache

import (
	"mimichat/history"
	"mimichat/session"
)

// scanPage is how many cached entries a scan holds in memory at a time.
const scanPage = 2048

// Scan calls fn for every cached item of room in hub order, one page of the
// cache in memory at a time.
func Scan(st *session.Store, room string, fn func(*history.Item) error) error {
	return scanEntries(st, room, func(_ *session.Entry, it *history.Item) error { return fn(it) })
}

// scanEntries is Scan with each item's entry.
func scanEntries(st *session.Store, room string, fn func(*session.Entry, *history.Item) error) error {
	var after uint64
	for {
		page, err := st.After(room, after, scanPage)
		if err != nil {
			return err
		}
		for i := range page {
			if it, ok := ItemFromEntry(&page[i]); ok {
				if err := fn(&page[i], &it); err != nil {
					return err
				}
			}
			after = page[i].Seq
		}
		if len(page) < scanPage {
			return nil
		}
	}
}

// Source serves a cached room page by page as an export source (repeatable,
// as history.Export needs two passes).
func Source(st *session.Store, room string) history.Source {
	return func(fn func(*history.Item) error) error { return Scan(st, room, fn) }
}
