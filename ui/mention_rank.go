package ui

import (
	"sort"
	"strings"
	"unicode"
)

// mentionRank ranks a member for the @ completion query q (lower case),
// name being the name shown and uri the user's URI; lower is better, -1
// no match:
//
//	0 the name starts with q
//	1 a word of the name starts with q
//	2 the URI's last segment (the user's local name) starts with q
//	3 the name or that segment contains q
//	4 the whole URI contains q, only when q looks like an address (it has
//	  a '/', ':' or '.')
//
// Before, any member whose URI contained q was listed: "@e" listed everyone
// of example.com, in the room's order.
func mentionRank(q, name, uri string) int {
	name = strings.ToLower(name)
	uri = strings.ToLower(uri)
	local := uri[strings.LastIndexByte(uri, '/')+1:]
	switch {
	case strings.HasPrefix(name, q):
		return 0
	case wordStarts(name, q):
		return 1
	case strings.HasPrefix(local, q):
		return 2
	case strings.Contains(name, q) || strings.Contains(local, q):
		return 3
	case strings.ContainsAny(q, "/:.") && strings.Contains(uri, q):
		return 4
	}
	return -1
}

// wordStarts reports whether a word of s (letters and digits) starts with q.
func wordStarts(s, q string) bool {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if strings.HasPrefix(w, q) {
			return true
		}
	}
	return false
}

// sortByRank orders items by ranks (one per item), keeping the order of
// items of the same rank.
func sortByRank(items []compItem, ranks []int) {
	sort.Stable(byRank{items, ranks})
}

type byRank struct {
	items []compItem
	ranks []int
}

func (b byRank) Len() int           { return len(b.items) }
func (b byRank) Less(i, j int) bool { return b.ranks[i] < b.ranks[j] }
func (b byRank) Swap(i, j int) {
	b.items[i], b.items[j] = b.items[j], b.items[i]
	b.ranks[i], b.ranks[j] = b.ranks[j], b.ranks[i]
}
