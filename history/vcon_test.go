package history

import (
	"bytes"
	"testing"
	"time"
)

func exportVCon(t testing.TB, items []Item, now int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	plan := NewPlan(now, 0, nil)
	for i := range items {
		plan.Scan(&items[i])
	}
	w, err := NewVConWriter(&buf, Room{ID: roomURI, Name: "History room"}, MembersOf(items), VConOptions{CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		out, keep := plan.Filter(it)
		if !keep {
			continue
		}
		if err := w.Write(&out); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t testing.TB, f func(sink func(*Item) error) (*History, *Report, error)) (*History, *Report) {
	t.Helper()
	var items []Item
	h, rep, err := f(func(it *Item) error { items = append(items, *it); return nil })
	if err != nil {
		t.Fatal(err)
	}
	h.Items = items
	return h, rep
}

func TestVConRoundTrip(t *testing.T) {
	r := everyKind(t)
	now := t0.Add(2 * time.Hour).UnixMilli()
	doc := exportVCon(t, r.items, now)
	h, rep := readAll(t, func(s func(*Item) error) (*History, *Report, error) { return ReadVCon(bytes.NewReader(doc), s) })
	if h.Room.ID != roomURI {
		t.Fatalf("room %q", h.Room.ID)
	}
	for _, it := range h.Items {
		if it.IsMessage() && !it.Verified {
			t.Errorf("seq %d: imported message ID does not verify", it.Seq)
		}
	}
	want := snapshot(timelineOf(r.items, now), vconCarries)
	got := snapshot(timelineOf(h.Items, now), vconCarries)
	if got != want {
		t.Errorf("timeline differs after vCon round trip\n--- want\n%s--- got\n%s", want, got)
	}
	if !rep.Lossless() {
		t.Errorf("vCon import dropped: %v", rep.Dropped)
	}
	t.Logf("%d bytes; %s", len(doc), rep)
}

func TestSnapshotShowsEveryKind(t *testing.T) {
	r := everyKind(t)
	now := t0.Add(2 * time.Hour).UnixMilli()
	s := snapshot(timelineOf(r.items, now), vconCarries)
	for _, want := range []string{"del=true", "exp=true", "reaction ❤", "reaction 🎉", "receipt mimi://example.com/u/carol read",
		"ext image/png", "multi", "topic=\"release-2\"", "Kind:name", "Kind:unban", "v=2", "Knock knock"} {
		if !bytes.Contains([]byte(s), []byte(want)) {
			t.Errorf("snapshot lacks %q:\n%s", want, s)
		}
	}
	if n := bytes.Count([]byte(s), []byte("\n")); n < 30 {
		t.Errorf("snapshot has %d lines", n)
	}
}
