package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vectorIndex is the part of ../../shared/vectors/mimi-content/index.json the
// tool tests need.
type vectorEntry struct {
	ID        string `json:"id"`
	HexFile   string `json:"hex_file"`
	SenderURI string `json:"sender_uri"`
	RoomURI   string `json:"room_uri"`
	MessageID string `json:"message_id"`
}

func contentVectors(t *testing.T) (string, []vectorEntry) {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "vectors", "mimi-content")
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if os.IsNotExist(err) {
		t.Skip("../../shared/vectors/mimi-content is absent: the content tool vector tests need it")
	}
	if err != nil {
		t.Fatal(err)
	}
	var entries []vectorEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	return dir, entries
}

func runTool(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, stdio{in: bytes.NewReader(stdin), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestContentToolsOnVectors(t *testing.T) {
	dir, entries := contentVectors(t)
	messages := 0
	for _, e := range entries {
		if e.MessageID == "" || e.SenderURI == "" {
			continue // 15 and 16 are not messages
		}
		messages++
		t.Run(e.ID, func(t *testing.T) {
			hexText, err := os.ReadFile(filepath.Join(dir, e.HexFile))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := hex.DecodeString(strings.TrimSpace(string(hexText)))

			// decode from a hex FILE, with the ID.
			code, out, errs := runTool(t, nil, "content", "decode", "--sender", e.SenderURI, "--room", e.RoomURI,
				filepath.Join(dir, e.HexFile))
			if code != 0 {
				t.Fatalf("decode exit %d: %s", code, errs)
			}
			var got struct {
				Kind          string `json:"kind"`
				MessageID     string `json:"messageId"`
				Deterministic bool   `json:"deterministic"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("decode output is not JSON: %v\n%s", err, out)
			}
			if got.Kind != "message" || got.MessageID != e.MessageID || !got.Deterministic {
				t.Fatalf("decode: kind %q id %s deterministic %v; want message %s true", got.Kind, got.MessageID, got.Deterministic, e.MessageID)
			}

			// encode the JSON view from stdin: the same bytes.
			code, raw, errs := runTool(t, []byte(out), "content", "encode")
			if code != 0 {
				t.Fatalf("encode exit %d: %s", code, errs)
			}
			if !bytes.Equal([]byte(raw), want) {
				t.Fatalf("decode → encode changed the bytes:\n got %x\nwant %x", raw, want)
			}

			// id from raw stdin.
			code, id, errs := runTool(t, want, "content", "id", "--sender", e.SenderURI, "--room", e.RoomURI)
			if code != 0 || strings.TrimSpace(id) != e.MessageID {
				t.Fatalf("id exit %d out %q err %q; want %s", code, id, errs, e.MessageID)
			}
		})
	}
	if messages != 14 {
		t.Fatalf("checked %d message vectors, want 14", messages)
	}
}

func TestContentDecodeStatusReport(t *testing.T) {
	dir, _ := contentVectors(t)
	code, out, errs := runTool(t, nil, "content", "decode", filepath.Join(dir, "16-message-status-report.hex"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Kind         string `json:"kind"`
		StatusReport []struct {
			MessageID string `json:"messageId"`
			Status    struct {
				Value int    `json:"value"`
				Name  string `json:"name"`
			} `json:"status"`
		} `json:"statusReport"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Kind != "status" || len(got.StatusReport) != 4 || got.StatusReport[3].Status.Name != "expired" ||
		got.StatusReport[0].MessageID != "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4" {
		t.Fatalf("status report view wrong:\n%s", out)
	}
}

func TestContentToolErrors(t *testing.T) {
	dir, _ := contentVectors(t)
	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		inStderr string
	}{
		{"implied values are not a message", "", []string{"content", "decode", "--as", "message", filepath.Join(dir, "15-implied-original.hex")}, 1, "mimichat content: "},
		{"truncated hex", "87505eed", []string{"content", "decode"}, 1, "mimichat content: "},
		{"odd hex", "875", []string{"content", "decode"}, 1, "hex input"},
		{"empty input", "", []string{"content", "decode"}, 1, "empty input"},
		{"bad JSON", "{", []string{"content", "encode"}, 1, "JSON view"},
		{"bad salt in view", `{"salt":"00","topicId":"","mimiExtensions":[],"nestedPart":{"disposition":{"value":1},"language":"","cardinality":{"value":0}}}`, []string{"content", "encode"}, 1, "salt: "},
		{"id needs URIs", "", []string{"content", "id"}, 2, "--sender and --room are required"},
		{"unknown subcommand", "", []string{"content", "frobnicate"}, 2, "unknown subcommand"},
		{"bad rule", "", []string{"content", "id", "--sender", "a", "--room", "b", "--rule", "06"}, 2, "want 08 or 07"},
		{"unknown flag", "", []string{"content", "decode", "--nope"}, 2, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runTool(t, []byte(tc.stdin), tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.inStderr) {
				t.Fatalf("exit %d stderr %q; want exit %d with %q", code, errs, tc.code, tc.inStderr)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Fatalf("error is not one line: %q", errs)
			}
		})
	}
}

func TestHelpListsCommands(t *testing.T) {
	code, out, _ := runTool(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "content") {
		t.Fatalf("exit %d, help:\n%s", code, out)
	}
	code, out, _ = runTool(t, nil, "content", "--help")
	if code != 0 || !strings.Contains(out, "content decode") {
		t.Fatalf("exit %d, content help:\n%s", code, out)
	}
}

func TestContentEncodeHandWrittenView(t *testing.T) {
	view := `{"salt":"000102030405060708090a0b0c0d0e0f","topicIdText":"Foo 118",
	 "mimiExtensions":[{"key":2,"value":"mimi://example.com/r/r"},{"key":1,"value":"mimi://example.com/u/a"},{"key":"x-note","value":7}],
	 "nestedPart":{"disposition":{"name":"reaction"},"language":"","cardinality":{"name":"single"},
	   "contentType":"text/plain;charset=utf-8","contentText":"👍"}}`
	code, out, errs := runTool(t, []byte(view), "content", "encode", "--hex")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Decode it back: the fields survive and extension keys come out sorted
	// bytewise (1, 2, then the text key).
	code, js, errs := runTool(t, []byte(out), "content", "decode")
	if code != 0 {
		t.Fatalf("decode exit %d: %s", code, errs)
	}
	for _, want := range []string{`"topicIdText": "Foo 118"`, `"name": "reaction"`, `"contentText": "👍"`, `"diag": "7"`} {
		if !strings.Contains(js, want) {
			t.Errorf("decoded view lacks %s:\n%s", want, js)
		}
	}
	if i1, i2, ix := strings.Index(js, `"key": 1`), strings.Index(js, `"key": 2`), strings.Index(js, `"key": "x-note"`); !(i1 < i2 && i2 < ix) {
		t.Errorf("extensions not in bytewise key order:\n%s", js)
	}
}

func TestContentDecodeNonDeterministic(t *testing.T) {
	dir, _ := contentVectors(t)
	hexText, err := os.ReadFile(filepath.Join(dir, "01-original.hex"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(strings.TrimSpace(string(hexText)))
	// Re-encode the 0-length topicId (0x40) as a 1-byte-length head (0x58 0x00):
	// well-formed, not deterministic.
	at := bytes.Index(raw, []byte{0xf6, 0x40, 0xf6})
	if at < 0 {
		t.Fatal("layout of 01-original changed")
	}
	odd := append(append(append([]byte{}, raw[:at+1]...), 0x58, 0x00), raw[at+2:]...)
	code, out, errs := runTool(t, odd, "content", "decode", "--sender", "mimi://example.com/u/alice-smith", "--room", "mimi://example.com/r/engineering_team")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"deterministic": false`) || strings.Contains(out, "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4") {
		t.Fatalf("want deterministic false and an ID over the received (different) bytes:\n%s", out)
	}
	code, back, _ := runTool(t, []byte(out), "content", "encode")
	if code != 0 || !bytes.Equal([]byte(back), raw) {
		t.Fatalf("encode of a non-deterministic input should give its deterministic form")
	}
}
