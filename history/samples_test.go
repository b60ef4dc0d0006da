package history

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every sample in ../shared/samples/{vcon,cpim} imports or is refused with a
// precise reason; the table says which and why.
func TestSamples(t *testing.T) {
	const root = "../../shared/samples/"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("shared samples absent (%v)", err)
	}
	cases := []struct {
		file     string
		format   Format
		messages int    // messages imported
		events   int    // room events imported
		refused  string // substrings of the error, in order, separated by " … "; "" = imports
		why      string
	}{
		{"vcon/vcon-core-03_ab_call_ext_rec_amended.vcon", FormatVCon, 1, 0, "", "the recording is dropped (reported), the text dialog imports"},
		{"vcon/vcon-core-03_ab_call_ext_rec_encrypted.vcon", FormatVCon, 0, 0, "$.ciphertext: encrypted vCon (JWE)", "JWE: no key"},
		{"vcon/vcon-core-03_ab_call_ext_rec_signed.vcon", FormatVCon, 0, 0, "$.payload→$.dialog: nothing to import: … 1 dialogs of type recording", "JWS payload read; it is a call"},
		{"vcon/vcon-core-03_ab_email_acct_prob_thread.vcon", FormatVCon, 2, 0, "", "email text dialogs, synthetic IDs"},
		{"vcon/vcon-core-03_ab_email_prob_followup_text_thread.vcon", FormatVCon, 3, 0, "", "email text dialogs"},
		{"vcon/vcon-core-03_b_email_acct_prob_image.vcon", FormatVCon, 1, 0, "", "multipart email body kept as one part"},
		{"vcon/vcon-core-03_vcon.cddl", "", 0, 0, "detect import: line 1: not a vCon", "a CDDL schema, not history"},
		{"vcon/vcon-core-03_vcon_json_schema.json", FormatVCon, 0, 0, "$.uuid: a vCon without a MIMI room needs a uuid", "a JSON schema, not a vCon"},
		{"vcon/vcon-js_interop_call_inline-wav.vcon.json", FormatVCon, 0, 0, "dialogs of type recording", "audio only"},
		{"vcon/vcon-js_legacy-0.0.1_text-chat_03f94617.vcon.json", FormatVCon, 22, 0, "", "0.0.1: mimetype, no encoding"},
		{"vcon/vcon-js_legacy-0.0.1_text-chat_4803dc37.vcon.json", FormatVCon, 11, 0, "", "0.0.1: mimetype, no encoding"},
		{"vcon/vcon-mimi-00_attachment.AS-PUBLISHED-invalid-json.txt", FormatVCon, 0, 0, "$.room: want a room object", "invalid JSON as published"},
		{"vcon/vcon-mimi-00_attachment.DERIVED-syntax-fixed.json", FormatVCon, 1, 0, "$.attachments[0].body: cannot decode", "the attachment body is elided with \"...\""},
		{"vcon/vcon-mimi-00_mimi-examples.AS-PUBLISHED-invalid-json.txt", FormatVCon, 0, 0, "$.room: want a room object", "invalid JSON (None) as published"},
		{"vcon/vcon-mimi-00_mimi-examples.DERIVED-syntax-fixed.json", FormatVCon, 11, 2, "", "MIMI: mimetype, imUri, expiring, party_history"},
		{"cpim/cpim.js_test_messages_msg1.cpim", FormatCPIM, 1, 0, "", "NS rebinding, wrong-case subject dropped"},
		{"cpim/cpim.js_test_messages_msg2.cpim", FormatCPIM, 1, 0, "", "undeclared prefix dropped, no DateTime"},
		{"cpim/immi-00_delete.cpim.txt", FormatCPIM, 1, 0, "", "Supersedes + Content-Length: 0"},
		{"cpim/immi-00_edit.cpim.txt", FormatCPIM, 1, 0, "", "Supersedes + body"},
		{"cpim/immi-00_expiring.cpim.txt", FormatCPIM, 1, 0, "", "ExpiresDateTime"},
		{"cpim/immi-00_knock.cpim.txt", FormatCPIM, 1, 0, "", "alert disposition"},
		{"cpim/immi-00_mentions-html.cpim.txt", FormatCPIM, 1, 0, "", ""},
		{"cpim/immi-00_mentions-markdown.cpim.txt", FormatCPIM, 1, 0, "", ""},
		{"cpim/immi-00_multipart-alternative-wrapper.mime.txt", FormatCPIM, 1, 0, "", "vendor part dropped"},
		{"cpim/immi-00_original-message.cpim.txt", FormatCPIM, 1, 0, "", ""},
		{"cpim/immi-00_reaction.cpim.txt", FormatCPIM, 1, 0, "", "reaction disposition"},
		{"cpim/immi-00_read-receipt.cpim.txt", FormatCPIM, 1, 0, "", "IMMI-Disposition lines"},
		{"cpim/immi-00_reply.cpim.txt", FormatCPIM, 1, 0, "", ""},
		{"cpim/liblinphone_cpim-tester_parse_minimal_message.cpim", FormatCPIM, 0, 0, "line 1: message without a From header", "no sender"},
		{"cpim/liblinphone_cpim-tester_parse_rfc_example.cpim", FormatCPIM, 0, 0, "line 7: Require: \"MyFeatures.VitalMessageOption\"", "RFC 3862 Require of an unknown extension"},
		{"cpim/mahy-mimi-content-01_unlike.cpim.txt", FormatCPIM, 1, 0, "", "misspelt Supercedes"},
		{"cpim/rcsjta_CpimParserTest_imdn.cpim", FormatCPIM, 1, 0, "", "imdn.Message-ID"},
	}
	listed := map[string]bool{}
	for _, c := range cases {
		listed[c.file] = true
		t.Run(c.file, func(t *testing.T) {
			f, err := os.Open(root + c.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var msgs, evs int
			format, _, _, err := Read(f, func(it *Item) error {
				if it.Event != nil {
					evs++
				} else {
					msgs++
				}
				return nil
			})
			if format != c.format {
				t.Errorf("format %q, want %q", format, c.format)
			}
			if c.refused != "" {
				var ie *ImportError
				if !errors.As(err, &ie) || !containsInOrder(err.Error(), strings.Split(c.refused, " … ")) {
					t.Fatalf("err = %v, want an ImportError containing %q (%s)", err, c.refused, c.why)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v (%s)", err, c.why)
			}
			if msgs != c.messages || evs != c.events {
				t.Errorf("imported %d messages %d events, want %d and %d", msgs, evs, c.messages, c.events)
			}
			if c.format == FormatCPIM {
				// The other line ending reads the same: LF samples as CRLF and back.
				raw, _ := os.ReadFile(root + c.file)
				lf := strings.ReplaceAll(string(raw), "\r\n", "\n")
				var a, b []Item
				collect := func(dst *[]Item) func(*Item) error {
					return func(it *Item) error { *dst = append(*dst, *it); return nil }
				}
				if _, _, err := ReadCPIM(strings.NewReader(lf), collect(&a)); err != nil {
					t.Fatal(err)
				}
				if _, _, err := ReadCPIM(strings.NewReader(strings.ReplaceAll(lf, "\n", "\r\n")), collect(&b)); err != nil {
					t.Fatal(err)
				}
				if len(a) != len(b) || len(a) == 0 || !bytes.Equal(a[0].Raw, b[0].Raw) || a[0].ID != b[0].ID {
					t.Errorf("CRLF and LF read differently")
				}
			}
		})
	}
	for _, dir := range []string{"vcon", "cpim"} {
		fs, _ := filepath.Glob(root + dir + "/*")
		for _, f := range fs {
			rel := dir + "/" + filepath.Base(f)
			if !listed[rel] && filepath.Base(f) != "SOURCES.txt" {
				t.Errorf("sample %s is not in the table", rel)
			}
		}
	}
}

// containsInOrder reports whether s holds each of parts, one after another.
func containsInOrder(s string, parts []string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}
