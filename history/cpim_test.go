package history

import (
	"bytes"
	"testing"
	"time"

	"mimichat/content"
)

func exportCPIM(t testing.TB, items []Item, now int64) ([]byte, *Report) {
	t.Helper()
	var buf bytes.Buffer
	plan := NewPlan(now, 0, nil)
	for i := range items {
		plan.Scan(&items[i])
	}
	w := NewCPIMWriter(&buf, Room{ID: roomURI}, MembersOf(items), now)
	for _, it := range items {
		if out, keep := plan.Filter(it); keep {
			if err := w.Write(&out); err != nil {
				t.Fatal(err)
			}
		}
	}
	rep, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), rep
}

// cpimCarries strips from a room what IMMI CPIM cannot carry: room events,
// topics, relative expiry, extensions other than the knock marker.
func cpimCarries(items []Item) []Item {
	var out []Item
	for _, it := range items {
		if it.Event != nil {
			continue
		}
		m := *it.Msg
		m.TopicID = nil
		if m.Expires != nil && m.Expires.Relative {
			m.Expires = nil
		}
		var ext content.Extensions
		if content.IsKnock(&m) {
			ext.Set(content.KeyKnock, []byte{0xf5})
		}
		m.Extensions = ext
		raw, _ := m.Encode()
		it.Msg, it.Raw, it.Seq = &m, raw, 0
		out = append(out, it)
	}
	return out
}

func TestCPIMRoundTrip(t *testing.T) {
	r := everyKind(t)
	now := t0.Add(2 * time.Hour).UnixMilli()
	doc, exp := exportCPIM(t, r.items, now)
	h, rep := readAll(t, func(s func(*Item) error) (*History, *Report, error) { return ReadCPIM(bytes.NewReader(doc), s) })
	if h.Room.ID != roomURI {
		t.Errorf("room %q", h.Room.ID)
	}
	c := carries{deletedBy: true, multiSemantics: true}
	want := snapshot(timelineOf(cpimCarries(r.items), now), c)
	got := snapshot(timelineOf(h.Items, now), c)
	if got != want {
		t.Errorf("timeline differs after CPIM round trip\n--- want\n%s--- got\n%s", want, got)
	}
	for _, reason := range []string{"membership and room changes (no CPIM equivalent)", "topic (thread) IDs", "relative (after-read) expiry",
		"attachment decryption keys and content hashes (message/external-body has no field)"} {
		if exp.Dropped[reason] == 0 {
			t.Errorf("export report lacks %q: %v", reason, exp.Dropped)
		}
	}
	t.Logf("export: %s\nimport: %s", exp, rep)
}
