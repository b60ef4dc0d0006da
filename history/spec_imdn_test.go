package history_test

import (
	"strings"
	"testing"

	"mimichat/content"
	"mimichat/history"
)

// RFC 5438 IMDN documents with what §9 allows beside a notification's
// status (recipient-uri, original-recipient-uri, subject, extension elements
// in other namespaces, in imdn and in status) and every status it defines:
// each maps to a MIMI status of the message it names or is reported by its
// path, never kept as a chat message.
func TestSpecIMDN(t *testing.T) {
	for _, tc := range []struct {
		doc      string
		statuses []content.Status // of the status reports after the first (original) message
		lost     map[string]int   // report reasons by their path
	}{
		{"cpim/imdn-extensions.cpim", []content.Status{content.StatusDelivered, content.StatusRead}, map[string]int{
			"IMDN imdn/recipient-uri: ":          2,
			"IMDN imdn/original-recipient-uri: ": 1,
			"IMDN imdn/subject: ":                1,
			"IMDN imdn/delivery-notification/status/{urn:example:imdn-ext}device: ": 1,
			"IMDN imdn/{urn:example:imdn-ext}note: ":                                1,
		}},
		{"cpim/imdn-statuses.cpim", []content.Status{content.StatusError, content.StatusError}, map[string]int{
			"IMDN imdn/delivery-notification/status/failed: ":      1,
			"IMDN imdn/delivery-notification/status/forbidden: ":   1,
			"IMDN imdn/display-notification/status/forbidden: ":    1,
			"IMDN imdn/processing-notification/status/processed: ": 1,
			"IMDN imdn/processing-notification/status/stored: ":    1,
			"IMDN imdn/processing-notification/status/forbidden: ": 1,
			"IMDN imdn/processing-notification/status/error: ":     1,
		}},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			h, rep := readSpec(t, specDoc(t, tc.doc))
			if len(h.Items) != 1+len(tc.statuses) {
				t.Fatalf("%d items, want %d\n%s", len(h.Items), 1+len(tc.statuses), rep)
			}
			if m := h.Items[0].Msg; string(m.Body.Content) != "Are you there?" {
				t.Fatalf("first item %q", m.Body.Content)
			}
			for i, w := range tc.statuses {
				sr, err := h.Items[1+i].Msg.StatusReport()
				if err != nil || len(sr) != 1 || sr[0].ID != h.Items[0].ID || sr[0].Status != w {
					t.Errorf("notification %d: %v %v, want %v of the first message", i, sr, err, w)
				}
			}
			got := map[string]int{}
			for reason, n := range rep.Dropped {
				if !strings.HasPrefix(reason, "IMDN ") {
					t.Errorf("unexpected loss %q", reason)
					continue
				}
				path, _, _ := strings.Cut(reason, ": ")
				got[path+": "] += n
			}
			for path, n := range tc.lost {
				if got[path] != n {
					t.Errorf("%q reported %d times, want %d", path, got[path], n)
				}
			}
			for path := range got {
				if _, ok := tc.lost[path]; !ok {
					t.Errorf("%q reported, not expected", path)
				}
			}
			if t.Failed() {
				t.Logf("report:\n%s", rep)
			}
		})
	}
}

// A broken IMDN document is refused with the rule it breaks, naming the line.
func TestSpecIMDNRefused(t *testing.T) {
	doc := string(specDoc(t, "cpim/imdn.cpim"))
	for _, tc := range []struct{ name, from, to, rule string }{
		{"not XML", "<imdn xmlns", "<imdn <xmlns", "not an IMDN document"},
		{"no message-id", "<message-id>34jk324j</message-id>", "", "no message-id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(doc, tc.from, tc.to, 1)
			_, _, _, err := history.Read(strings.NewReader(bad), func(*history.Item) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.rule) {
				t.Fatalf("error %v, want %q", err, tc.rule)
			}
		})
	}
}
