package content

import (
	"reflect"
	"strings"
	"testing"
	"time"
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

func TestLinks(t *testing.T) {
	md := MarkdownLinks([]byte("see [the *docs*](https://example.com/d) and <https://a.example/> or ![img](x.png)"))
	wantMD := []Link{{"the docs", "https://example.com/d"}, {"https://a.example/", "https://a.example/"}}
	if !reflect.DeepEqual(md, wantMD) {
		t.Errorf("MarkdownLinks = %+v", md)
	}
	h := HTMLLinks([]byte(`<p><a href="https://x.example/">X &amp; <b>Y</b></a> <a name="n">no</a> <a href="mimi://example.com/u/z"/></p>`))
	wantH := []Link{{"X & Y", "https://x.example/"}, {"", "mimi://example.com/u/z"}}
	if !reflect.DeepEqual(h, wantH) {
		t.Errorf("HTMLLinks = %+v", h)
	}
}

func TestLinkNeedsWarning(t *testing.T) {
	tests := []struct {
		text, target string
		warn         bool
	}{
		// the draft's examples (§9.6)
		{"example.com/foobar", "https://example.com/foobar", false},
		{"https://example.com/foobar", "https://example.com/foobar", false},
		{"https://example.com:443/foobar", "https://example.com/foobar", false},
		{"https://example.com/foobar", "https://spearphishers.example/foobar", true},
		{"https://example.com/foobar", "http://example.com/foobar", true},
		// mentions: text is only a display hint
		{"@Alice Smith", vecAliceURI, false},
		{"Alice", vecAliceURI, false},
		// more
		{"HTTPS://Example.COM", "https://example.com/", false},
		{"http://example.com/a", "https://example.com/a", false},
		{"http://example.com:443/a", "http://example.com/a", true},
		{"click here", "https://example.com/", true},
		{"https://example.com", "https://example.com@evil.example/", true},
		{"https://example.com/a?x=1", "https://example.com/a?x=2", true},
		{"example.com", "javascript:alert(1)", true},
		{"mimi://example.com/r/eng", "mimi://example.com/r/eng", false},
		{"", "https://example.com/", true},
	}
	for _, tc := range tests {
		if got := LinkNeedsWarning(tc.text, tc.target); got != tc.warn {
			t.Errorf("LinkNeedsWarning(%q, %q) = %v", tc.text, tc.target, got)
		}
	}
}

func FuzzNoHTML(f *testing.F) {
	for _, s := range []string{"a <b>c</b>", "<div>\nx\n</div>", "`<i>`", "<!-- x -->", "<?x?>", "<![CDATA[x]]>",
		"| a |\n|---|\n| <i>b</i> |", "<a title=\"<b>\">", "<https://x.example>", "\\<b>", "> <s>q</s>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 4096 {
			return // NoHTML re-parses per HTML block; keep fuzz inputs message-sized
		}
		out := NoHTML(in)
		if HasHTML(out) {
			t.Fatalf("NoHTML(%q) = %q still has HTML", in, out)
		}
		if NoHTML(out) != out {
			t.Fatalf("NoHTML not idempotent on %q", in)
		}
		if !strings.Contains(in, "<") && out != in {
			t.Fatalf("NoHTML changed %q without '<' to %q", in, out)
		}
		if strings.ReplaceAll(out, "&lt;", "<") != strings.ReplaceAll(in, "&lt;", "<") {
			t.Fatalf("NoHTML changed more than '<': %q -> %q", in, out)
		}
		_ = MarkdownText([]byte(out))
		for _, l := range MarkdownLinks([]byte(out)) {
			_ = LinkNeedsWarning(l.Text, l.Target)
		}
	})
}

func TestNoHTMLBounded(t *testing.T) {
	tests := map[string]string{
		"block chain":     strings.Repeat("<div>\n", 20000),
		"nested attrs":    strings.Repeat(`<a title="`, 3000) + strings.Repeat(`">`, 3000),
		"code span swap":  "<a title='`'>  `<b>` `",
		"comment in code": strings.Repeat("`<!--` <i>x</i>\n", 2000),
	}
	for name, in := range tests {
		start := time.Now()
		out := NoHTML(in)
		if HasHTML(out) {
			t.Errorf("%s: HTML left", name)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
	// the code span case: <b> is inside a code span only until the tag
	// before it is escaped, so it must end up escaped too
	if out := NoHTML("<a title='`'>  `<b>` `"); HasHTML(out) || !strings.Contains(out, "&lt;b>") {
		t.Errorf("code span swap: %q", out)
	}
}

func BenchmarkNoHTML(b *testing.B) {
	for name, in := range map[string]string{
		"plain": "Hi everyone, we just shipped release 2.0. __Good  work__! See [the notes](https://example.com/r).",
		"tags":  "a <b>bold</b> and <i>it</i>\n\n<div>\nblock\n</div>\n\n`<code>` and <!-- c -->",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = NoHTML(in)
			}
		})
	}
}
