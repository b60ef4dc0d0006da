package cache

import (
	"mimichat/history"
	"mimichat/session"
)

// ImportOffer merges a fetched history offer into the cache of room (one
// transaction; duplicates skipped). The result's Added entries are what the
// UI feeds to its timeline (session.Feed); they sit below the cached run.
func ImportOffer(st *session.Store, o history.Offer, room string) (*history.Report, *ImportResult, error) {
	var items []history.Item
	h, rep, err := history.ReadOffer(o, room, func(it *history.Item) error {
		items = append(items, *it)
		return nil
	})
	if err != nil {
		return rep, nil, err
	}
	res, err := Import(st, h, items, room)
	if res != nil {
		rep.Note("entries already in the cache (skipped)", res.Duplicates)
	}
	return rep, res, err
}
