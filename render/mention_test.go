package render

import (
	"mimichat/internal/golden"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

var mentionPeople = &People{Me: "mimi://d.example/u/you", Names: map[string]string{
	"mimi://d.example/u/you": "You", "mimi://d.example/u/bob": "Bob Lee"}}

// TestMentionsRender: links to user URIs show as @Name (the name the user
// knows for the URI, never the sender's link text or the URI); other links
// keep showing their target; the user's own mention gets the mention
// background, others do not.
func TestMentionsRender(t *testing.T) {
	th, _ := NewTheme("dark", true, nil)
	tests := []struct {
		name, md    string
		people      *People
		want        []string // in the plain text
		notWant     []string
		ownStyle    bool // the mention background appears
		otherAccent bool
	}{
		{"own", "hi [@You](mimi://d.example/u/you)", mentionPeople, []string{"hi @You"}, []string{"mimi:"}, true, false},
		{"other, named by the user not the sender", "[@Alice](mimi://d.example/u/bob) look", mentionPeople,
			[]string{"@Bob\u00a0Lee look"}, []string{"Alice", "mimi:"}, false, true},
		{"unknown person: the URI's last segment", "cc [@Boss](mimi://d.example/u/mallory)", mentionPeople,
			[]string{"cc @mallory"}, []string{"Boss", "mimi:"}, false, true},
		{"no people", "[@You](mimi://d.example/u/you)", nil, []string{"@you"}, []string{"mimi:"}, false, true},
		{"http link keeps its target", "[@You](https://evil.example/u/you)", mentionPeople,
			[]string{"@You", "https://evil.example/u/you"}, nil, false, false},
		{"room URI is not a mention", "[lobby](mimi://d.example/r/lobby)", mentionPeople,
			[]string{"lobby", "mimi://d.example/r/lobby"}, nil, false, false},
		{"inside emphasis and a list", "- **see [@You](mimi://d.example/u/you)**", mentionPeople,
			[]string{"see @You"}, []string{"mimi:"}, true, false},
		{"marks in the text are inert", "a\uE000b\uE002c [@You](mimi://d.example/u/you)", mentionPeople,
			[]string{"abc @You"}, []string{"\uE000", "\uE002"}, true, false},
	}
	own, _ := sgrOf(th.Styles.Mention.Bold(true))
	other, _ := sgrOf(th.Styles.Accent.Bold(true))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := MarkdownToANSIFor(tc.md, 60, th, tc.people)
			plain := ansi.Strip(out)
			for _, w := range tc.want {
				if !strings.Contains(plain, w) {
					t.Errorf("%q lacks %q", plain, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(plain, w) {
					t.Errorf("%q shows %q", plain, w)
				}
			}
			if got := strings.Contains(out, own); got != tc.ownStyle {
				t.Errorf("own-mention style present = %v, want %v: %q", got, tc.ownStyle, out)
			}
			if got := strings.Contains(out, other); got != tc.otherAccent {
				t.Errorf("other-mention style present = %v, want %v: %q", got, tc.otherAccent, out)
			}
			checkRendered(t, tc.name, out, 60)
		})
	}
}

// TestMentionGolden pins mentions in a message row, both themes, wide and
// narrow (a long name never breaks across lines).
func TestMentionGolden(t *testing.T) {
	body := md("Hey [@You](mimi://d.example/u/you), [@Bob](mimi://d.example/u/bob) and " +
		"[@Someone](mimi://d.example/u/carol-the-long-named) — details at [the doc](https://docs.example/x).")
	for _, mode := range []string{"dark", "light"} {
		th, _ := NewTheme(mode, mode == "dark", nil)
		var b strings.Builder
		for _, w := range []int{80, 30} {
			m := &Message{Sender: "mimi://d.example/u/bob", Name: "Bob Lee", Body: body, People: mentionPeople,
				Time: t0}
			for _, l := range RenderMessage(m, w, th) {
				b.WriteString(l + "\n")
			}
			b.WriteString("--\n")
		}
		golden.Check(t, filepath.Join("testdata", "mentions."+mode+".golden"), b.String())
	}
}
