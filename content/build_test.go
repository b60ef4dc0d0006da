package content

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const buildVectorDir = "../../shared/vectors/mimi-content"

type buildVector struct {
	ID        string `json:"id"`
	HexFile   string `json:"hex_file"`
	SenderURI string `json:"sender_uri"`
	RoomURI   string `json:"room_uri"`
	Salt      string `json:"salt"`
	MessageID string `json:"message_id"`
}

func loadBuildVectors(t *testing.T) map[string]buildVector {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(buildVectorDir, "index.json"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("skipping: ../../shared (MIMI content vectors) is absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	var list []buildVector
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]buildVector{}
	for _, v := range list {
		out[v.ID] = v
	}
	return out
}

func bMustID(t *testing.T, s string) MessageID {
	t.Helper()
	id, err := ParseMessageID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func bMustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Field values below are read from the .edn files of each vector.
const (
	vecIDOriginal = "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4"
	vecIDReply    = "015354973c2b65ca937bf1e035ae53a5ab80e947afa43d46920d4202e5cc0b27"
	vecIDReaction = "0158c4288911e50a8f6be3f47746b6682f10fd91bc8c05557aa589a3157aff68"
	vecAliceURI   = "mimi://example.com/u/alice-smith"
	vecReplyText  = "Right on! _Congratulations_ 'all!"
)

func vecWelcomeHTML(lang string, cid int) NestedPart {
	h1, alt := "Welcome!", "Welcome image"
	if lang == "fr" {
		h1, alt = "Bienvenue!", "Image bienvenue"
	}
	return LanguagePart(lang, HTMLPart("<html><body><h1>"+h1+"</h1>\n<img src=\""+CIDURI(cid)+
		"\" alt=\""+alt+"\"/>\n</body></html>"))
}

func buildVectorFuncs(t *testing.T) map[string]func(b *Builder) (*Message, error) {
	original, reply, reaction := bMustID(t, vecIDOriginal), bMustID(t, vecIDReply), bMustID(t, vecIDReaction)
	// the reply as Bob sent it: what an edit or delete must keep
	replyMsg := &Message{InReplyTo: &original}
	return map[string]func(b *Builder) (*Message, error){
		"01-original": func(b *Builder) (*Message, error) {
			return b.Markdown("Hi everyone, we just shipped release 2.0. __Good  work__!")
		},
		"02-reply": func(b *Builder) (*Message, error) {
			return b.Reply(original, MarkdownPart(vecReplyText))
		},
		"03-reaction": func(b *Builder) (*Message, error) { return b.Reaction(original, "\u2764") },
		"04-mention": func(b *Builder) (*Message, error) {
			return b.Reply(original, MarkdownPart("Kudos to "+MentionMarkdown("Alice Smith", vecAliceURI)+
				" for making the release happen!"))
		},
		"05-mention-html": func(b *Builder) (*Message, error) {
			return b.Reply(original, HTMLPart("<p>Kudos to "+MentionHTML("@Alice Smith", vecAliceURI)+
				" for making the release happen!</p>"))
		},
		"06-edit": func(b *Builder) (*Message, error) {
			return b.Edit(reply, replyMsg, MarkdownPart("Right on! _Congratulations_ y'all!"))
		},
		"07-delete": func(b *Builder) (*Message, error) { return b.Delete(reply, replyMsg) },
		"08-unlike": func(b *Builder) (*Message, error) { return b.Unlike(reaction, original) },
		"09-expiring": func(b *Builder) (*Message, error) {
			b.Now = func() time.Time { return time.UnixMilli(1644389403227) } // EDN timestamp
			return b.Markdown("__*VPN GOING DOWN*__ I'm rebooting the VPN in ten minutes unless anyone objects.",
				ExpiresAt(time.Unix(1644390004, 0)))
		},
		"10-attachment": func(b *Builder) (*Message, error) {
			return b.Attachment("video/mp4", ExternalPart{
				URL: "https://example.com/storage/8ksB4bSrrRE.mp4", Size: 708234961, EncAlg: EncAES128GCM,
				Key:         bMustHex(t, "21399320958a6f4c745dde670d95e0d8"),
				Nonce:       bMustHex(t, "c86cf2c33f21527d1dd76f5b"),
				HashAlg:     HashAlgSHA256,
				ContentHash: bMustHex(t, "9ab17a8cf0890baaae7ee016c7312fcc080ba46498389458ee44f0276e783163"),
				Description: "2 hours of key signing video", Filename: "bigfile.mp4",
			}, WithLanguage("en"))
		},
		"11-conferencing": func(b *Builder) (*Message, error) {
			return b.CallLink("", "https://example.com/join/12345", "Join the Foo 118 conference",
				InTopic([]byte("Foo 118")))
		},
		"12-multipart-1": func(b *Builder) (*Message, error) {
			return b.Alternatives([]NestedPart{
				MarkdownPart("# Welcome!"),
				SinglePart(Render, "application/vnd.examplevendor-fancy-im-message",
					bMustHex(t, "dc861ebaa718fd7c3ca159f71a2001")),
			})
		},
		"13-multipart-2": func(b *Builder) (*Message, error) {
			return b.Reactions(MessageID{}, []string{"\u2764", "\U0001F973", "\U0001F91E"})
		},
		"14-multipart-3": func(b *Builder) (*Message, error) {
			version := func(first int, imgType, img string) NestedPart {
				html, err := MultiBody(ChooseOne, vecWelcomeHTML("en", first+3), vecWelcomeHTML("fr", first+3))
				if err != nil {
					t.Fatal(err)
				}
				v, err := MultiBody(ProcessAll, html, SinglePart(Inline, imgType, bMustHex(t, img)))
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			return b.Alternatives([]NestedPart{
				version(2, "image/gif", "dc861ebaa718fd7c3ca159f71a2001a7"),
				version(7, "image/png", "fa444237451a05a72bb0f67037cc1669"),
			})
		},
	}
}

// TestBuildVectors rebuilds every -08 example from its fields with the
// builders and compares the encoding byte for byte, then the message ID.
func TestBuildVectors(t *testing.T) {
	index := loadBuildVectors(t)
	builders := buildVectorFuncs(t)
	if len(builders) != 14 {
		t.Fatalf("have builders for %d vectors, want 14", len(builders))
	}
	for id, build := range builders {
		t.Run(id, func(t *testing.T) {
			v, ok := index[id]
			if !ok {
				t.Fatalf("vector %s not in index.json", id)
			}
			want, err := os.ReadFile(filepath.Join(buildVectorDir, strings.TrimSuffix(v.HexFile, ".hex")+".cbor"))
			if err != nil {
				t.Fatal(err)
			}
			b := &Builder{Sender: v.SenderURI, Room: v.RoomURI, Rand: bytes.NewReader(bMustHex(t, v.Salt))}
			m, err := build(b)
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			got, err := m.Encode()
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("bytes differ\n got %x\nwant %x", got, want)
			}
			mid, err := ComputeID(v.SenderURI, v.RoomURI, got)
			if err != nil {
				t.Fatal(err)
			}
			if mid.String() != v.MessageID {
				t.Errorf("message ID %s, want %s", mid, v.MessageID)
			}
		})
	}
}

func TestReactionValidation(t *testing.T) {
	tests := []struct {
		emoji string
		ok    bool
	}{
		{"\u2764", true},
		{"👍🏽", true},      // skin tone modifier
		{"👩🏽‍⚕️", true},   // the draft's 17-octet ZWJ sequence
		{"👨‍👩‍👧‍👦", true}, // family ZWJ sequence
		{"🇫🇷", true},      // flag (regional indicator pair)
		{"a", true},       // one grapheme, not an emoji: allowed
		{"👍👍", false},     // two reactions in one part
		{"❤🥳", false},     //
		{"", false},       //
		{" ", false},      //
		{"\u200d", false}, // format character alone
		{"\x00", false},   //
		{"\xff", false},   // invalid UTF-8
		{"e\u0301" + strings.Repeat("\u0301", 40), false}, // one cluster, too long
	}
	original := bMustID(t, vecIDOriginal)
	for _, tc := range tests {
		m, err := (&Builder{}).Reaction(original, tc.emoji)
		if (err == nil) != tc.ok {
			t.Errorf("Reaction(%q): err = %v, want ok=%v", tc.emoji, err, tc.ok)
			continue
		}
		var be *BuildError
		if err != nil && (!errors.As(err, &be) || be.Field != "reaction") {
			t.Errorf("Reaction(%q): error %v is not a BuildError for reaction", tc.emoji, err)
		}
		if err == nil && (m.Body.Disposition != Reaction || string(m.Body.Content) != tc.emoji || *m.InReplyTo != original) {
			t.Errorf("Reaction(%q) built %+v", tc.emoji, m.Body)
		}
	}
	if _, err := (&Builder{}).Reactions(original, []string{"👍", "👍👍"}); err == nil {
		t.Error("Reactions accepted two emojis in one part")
	}
	m, err := (&Builder{}).Reactions(original, []string{"👍"})
	if err != nil || m.Body.Cardinality != Single {
		t.Errorf("one reaction should be a single part: %v", err)
	}
}

func TestBuilderFeatures(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	b := &Builder{Sender: "mimi://example.com/u/a", Room: "mimi://example.com/r/r", Now: func() time.Time { return now }}
	target, oldReaction := MessageID{1, 1}, MessageID{1, 2}
	changed, err := b.ChangeReaction(oldReaction, target, "🎉")
	if err != nil || *changed.Replaces != oldReaction || *changed.InReplyTo != target || changed.Body.Disposition != Reaction {
		t.Fatalf("ChangeReaction: %v %+v", err, changed)
	}
	rel, err := b.Text("self-destructs", ExpiresAfterRead(90*time.Second), InTopic([]byte("t1")))
	if err != nil || *rel.Expires != (Expiration{Relative: true, Time: 90}) || string(rel.TopicID) != "t1" {
		t.Fatalf("relative expiry/topic: %v %+v", err, rel)
	}
	prev := &Message{InReplyTo: &target, TopicID: []byte("t1"), Expires: &Expiration{Time: 1_800_000_100}}
	edit, err := b.Edit(MessageID{1, 3}, prev, TextPart("fixed"))
	if err != nil || *edit.Replaces != (MessageID{1, 3}) || *edit.InReplyTo != target ||
		string(edit.TopicID) != "t1" || edit.Expires.Time != 1_800_000_100 {
		t.Fatalf("Edit kept fields wrongly: %v %+v", err, edit)
	}
	del, err := b.Delete(MessageID{1, 3}, nil)
	if err != nil || del.Body.Cardinality != NullPart || del.Body.Disposition != Render || del.InReplyTo != nil {
		t.Fatalf("Delete: %v %+v", err, del)
	}
	if s, _ := del.Extensions.SenderURI(); s != b.Sender {
		t.Fatalf("sender extension %q", s)
	}
	rich, err := RichBody(SingleUnit, func(cids []string) NestedPart {
		return MarkdownPart("look ![cat](" + cids[0] + ") and ![dog](" + cids[1] + ")")
	}, SinglePart(Inline, "image/png", []byte{1}), SinglePart(Inline, "image/jpeg", []byte{2}))
	if err != nil {
		t.Fatal(err)
	}
	if rs := Resolve(&rich, Prefs{}); len(rs) != 1 || !reflect.DeepEqual(rs[0].Refs, []int{2, 3}) {
		t.Fatalf("RichBody references resolve to %+v", rs)
	}
	a, _ := b.Text("x")
	c, _ := b.Text("x")
	if a.Salt == c.Salt {
		t.Fatal("two messages share a salt")
	}

	bad := []struct {
		name  string
		field string
		build func() (*Message, error)
	}{
		{"expiry in the past", "expires", func() (*Message, error) { return b.Text("x", ExpiresAt(now.Add(-time.Second))) }},
		{"expiry over a year", "expires", func() (*Message, error) { return b.Text("x", ExpiresAt(now.Add(MaxExpiry+time.Hour))) }},
		{"relative zero", "expires", func() (*Message, error) { return b.Text("x", ExpiresAfterRead(0)) }},
		{"relative over a year", "expires", func() (*Message, error) { return b.Text("x", ExpiresAfterRead(MaxExpiry+time.Hour)) }},
		{"topic too long", "topicId", func() (*Message, error) { return b.Text("x", InTopic(make([]byte, 4097))) }},
		{"edit without ID", "replaces", func() (*Message, error) { return b.Edit(MessageID{}, nil, TextPart("x")) }},
		{"delete without ID", "replaces", func() (*Message, error) { return b.Delete(MessageID{}, nil) }},
		{"unlike without ID", "replaces", func() (*Message, error) { return b.Unlike(MessageID{}, target) }},
		{"change reaction without ID", "replaces", func() (*Message, error) { return b.ChangeReaction(MessageID{}, target, "👍") }},
		{"call without URL", "url", func() (*Message, error) { return b.CallLink("", "", "x") }},
		{"attachment without URL", "url", func() (*Message, error) { return b.Attachment("image/png", ExternalPart{}) }},
		{"one alternative", "parts", func() (*Message, error) { return b.Alternatives([]NestedPart{TextPart("x")}) }},
		{"salt source fails", "salt", func() (*Message, error) { return (&Builder{Rand: strings.NewReader("short")}).Text("x") }},
		{"extension not CBOR", "extension", func() (*Message, error) { return b.Text("x", WithExtension(IntKey(-1), make(chan int))) }},
	}
	for _, tc := range bad {
		m, err := tc.build()
		var be *BuildError
		if m != nil || !errors.As(err, &be) || be.Field != tc.field {
			t.Errorf("%s: got %v, %v; want BuildError on %s", tc.name, m, err, tc.field)
		}
	}
}

func FuzzReaction(f *testing.F) {
	for _, s := range []string{"❤", "👩🏽‍⚕️", "👍👍", "", "a", "🇫🇷🇫🇷"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := (&Builder{}).Reaction(MessageID{1}, s)
		if err != nil {
			var be *BuildError
			if !errors.As(err, &be) || m != nil {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		raw, err := m.Encode()
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, err := Decode(raw)
		if err != nil || string(back.Body.Content) != s || back.Body.Disposition != Reaction {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

func TestMultiLanguageAlternatives(t *testing.T) {
	m, err := (&Builder{}).Alternatives([]NestedPart{
		LanguagePart("en", MarkdownPart("Welcome, *all*!")),
		LanguagePart("fr,fr-CA", MarkdownPart("Bienvenue à *tous* !")),
		LanguagePart("de", MarkdownPart("Willkommen!")),
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	for langs, want := range map[string]string{
		"":       "Welcome, all!",
		"fr-CA":  "Bienvenue à tous !",
		"de,fr":  "Willkommen!",
		"es,fr":  "Bienvenue à tous !",
		"ja":     "Welcome, all!",
		"DE-AT":  "Willkommen!",
		"en-GB":  "Welcome, all!",
		"pt,xyz": "Welcome, all!",
	} {
		var prefs []string
		if langs != "" {
			prefs = strings.Split(langs, ",")
		}
		if got := PlainText(back, prefs...); got != want {
			t.Errorf("languages %q: %q, want %q", langs, got, want)
		}
	}
}

func BenchmarkBuildEncodeMarkdown(b *testing.B) {
	bl := &Builder{Sender: vecAliceURI, Room: "mimi://example.com/r/engineering_team"}
	text := "Kudos to " + MentionMarkdown("Alice Smith", vecAliceURI) + " for making the **release** happen!"
	b.ReportAllocs()
	for b.Loop() {
		m, err := bl.Markdown(text)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildReaction(b *testing.B) {
	bl := &Builder{Sender: vecAliceURI, Room: "mimi://example.com/r/engineering_team"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bl.Reaction(MessageID{1}, "👩🏽‍⚕️"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSaltFromSecret(t *testing.T) {
	// expected values computed independently with Python's hmac module
	nonces := make([]byte, 32)
	for i := range nonces {
		nonces[i] = byte(i)
	}
	salt := SaltFromSecret([]byte("salt base secret"), nonces[:16])
	if hex.EncodeToString(salt[:]) != "6632d05e412e765ab487f05ae9844811" {
		t.Fatalf("salt %x", salt)
	}
	b := &Builder{Rand: SaltReader([]byte("salt base secret"), bytes.NewReader(nonces))}
	m1, err1 := b.Text("one")
	m2, err2 := b.Text("two")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if hex.EncodeToString(m1.Salt[:]) != "6632d05e412e765ab487f05ae9844811" ||
		hex.EncodeToString(m2.Salt[:]) != "7ffaf68c7fccf9d481e806525da5e2c8" {
		t.Fatalf("salts %x %x", m1.Salt, m2.Salt)
	}
	if _, err := b.Text("three"); err == nil {
		t.Fatal("salt reader with exhausted nonces succeeded")
	}
}
