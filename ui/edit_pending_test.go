package ui

import (
	"testing"
	"time"

	"mimichat/session"
)

// TestUpEditsAckedNotEchoed: up in an empty composer edits the user's
// newest message even while the hub has acked it and its echo has not
// reached the timeline yet (the cause of TestSmallDefects' flake: up then
// edited an older message, or said there was none). A failed message is
// not offered.
func TestUpEditsAckedNotEchoed(t *testing.T) {
	s := cachedSession(t, 20)
	m := benchModel(t, s, 20)
	r := m.current()
	m.comp.setValue("hello")
	_, cmd := m.Update(keyMsg("enter"))
	runCmd(t, cmd, 10*time.Second)
	if len(r.pending) != 1 {
		t.Fatalf("%d pending rows", len(r.pending))
	}
	item := r.pending[0].item
	for _, tc := range []struct {
		name  string
		state session.OutboxState
		seq   uint64
		want  string // "" = not the pending message
	}{
		{"pending", session.Pending, 0, "hello"},
		{"acked, not echoed", session.Acked, r.last + 5, "hello"},
		{"failed", session.Failed, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := item
			it.State, it.Seq = tc.state, tc.seq
			m.Update(eventsMsg{evs: []session.Event{session.OutboxEvent{Item: it}}, closed: true})
			if len(r.pending) != 1 {
				t.Fatalf("%d pending rows after the outbox event", len(r.pending))
			}
			m.comp.reset()
			m.focusComposer()
			m.Update(keyMsg("up"))
			got := m.comp.editing == item.ID
			if got != (tc.want != "") {
				t.Fatalf("editing %v, want the pending message: %v (composer %q)", m.comp.editing, tc.want != "", m.comp.value())
			}
			if tc.want != "" && m.comp.value() != tc.want {
				t.Errorf("composer holds %q, want %q", m.comp.value(), tc.want)
			}
		})
	}
}
