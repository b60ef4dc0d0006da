package config

import (
	"fmt"
	"strings"
	"unicode"
)

// Notify is the [notify] table: what counts as a mention beyond a link to
// the user. The per-room notification level (all, mentions, none) is set
// in the client (/notify, the room list) and kept in its cache.
type Notify struct {
	// Highlight words count as mentions (the room list's @N, the bell)
	// and are highlighted in the timeline: case-insensitive, whole words.
	Highlight []string `toml:"highlight"`
}

// maxHighlight bounds one highlight word; maxHighlights the list.
const (
	maxHighlight  = 64
	maxHighlights = 64
)

// validate checks each word: not empty, no control characters, bounded.
func (n *Notify) validate() error {
	if len(n.Highlight) > maxHighlights {
		return &Error{Key: "notify.highlight", Err: fmt.Errorf("%d words, at most %d", len(n.Highlight), maxHighlights)}
	}
	for i, w := range n.Highlight {
		key := fmt.Sprintf("notify.highlight[%d]", i)
		switch {
		case strings.TrimSpace(w) == "":
			return &Error{Key: key, Err: fmt.Errorf("empty word")}
		case len([]rune(w)) > maxHighlight:
			return &Error{Key: key, Err: fmt.Errorf("%d characters, at most %d", len([]rune(w)), maxHighlight)}
		}
		for _, r := range w {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				return &Error{Key: key, Err: fmt.Errorf("word %q contains control character %U", w, r)}
			}
		}
	}
	return nil
}
