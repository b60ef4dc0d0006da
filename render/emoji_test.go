package render

import (
	"strings"
	"testing"
)

func codes(es []Emoji) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Code
	}
	return out
}

func TestPopularCodesExist(t *testing.T) {
	for _, c := range popular {
		if _, ok := EmojiByCode(c); !ok {
			t.Errorf("popular shortcode %q is not in the table", c)
		}
	}
	if e, ok := EmojiByCode(":heart:"); !ok || e != "❤️" {
		t.Errorf("heart = %q, %v", e, ok)
	}
	if _, ok := EmojiByCode("octocat"); ok {
		t.Error("image-only GitHub emoji in the table")
	}
}

func TestCompleteEmoji(t *testing.T) {
	got := codes(CompleteEmoji(":hea", 5, nil))
	if len(got) != 5 || got[0] != "heart" || got[1] != "heart_eyes" {
		t.Errorf(":hea → %v, want heart, heart_eyes first", got)
	}
	for _, c := range got {
		if !strings.HasPrefix(c, "hea") {
			t.Errorf(":hea offered %q", c)
		}
	}
	// The user's own habits come first.
	heartpulse, _ := EmojiByCode("heartpulse")
	got = codes(CompleteEmoji("hea", 3, map[string]int{heartpulse: 4}))
	if got[0] != "heartpulse" || got[1] != "heart" {
		t.Errorf("with usage: %v", got)
	}
	// A later word of the code matches after prefix matches.
	got = codes(CompleteEmoji("eyes", 0, nil))
	if got[0] != "eyes" || !contains(got, "heart_eyes") {
		t.Errorf("eyes → %v", got)
	}
	// One emoji once: +1 and thumbsup are the same emoji.
	got = codes(CompleteEmoji("thumbsu", 0, nil))
	if len(got) != 1 || got[0] != "thumbsup" {
		t.Errorf("thumbsu → %v", got)
	}
	if got := CompleteEmoji("zzzznotanemoji", 5, nil); len(got) != 0 {
		t.Errorf("nonsense matched %v", got)
	}
}

func TestSearchAndMostUsed(t *testing.T) {
	got := SearchEmoji("red heart", 3, nil)
	if len(got) == 0 || got[0].Emoji != "❤️" {
		t.Errorf("search by name: %v", got)
	}
	top := MostUsedEmoji(nil, 8)
	if len(top) != 8 || top[0].Emoji != "👍" || top[1].Emoji != "❤️" {
		t.Errorf("default most used = %v", top)
	}
	party, _ := EmojiByCode("partying_face")
	top = MostUsedEmoji(map[string]int{party: 9}, 3)
	if top[0].Emoji != party || top[1].Emoji != "👍" {
		t.Errorf("user's most used = %v", top)
	}
	if got := SearchEmoji("", 4, nil); len(got) != 4 {
		t.Errorf("empty search gives %d", len(got))
	}
}

func TestReplaceShortcodes(t *testing.T) {
	for in, want := range map[string]string{
		"I :heart: Go :+1:":     "I ❤️ Go 👍",
		"at 12:30:45 :nope: ok": "at 12:30:45 :nope: ok",
		"::heart::":             ":❤️:",
		"no colons":             "no colons",
		":tada::tada:":          "🎉🎉",
	} {
		if got := ReplaceShortcodes(in); got != want {
			t.Errorf("ReplaceShortcodes(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsSingleEmoji(t *testing.T) {
	yes := []string{"👍", "❤️", "❤", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🇫🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "🫠", "🧑🏾‍🚀", "☺️"}
	no := []string{"", "a", "ab", "👍👍", "❤️ ", "1", "#", "hi👍", "\x1b[31m👍", "👍\u202e", "\xff", "🇫"}
	for _, s := range yes {
		if !IsSingleEmoji(s) {
			t.Errorf("IsSingleEmoji(%q) = false", s)
		}
	}
	for _, s := range no {
		if IsSingleEmoji(s) {
			t.Errorf("IsSingleEmoji(%q) = true", s)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
