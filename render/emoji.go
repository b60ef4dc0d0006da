package render

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

//go:generate go run ./internal/emojigen -o emoji_table.go

// Emoji shortcodes (the GitHub set, generated into emoji_table.go) for the
// composer's ":heart" completion and the reaction picker, ranked by what
// the user sends most, then by what people send most in general.

type emojiEntry struct {
	code  string // shortcode without colons: "heart"
	emoji string // "❤️"
	name  string // Unicode name: "red heart"
}

// Emoji is one completion or picker result.
type Emoji struct {
	Code  string // shortcode without colons
	Emoji string
	Name  string
}

// popular ranks shortcodes by general use, most used first, so completion
// offers "heart" before "heartbeat" and the picker has a sensible first row
// before the user has reacted to anything.
var popular = []string{
	"+1", "heart", "joy", "tada", "smile", "pray", "fire", "100", "rofl", "sob",
	"eyes", "clap", "raised_hands", "ok_hand", "thinking", "heart_eyes", "grin", "wink",
	"white_check_mark", "rocket", "sparkles", "laughing", "blush", "slightly_smiling_face",
	"sweat_smile", "muscle", "wave", "-1", "cry", "partying_face", "star_struck",
	"upside_down_face", "hugs", "see_no_evil", "facepalm", "shrug", "pensive", "smiley",
	"kissing_heart", "sunglasses", "heavy_check_mark", "x", "warning", "point_up",
	"scream", "rage", "confused", "relieved", "sleeping", "skull", "coffee", "beers",
	"cake", "gift", "star", "heart_eyes_cat", "hankey", "ghost", "unicorn", "dog", "cat",
	"broken_heart", "orange_heart", "yellow_heart", "green_heart", "blue_heart", "purple_heart",
}

var (
	emojiByCode   = map[string]*emojiEntry{}
	popularRank   = map[string]int{}  // emoji → rank in popular
	emojiNormSet  = map[string]bool{} // table emoji without FE0F and skin tones
	emojiBaseRune = map[rune]bool{}   // first rune of every table emoji
)

func init() {
	for i := range emojiTable {
		e := &emojiTable[i]
		emojiByCode[e.code] = e
		emojiNormSet[normEmoji(e.emoji)] = true
		r, _ := utf8.DecodeRuneInString(e.emoji)
		emojiBaseRune[r] = true
	}
	for i, c := range popular {
		if e, ok := emojiByCode[c]; ok {
			if _, seen := popularRank[e.emoji]; !seen {
				popularRank[e.emoji] = i
			}
		}
	}
}

// EmojiByCode returns the emoji of a shortcode ("heart" or ":heart:").
func EmojiByCode(code string) (string, bool) {
	e, ok := emojiByCode[strings.Trim(code, ":")]
	if !ok {
		return "", false
	}
	return e.emoji, true
}

// CompleteEmoji returns up to limit emoji whose shortcode starts with
// prefix (":hea" and "hea" alike), then those with a later "_" word that
// does ("eyes" finds heart_eyes). Within each group the user's own counts
// (usage: emoji → times sent) rank first, then general popularity, then
// shorter codes. One emoji appears once, under its best-matching code.
func CompleteEmoji(prefix string, limit int, usage map[string]int) []Emoji {
	prefix = strings.ToLower(strings.TrimPrefix(prefix, ":"))
	if prefix == "" {
		return MostUsedEmoji(usage, limit)
	}
	return rankEmoji(limit, usage, func(e *emojiEntry) int {
		switch {
		case e.code == prefix:
			return 0
		case strings.HasPrefix(e.code, prefix):
			return 1
		case strings.Contains(e.code, "_"+prefix):
			return 2
		}
		return -1
	})
}

// SearchEmoji is the reaction picker's search: shortcode matches as in
// CompleteEmoji, then emoji whose Unicode name contains the query.
func SearchEmoji(query string, limit int, usage map[string]int) []Emoji {
	q := strings.ToLower(strings.Trim(query, ": "))
	if q == "" {
		return MostUsedEmoji(usage, limit)
	}
	return rankEmoji(limit, usage, func(e *emojiEntry) int {
		switch {
		case e.code == q:
			return 0
		case strings.HasPrefix(e.code, q):
			return 1
		case strings.Contains(e.code, "_"+q):
			return 2
		case strings.Contains(e.name, q):
			return 3
		}
		return -1
	})
}

