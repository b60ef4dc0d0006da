package content

import (
	"reflect"
	"strings"
	"testing"
)

func TestNoHTML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Hi everyone, __Good  work__!", "Hi everyone, __Good  work__!"},
		{"open and close tag", "a <b>bold</b> move", "a &lt;b>bold&lt;/b> move"},
		{"self-closing with attrs", `x <img src="a.png" alt='y'/> z`, `x &lt;img src="a.png" alt='y'/> z`},
		{"comment", "a <!-- hidden --> b", "a &lt;!-- hidden --> b"},
		{"processing instruction", "a <?php echo 1; ?> b", "a &lt;?php echo 1; ?> b"},
		{"declaration", "a <!DOCTYPE html> b", "a &lt;!DOCTYPE html> b"},
		{"cdata", "a <![CDATA[x]]> b", "a &lt;![CDATA[x]]> b"},
		{"html block", "<div>\nhi\n</div>", "&lt;div>\nhi\n&lt;/div>"},
		{"script block", "<script>alert(1)</script>", "&lt;script>alert(1)&lt;/script>"},
		{"multi-line comment block", "<!--\nsecret\n-->\ntext", "&lt;!--\nsecret\n-->\ntext"},
		{"tag hidden in attribute", `<a title="<b>">x`, `&lt;a title="&lt;b>">x`},
		{"in a table cell", "| a | b |\n|---|---|\n| <i>x</i> | y |", "| a | b |\n|---|---|\n| &lt;i>x&lt;/i> | y |"},
		{"in a list and quote", "- <u>x</u>\n> <s>y</s>", "- &lt;u>x&lt;/u>\n> &lt;s>y&lt;/s>"},
		{"less-than is not a tag", "1 < 2 and 3 <4", "1 < 2 and 3 <4"},
		{"code span untouched", "use `<b>` for bold", "use `<b>` for bold"},
		{"fenced code untouched", "```\n<b>x</b>\n```", "```\n<b>x</b>\n```"},
		{"indented code untouched", "    <b>x</b>", "    <b>x</b>"},
		{"autolink untouched", "see <https://example.com/> and <mimi://example.com/u/alice-smith>",
			"see <https://example.com/> and <mimi://example.com/u/alice-smith>"},
		{"link destination untouched", "[x](<a b.html>)", "[x](<a b.html>)"},
		{"backslash-escaped untouched", `\<b> literal`, `\<b> literal`},
		{"already escaped", "&lt;b>", "&lt;b>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NoHTML(tc.in)
			if got != tc.want {
				t.Fatalf("NoHTML(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if HasHTML(got) {
				t.Errorf("result still has HTML: %q", got)
			}
			if again := NoHTML(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestMarkdownPartAppliesNoHTML(t *testing.T) {
	p := MarkdownPart("hi <script>x</script>")
	if strings.Contains(string(p.Content), "<script") || p.ContentType != TypeMarkdown {
		t.Fatalf("part %q %q", p.ContentType, p.Content)
	}
}

func TestMentions(t *testing.T) {
	tests := []struct {
		name string
		part NestedPart
		want []string
	}{
		{"markdown link", MarkdownPart("hi " + MentionMarkdown("Alice Smith", vecAliceURI) + " and " +
			MentionMarkdown("@bob", "mimi://example.com/u/bob") + " and again " + MentionMarkdown("A", vecAliceURI)),
			[]string{vecAliceURI, "mimi://example.com/u/bob"}},
		{"markdown autolink", MarkdownPart("ping <mimi://example.com/u/carol>"), []string{"mimi://example.com/u/carol"}},
		{"html", HTMLPart("<p>" + MentionHTML("Dan", "mimi://example.com/u/dan") + "</p>"), []string{"mimi://example.com/u/dan"}},
		{"room and web links are not mentions",
			MarkdownPart("[room](mimi://example.com/r/eng) [web](https://example.com/u/x)"), nil},
		{"link in code span is not a link", MarkdownPart("`[@x](mimi://example.com/u/x)`"), nil},
		{"plain text has no links", TextPart("[@x](mimi://example.com/u/x)"), nil},
		{"tricky display text", MarkdownPart(MentionMarkdown("Eve] (evil)[x", "mimi://example.com/u/eve")),
			[]string{"mimi://example.com/u/eve"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MentionURIs(&tc.part); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("MentionURIs = %q, want %q", got, tc.want)
			}
		})
	}
	alt, err := MultiBody(ChooseOne, TextPart("x"), MarkdownPart(MentionMarkdown("A", vecAliceURI)))
	if err != nil {
		t.Fatal(err)
	}
	if !Mentions(&alt, vecAliceURI) || Mentions(&alt, "mimi://example.com/u/bob") {
		t.Error("Mentions over a multipart body")
	}
}

func TestMentionMarkdownDisplayEscaped(t *testing.T) {
	got := MarkdownText([]byte(MentionMarkdown("Eve] (evil)[x", "mimi://example.com/u/eve")))
	if got != "@Eve] (evil)[x" {
		t.Fatalf("link text %q", got)
	}
}

func TestIsUserURI(t *testing.T) {
	for s, want := range map[string]bool{
		vecAliceURI:                 true,
		"MIMI://example.com/u/x":    true,
		"mimi://example.com/u/":     false,
		"mimi://example.com/r/room": false,
		"mimi:///u/x":               false,
		"https://example.com/u/x":   false,
		"not a uri at all %zz":      false,
	} {
		if got := IsUserURI(s); got != want {
			t.Errorf("IsUserURI(%q) = %v", s, got)
		}
	}
}
