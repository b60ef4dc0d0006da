package content

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// vecMessage decodes one official vector (skipping if ../../shared is absent).
func vecMessage(t *testing.T, id string) *Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(buildVectorDir, id+".cbor"))
	if os.IsNotExist(err) {
		t.Skip("skipping: ../../shared (MIMI content vectors) is absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(raw)
	if err != nil {
		t.Fatalf("decode %s: %v", id, err)
	}
	return m
}

func TestWalkMultipart3(t *testing.T) {
	m := vecMessage(t, "14-multipart-3")
	type row struct {
		depth, parent int
		what          string
	}
	want := []row{
		{0, -1, "multi chooseOne"}, {1, 0, "multi processAll"}, {2, 1, "multi chooseOne"},
		{3, 2, "en text/html;charset=utf-8"}, {3, 2, "fr text/html;charset=utf-8"}, {2, 1, " image/gif"},
		{1, 0, "multi processAll"}, {2, 6, "multi chooseOne"},
		{3, 7, "en text/html;charset=utf-8"}, {3, 7, "fr text/html;charset=utf-8"}, {2, 6, " image/png"},
	}
	got := Walk(&m.Body)
	if len(got) != len(want) {
		t.Fatalf("%d parts, want %d", len(got), len(want))
	}
	for i, pi := range got {
		what := pi.Part.Language + " " + pi.Part.ContentType
		if pi.Part.Cardinality == Multi {
			what = "multi " + pi.Part.Semantics.String()
		}
		if pi.Index != i || pi.Depth != want[i].depth || pi.Parent != want[i].parent || what != want[i].what {
			t.Errorf("part %d: index %d depth %d parent %d %q, want depth %d parent %d %q",
				i, pi.Index, pi.Depth, pi.Parent, what, want[i].depth, want[i].parent, want[i].what)
		}
		if p, ok := PartAt(&m.Body, i); !ok || p != pi.Part {
			t.Errorf("PartAt(%d) disagrees with Walk", i)
		}
	}
	if _, ok := PartAt(&m.Body, 11); ok {
		t.Error("PartAt(11) found a part")
	}
}

type resolvedRow struct {
	index     int
	supported bool
	refs      []int
}

func resolvedRows(rs []ResolvedPart) []resolvedRow {
	var out []resolvedRow
	for _, r := range rs {
		out = append(out, resolvedRow{r.Index, r.Supported, r.Refs})
	}
	return out
}

func only(types ...string) func(string) bool {
	return func(ct string) bool {
		mt, _ := MediaType(ct)
		for _, t := range types {
			if mt == t {
				return true
			}
		}
		return false
	}
}

func TestResolveMultipart3(t *testing.T) {
	m := vecMessage(t, "14-multipart-3")
	all := only("text/html", "image/gif", "image/png")
	tests := []struct {
		name  string
		prefs Prefs
		want  []resolvedRow
	}{
		{"english user", Prefs{Languages: []string{"en"}, Supported: all}, []resolvedRow{{3, true, []int{5}}}},
		{"french user", Prefs{Languages: []string{"fr", "en"}, Supported: all}, []resolvedRow{{4, true, []int{5}}}},
		{"french-canadian user", Prefs{Languages: []string{"fr-CA"}, Supported: all}, []resolvedRow{{4, true, []int{5}}}},
		{"german user: sender order", Prefs{Languages: []string{"de"}, Supported: all}, []resolvedRow{{3, true, []int{5}}}},
		{"no gif support: png version", Prefs{Languages: []string{"en"}, Supported: only("text/html", "image/png")},
			[]resolvedRow{{8, true, []int{10}}}},
		{"french, no gif", Prefs{Languages: []string{"fr"}, Supported: only("text/html", "image/png")},
			[]resolvedRow{{9, true, []int{10}}}},
		{"no images at all: first version", Prefs{Languages: []string{"fr"}, Supported: only("text/html")},
			[]resolvedRow{{4, true, []int{5}}}},
		{"nothing supported: first of each", Prefs{Supported: only()}, []resolvedRow{{3, false, []int{5}}}},
		{"nil Supported means everything", Prefs{}, []resolvedRow{{3, true, []int{5}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := resolvedRows(Resolve(&m.Body, tc.prefs))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Resolve = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestResolveShapes(t *testing.T) {
	htmlRef := HTMLPart(`<p>look <img src="` + CIDURI(2) + `"></p>`)
	img := SinglePart(Inline, "image/x-rare", []byte{1, 2})
	unit, _ := MultiBody(SingleUnit, htmlRef, img)
	mixed, _ := MultiBody(ProcessAll, htmlRef, img)
	badRefs, _ := MultiBody(ProcessAll, HTMLPart("cid:0@local.invalid cid:9@local.invalid cid:1@local.invalid x"), TextPart("t"))
	weird := SinglePart(Disposition(42), TypePlain, []byte("x"))
	inherit, _ := MultiBody(ProcessAll, SinglePart(Unspecified, TypePlain, []byte("a")), weird)
	inherit.Disposition = Reaction
	alt := vecMessage(t, "12-multipart-1").Body
	partial, _ := MultiBody(ProcessAll, TextPart("caption"), SinglePart(Inline, "image/x-rare", []byte{1}))
	tiers, _ := MultiBody(ChooseOne, LanguagePart("fr", SinglePart(Render, "application/pdf", []byte{1})), partial,
		LanguagePart("fr", MarkdownPart("texte")))
	reactions := vecMessage(t, "13-multipart-2").Body
	text := only("text/html", "text/plain", "text/markdown")
	tests := []struct {
		name  string
		body  NestedPart
		prefs Prefs
		want  []resolvedRow
		dispo []Disposition
	}{
		{"singleUnit all supported", unit, Prefs{}, []resolvedRow{{1, true, []int{2}}}, nil},
		{"singleUnit with unsupported part: none shown", unit, Prefs{Supported: text}, []resolvedRow{{2, false, nil}}, nil},
		{"processAll keeps what it can", mixed, Prefs{Supported: text}, []resolvedRow{{1, true, []int{2}}}, nil},
		{"cid to self, multi or missing ignored", badRefs, Prefs{}, []resolvedRow{{1, true, nil}, {2, true, nil}}, nil},
		{"null part", NestedPart{Disposition: Render}, Prefs{}, nil, nil},
		{"dispositions: inherited and unknown", inherit, Prefs{}, []resolvedRow{{1, true, nil}, {2, true, nil}},
			[]Disposition{Reaction, Render}},
		{"chooseOne picks supported markdown", alt, Prefs{Supported: text}, []resolvedRow{{1, true, nil}}, nil},
		{"chooseOne picks vendor format", alt, Prefs{Supported: only("application/vnd.examplevendor-fancy-im-message")},
			[]resolvedRow{{2, true, nil}}, nil},
		{"chooseOne sender order", alt, Prefs{}, []resolvedRow{{1, true, nil}}, nil},
		{"chooseOne: supported beats language", tiers, Prefs{Languages: []string{"de"}, Supported: text},
			[]resolvedRow{{5, true, nil}}, nil},
		{"chooseOne: language among fully supported", tiers, Prefs{Languages: []string{"fr"}, Supported: text},
			[]resolvedRow{{5, true, nil}}, nil},
		{"chooseOne: partial beats unsupported, kept whole", tiers, Prefs{Languages: []string{"fr"}, Supported: only("text/plain")},
			[]resolvedRow{{3, true, nil}, {4, false, nil}}, nil},
		{"chooseOne: nothing supported, language then order", tiers, Prefs{Languages: []string{"fr"}, Supported: only()},
			[]resolvedRow{{1, false, nil}}, nil},
		{"three reactions", reactions, Prefs{Supported: text},
			[]resolvedRow{{1, true, nil}, {2, true, nil}, {3, true, nil}}, []Disposition{Reaction, Reaction, Reaction}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := Resolve(&tc.body, tc.prefs)
			if got := resolvedRows(rs); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Resolve = %+v, want %+v", got, tc.want)
			}
			for i, d := range tc.dispo {
				if rs[i].Disposition != d {
					t.Errorf("part %d disposition %v, want %v", i, rs[i].Disposition, d)
				}
			}
		})
	}
}

func TestCIDRefs(t *testing.T) {
	got := CIDRefs([]byte(`<img src="cid:5@local.invalid"><img src="CID:12@LOCAL.INVALID"> cid:5@local.invalid cid:x@local.invalid cid:7@example.com`))
	if !reflect.DeepEqual(got, []int{5, 12}) {
		t.Fatalf("CIDRefs = %v", got)
	}
	for uri, want := range map[string]int{"cid:3@local.invalid": 3, CIDURI(10): 10, " cid:0@local.invalid ": 0} {
		if n, ok := ParseCID(uri); !ok || n != want {
			t.Errorf("ParseCID(%q) = %d %v", uri, n, ok)
		}
	}
	for _, bad := range []string{"cid:3@local.invalidx", "xcid:3@local.invalid", "cid:@local.invalid", ""} {
		if _, ok := ParseCID(bad); ok {
			t.Errorf("ParseCID(%q) accepted", bad)
		}
	}
}

func TestMediaType(t *testing.T) {
	tests := []struct {
		ct                    string
		markdown, plain, html bool
		wantType, wantVariant string
	}{
		{"text/markdown;variant=GFM-MIMI", true, false, false, "text/markdown", "GFM-MIMI"},
		{"text/markdown", true, false, false, "text/markdown", ""},
		{"TEXT/Markdown; charset=UTF-8; variant=CommonMark", true, false, false, "text/markdown", "CommonMark"},
		{"text/markdown;;bad=", true, false, false, "text/markdown", ""},
		{"text/markdownx", false, false, false, "text/markdownx", ""},
		{"text/plain;charset=utf-8", false, true, false, "text/plain", ""},
		{"text/html;charset=utf-8", false, false, true, "text/html", ""},
		{"", false, false, false, "", ""},
	}
	for _, tc := range tests {
		mt, params := MediaType(tc.ct)
		if mt != tc.wantType || params["variant"] != tc.wantVariant {
			t.Errorf("MediaType(%q) = %q %v", tc.ct, mt, params)
		}
		if IsMarkdownType(tc.ct) != tc.markdown || IsPlainType(tc.ct) != tc.plain || IsHTMLType(tc.ct) != tc.html {
			t.Errorf("type predicates wrong for %q", tc.ct)
		}
	}
}

func TestPlainTextVectors(t *testing.T) {
	tests := []struct{ id, lang, want string }{
		{"01-original", "", "Hi everyone, we just shipped release 2.0. Good  work!"},
		{"02-reply", "", "Right on! Congratulations 'all!"},
		{"03-reaction", "", "\u2764"},
		{"04-mention", "", "Kudos to @Alice Smith for making the release happen!"},
		{"05-mention-html", "", "Kudos to @Alice Smith for making the release happen!"},
		{"07-delete", "", ""},
		{"08-unlike", "", ""},
		{"09-expiring", "", "VPN GOING DOWN I'm rebooting the VPN in ten minutes unless anyone objects."},
		{"10-attachment", "", "📎 bigfile.mp4"},
		{"11-conferencing", "", "📞 Join the Foo 118 conference"},
		{"12-multipart-1", "", "Welcome!"},
		{"13-multipart-2", "", "\u2764\n\U0001F973\n\U0001F91E"},
		{"14-multipart-3", "en", "Welcome!\n[Welcome image]"},
		{"14-multipart-3", "fr", "Bienvenue!\n[Image bienvenue]"},
	}
	for _, tc := range tests {
		t.Run(tc.id+tc.lang, func(t *testing.T) {
			var langs []string
			if tc.lang != "" {
				langs = []string{tc.lang}
			}
			if got := PlainText(vecMessage(t, tc.id), langs...); got != tc.want {
				t.Fatalf("PlainText = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMarkdownText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"# Title\n\nsome *em* and `code`", "Title\nsome em and code"},
		{`escaped \*stars\* and &amp; &lt;b>`, "escaped *stars* and & <b>"},
		{"- [x] done\n- [ ] todo", "[x] done\n[ ] todo"},
		{"line one  \nline two\nsame line", "line one\nline two same line"},
		{"| a | b |\n|---|---|\n| ~~c~~ | d |", "a | b\nc | d"},
		{"```\nfn()\n```", "fn()"},
		{"raw <b>html</b> shown", "raw <b>html</b> shown"},
	}
	for _, tc := range tests {
		if got := MarkdownText([]byte(tc.in)); got != tc.want {
			t.Errorf("MarkdownText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPreviewLine(t *testing.T) {
	b := &Builder{}
	m, err := b.Markdown("first line\n\nsecond   line")
	if err != nil {
		t.Fatal(err)
	}
	for max, want := range map[int]string{0: "first line second line", 10: "first lin…", 1: "…", 100: "first line second line"} {
		if got := PreviewLine(m, max); got != want {
			t.Errorf("PreviewLine(%d) = %q, want %q", max, got, want)
		}
	}
	if PlainText(nil) != "" || !strings.Contains(PlainText(mustKnock(t)), "Knock knock") {
		t.Error("PlainText of nil or knock")
	}
}

func FuzzResolve(f *testing.F) {
	for _, id := range []string{"01-original", "04-mention", "05-mention-html", "10-attachment", "12-multipart-1",
		"13-multipart-2", "14-multipart-3"} {
		if raw, err := os.ReadFile(filepath.Join(buildVectorDir, id+".cbor")); err == nil {
			f.Add(raw)
		}
	}
	if m, err := (&Builder{}).Markdown("[@x](mimi://e.example/u/x) <b>"); err == nil {
		if raw, err := m.Encode(); err == nil {
			f.Add(raw)
		}
	}
	prefs := []Prefs{{}, {Languages: []string{"fr"}, Supported: IsTextType}, {Supported: only()}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Decode(raw)
		if err != nil {
			return
		}
		parts := Walk(&m.Body)
		for _, p := range prefs {
			for _, rp := range Resolve(&m.Body, p) {
				if rp.Index >= len(parts) || parts[rp.Index].Part != rp.Part {
					t.Fatalf("resolved index %d does not name its part", rp.Index)
				}
				if c := rp.Part.Cardinality; c != Single && c != External {
					t.Fatalf("resolved a %v part", c)
				}
				if !rp.Disposition.Known() {
					t.Fatalf("unknown disposition %d leaked", rp.Disposition)
				}
				for _, ref := range rp.Refs {
					if c := parts[ref].Part.Cardinality; c != Single && c != External {
						t.Fatalf("cid reference to a %v part", c)
					}
				}
			}
		}
		_ = PlainText(m, "en")
		_ = MentionURIs(&m.Body)
		_ = IsKnock(m)
	})
}

func BenchmarkResolveMultipart3(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(buildVectorDir, "14-multipart-3.cbor"))
	if err != nil {
		b.Skip("skipping: ../../shared (MIMI content vectors) is absent")
	}
	m, err := Decode(raw)
	if err != nil {
		b.Fatal(err)
	}
	prefs := Prefs{Languages: []string{"fr", "en"}, Supported: only("text/html", "image/png")}
	b.ReportAllocs()
	for b.Loop() {
		if len(Resolve(&m.Body, prefs)) != 1 {
			b.Fatal("wrong resolution")
		}
	}
}

func BenchmarkPlainTextMarkdown(b *testing.B) {
	m, err := (&Builder{}).Markdown("Kudos to " + MentionMarkdown("Alice Smith", vecAliceURI) + " for making the **release** happen!")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = PlainText(m)
	}
}
