package render

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
	"mimichat/internal/golden"
)

// TestHighlighterWholeWords: whole words, case ignored, the longest word
// at a place wins, matches do not overlap.
func TestHighlighterWholeWords(t *testing.T) {
	h := NewHighlighter([]string{"Deploy", " on-call ", "été", "deploy now", ""})
	tests := []struct {
		text string
		want []string
	}{
		{"deploy at five", []string{"deploy"}},
		{"DEPLOY! and Deploy.", []string{"DEPLOY", "Deploy"}},
		{"redeployed deploys deploy_x x_deploy deploy2", nil},
		{"who is On-Call today", []string{"On-Call"}},
		{"l'été est là, étés non", []string{"été"}},
		{"please deploy now", []string{"deploy now"}},
		{"", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, r := range h.find(tc.text, 0) {
			got = append(got, tc.text[r[0]:r[1]])
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: found %q, want %q", tc.text, got, tc.want)
		}
		if h.Match([]byte(tc.text)) != (len(tc.want) > 0) {
			t.Errorf("%q: Match disagrees with find", tc.text)
		}
	}
	if NewHighlighter(nil) != nil || NewHighlighter([]string{" ", ""}) != nil {
		t.Error("no words gave a Highlighter")
	}
	var none *Highlighter
	if none.Match([]byte("deploy")) {
		t.Error("a nil Highlighter matched")
	}
}

var highlightPeople = &People{Me: "mimi://d.example/u/you", Names: map[string]string{"mimi://d.example/u/you": "You"},
	Highlight: NewHighlighter([]string{"deploy", "on-call"})}

// urlInOutput finds URLs in rendered text: one with an escape sequence
// inside would end at it.
var urlInOutput = regexp.MustCompile(`https?://[^\s\x1b]+`)

// TestHighlightRender: highlight words get the own-mention style in
// Markdown and plain text, also below the Markdown width; not in code,
// links or URLs, not inside other words; the style around a word is set
// again after it; wrapping keeps the width; network escape sequences stay
// inert.
func TestHighlightRender(t *testing.T) {
	th, _ := NewTheme("dark", true, nil)
	own, _ := sgrOf(highlightStyle(th))
	bold := "\x1b[1m"
	tests := []struct {
		name  string
		body  *content.NestedPart
		width int
		words int      // highlighted words
		text  []string // in the plain text, whole
	}{
		{"plain word", md("we deploy at five"), 60, 1, []string{"we deploy at five"}},
		{"case and punctuation", md("Deploy! on-call, DEPLOY."), 60, 3, []string{"Deploy! on-call, DEPLOY."}},
		{"inside other words", md("redeployed deploys deployment"), 60, 0, nil},
		{"code span", md("run `deploy` now"), 60, 0, []string{"deploy"}},
		{"fenced code", md("```\ndeploy\n```"), 60, 0, []string{"deploy"}},
		{"link text and target", md("[deploy docs](https://deploy.example/deploy)"), 60, 0, []string{"https://deploy.example/deploy"}},
		{"URL written out", md("see https://x.example/deploy/now?deploy=1 then deploy"), 80, 1, []string{"https://x.example/deploy/now?deploy=1"}},
		{"URL split by emphasis delimiters", md("https://x.example/a_deploy_b and deploy"), 80, 1, []string{"https://x.example/a_deploy_b"}},
		{"in bold and a list", md("- **please deploy today**"), 60, 1, []string{"please deploy today"}},
		{"with a mention", md("[@You](mimi://d.example/u/you) deploy"), 60, 2, []string{"@You deploy"}},
		{"wrapped", md(strings.Repeat("the deploy goes on ", 12)), 30, 12, nil},
		{"narrow: plain path", md("deploy it"), 10, 1, []string{"deploy it"}},
		{"text/plain", txt("deploy from plain text"), 60, 1, []string{"deploy from plain text"}},
		{"escape in the text", md("\x1b[31mdeploy\x1b[0m"), 60, 1, []string{"␛"}},
		{"marks in the text are inert", md("a\uE003deploy\uE002b"), 60, 0, []string{"adeployb"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := strings.Join(BodyLinesFor(tc.body, nil, tc.width, th, highlightPeople), "\n")
			checkRendered(t, tc.name, out, tc.width)
			if strings.ContainsAny(out, marks) {
				t.Errorf("a mark reached the output: %q", out)
			}
			got := strings.Count(out, own)
			if tc.name == "with a mention" {
				got = strings.Count(out, own) // the mention is drawn in the same style
			}
			if got != tc.words {
				t.Errorf("%d words in the highlight style, want %d: %q", got, tc.words, out)
			}
			plain := ansi.Strip(out)
			for _, w := range tc.text {
				if !strings.Contains(plain, w) {
					t.Errorf("plain text %q lacks %q", plain, w)
				}
			}
			for _, u := range urlInOutput.FindAllString(plain, -1) {
				if !strings.Contains(out, u) {
					t.Errorf("URL %q has an escape sequence inside it (its hyperlink would be cut): %q", u, out)
				}
			}
			if tc.name == "in bold and a list" {
				i := strings.Index(out, own)
				if j := strings.Index(out[i:], "\x1b[m"); j < 0 || !strings.Contains(out[i+j:i+j+20], bold[:3]) {
					t.Errorf("the bold around the word is not set again after it: %q", out)
				}
			}
		})
	}
}

func txt(s string) *content.NestedPart { p := content.TextPart(s); return &p }

// TestHighlightGolden pins highlight words in message rows, both themes and
// layouts, wide and narrow.
func TestHighlightGolden(t *testing.T) {
	body := md("Heads up [@You](mimi://d.example/u/you): we **deploy** at five, on-call is " +
		"[@Bob](mimi://d.example/u/bob); not `deploy` nor redeployed, see https://ops.example/deploy.")
	for _, mode := range []string{"dark", "light"} {
		th, _ := NewTheme(mode, mode == "dark", nil)
		var b strings.Builder
		for _, layout := range []Layout{LayoutCozy, LayoutCompact} {
			for _, w := range []int{80, 30} {
				m := &Message{Sender: "mimi://d.example/u/bob", Name: "Bob", Body: body, People: highlightPeople,
					Time: t0, Mention: true, Layout: layout}
				for _, l := range RenderMessage(m, w, th) {
					b.WriteString(l + "\n")
				}
				b.WriteString("--\n")
			}
		}
		golden.Check(t, filepath.Join("testdata", "highlight."+mode+".golden"), b.String())
	}
}