// MostUsedEmoji returns the picker's first row: the user's most sent emoji
// (usage: emoji → count), topped up from the general popularity list.
func MostUsedEmoji(usage map[string]int, limit int) []Emoji {
	return rankEmoji(limit, usage, func(e *emojiEntry) int {
		if usage[e.emoji] > 0 {
			return 0
		}
		if _, ok := popularRank[e.emoji]; ok {
			return 1
		}
		return -1
	})
}

// rankEmoji keeps entries with tier >= 0 and orders them by tier, usage,
// popularity, code length and code.
func rankEmoji(limit int, usage map[string]int, tier func(*emojiEntry) int) []Emoji {
	type hit struct {
		e    *emojiEntry
		tier int
	}
	best := map[string]hit{}
	for i := range emojiTable {
		e := &emojiTable[i]
		t := tier(e)
		if t < 0 {
			continue
		}
		if h, ok := best[e.emoji]; !ok || t < h.tier || (t == h.tier && less(e, h.e)) {
			best[e.emoji] = hit{e, t}
		}
	}
	hits := make([]hit, 0, len(best))
	for _, h := range best {
		hits = append(hits, h)
	}
	rank := func(e *emojiEntry) int {
		if r, ok := popularRank[e.emoji]; ok {
			return r
		}
		return len(popular)
	}
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		if ua, ub := usage[a.e.emoji], usage[b.e.emoji]; ua != ub {
			return ua > ub
		}
		if ra, rb := rank(a.e), rank(b.e); ra != rb {
			return ra < rb
		}
		return less(a.e, b.e)
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]Emoji, len(hits))
	for i, h := range hits {
		out[i] = Emoji{Code: h.e.code, Emoji: h.e.emoji, Name: h.e.name}
	}
	return out
}

func less(a, b *emojiEntry) bool {
	if len(a.code) != len(b.code) {
		return len(a.code) < len(b.code)
	}
	return a.code < b.code
}

// ReplaceShortcodes turns complete ":code:" shortcodes in text into emoji,
// leaving unknown ones (and "12:30:45") as they are.
func ReplaceShortcodes(text string) string {
	if strings.Count(text, ":") < 2 {
		return text
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(text, ':')
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i+1:], ':')
		if j < 0 {
			break
		}
		if e, ok := emojiByCode[text[i+1:i+1+j]]; ok && j > 0 {
			b.WriteString(text[:i])
			b.WriteString(e.emoji)
			text = text[i+j+2:]
			continue
		}
		b.WriteString(text[:i+1])
		text = text[i+1:]
	}
	b.WriteString(text)
	return b.String()
}

// IsSingleEmoji reports whether s is exactly one emoji (one grapheme
// cluster), as a reaction must be: a table emoji with or without variation
// selector and skin tone, an emoji sequence built on an emoji base (new ZWJ
// sequences), a keycap or a flag.
func IsSingleEmoji(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	if cl, _ := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth); cl != s {
		return false
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return false
		}
	}
	if emojiNormSet[normEmoji(s)] {
		return true
	}
	r0, _ := utf8.DecodeRuneInString(s)
	switch {
	case r0 >= 0x1F1E6 && r0 <= 0x1F1FF: // regional indicators: a flag
		return utf8.RuneCountInString(s) == 2
	case emojiBaseRune[r0] && (r0 >= 0x1F000 || strings.ContainsAny(s, "\uFE0F\u20E3\u200D")):
		return true
	}
	return false
}

// normEmoji drops variation selector 16 and skin-tone modifiers, so "❤"
// and "❤️", "👍" and "👍🏽" compare equal.
func normEmoji(s string) string {
	if !strings.ContainsAny(s, "\uFE0F\U0001F3FB\U0001F3FC\U0001F3FD\U0001F3FE\U0001F3FF") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == 0xFE0F || (r >= 0x1F3FB && r <= 0x1F3FF) {
			return -1
		}
		return r
	}, s)
}
