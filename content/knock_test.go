package content

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

// knockExampleHex is the example in docs/knock.md: Alice knocks in the
// engineering room with salt 00..0f.
const knockExampleHex = "87" + "50000102030405060708090a0b0c0d0e0f" + "f6" + "40" + "f6" + "f6" +
	"a3" + "01" + "7820" + "6d696d693a2f2f6578616d706c652e636f6d2f752f616c6963652d736d697468" +
	"02" + "7825" + "6d696d693a2f2f6578616d706c652e636f6d2f722f656e67696e656572696e675f7465616d" +
	"37" + "f5" +
	"85" + "01" + "60" + "01" + "78" + "18" + "746578742f706c61696e3b636861727365743d7574662d38" +
	"5838" + "f09f9494204b6e6f636b206b6e6f636b2120416c69636520697320747279696e6720746f20676574" +
	"20796f757220617474656e74696f6e2e"

func knockBuilder() *Builder {
	salt := make([]byte, SaltSize)
	for i := range salt {
		salt[i] = byte(i)
	}
	return &Builder{Sender: "mimi://example.com/u/alice-smith", Room: "mimi://example.com/r/engineering_team",
		Rand: bytes.NewReader(salt)}
}

func mustKnock(t *testing.T) *Message {
	t.Helper()
	m, err := knockBuilder().Knock("Alice")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestKnockExampleBytes(t *testing.T) {
	raw, err := mustKnock(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(raw); got != knockExampleHex {
		t.Fatalf("knock bytes\n got %s\nwant %s", got, knockExampleHex)
	}
	back, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !IsKnock(back) {
		t.Fatal("decoded knock not recognised")
	}
	if got := PlainText(back); got != "🔔 Knock knock! Alice is trying to get your attention." {
		t.Fatalf("text %q", got)
	}
	if back.Body.Disposition != Render || back.Body.ContentType != TypePlain {
		t.Fatalf("body %v %q", back.Body.Disposition, back.Body.ContentType)
	}
}

func TestIsKnock(t *testing.T) {
	plain, err := knockBuilder().Text("🔔 Knock knock! Alice is trying to get your attention.")
	if err != nil {
		t.Fatal(err)
	}
	withFalse, err := knockBuilder().Text("x", WithExtension(KeyKnock, false))
	if err != nil {
		t.Fatal(err)
	}
	withInt, err := knockBuilder().Text("x", WithExtension(KeyKnock, 1))
	if err != nil {
		t.Fatal(err)
	}
	withTextKey, err := knockBuilder().Text("x", WithExtension(TextKey("-24"), true))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		m    *Message
		want bool
	}{
		{"knock", mustKnock(t), true},
		{"same text, no extension", plain, false},
		{"extension false", withFalse, false},
		{"extension 1", withInt, false},
		{"text key \"-24\"", withTextKey, false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		if got := IsKnock(tc.m); got != tc.want {
			t.Errorf("%s: IsKnock = %v", tc.name, got)
		}
	}
}

func TestKnockText(t *testing.T) {
	for name, want := range map[string]string{
		"Bob":             "🔔 Knock knock! Bob is trying to get your attention.",
		"":                "🔔 Knock knock! Someone is trying to get your attention.",
		"  Eve\r\nX\x7f ": "🔔 Knock knock! Eve  X is trying to get your attention.",
	} {
		if got := KnockText(name); got != want {
			t.Errorf("KnockText(%q) = %q", name, got)
		}
	}
	m, err := knockBuilder().Knock("Bob", InReplyTo(MessageID{1, 2}))
	if err != nil || m.InReplyTo == nil || !IsKnock(m) {
		t.Fatalf("knock with options: %v", err)
	}
}

// TestKnockDocMatches keeps the example in docs/knock.md in step with the code.
func TestKnockDocMatches(t *testing.T) {
	doc, err := os.ReadFile("../docs/knock.md")
	if os.IsNotExist(err) {
		t.Skip("skipping: ../docs/knock.md is absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "Hex in one line:\n\n```\n")
	block, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("docs/knock.md has no one-line hex block")
	}
	if got := strings.ReplaceAll(block, "\n", ""); got != knockExampleHex {
		t.Fatalf("docs/knock.md hex\n got %s\nwant %s", got, knockExampleHex)
	}
	if !strings.Contains(string(doc), fmt.Sprintf("It is %d bytes", len(knockExampleHex)/2)) {
		t.Error("docs/knock.md states the wrong length")
	}
}
