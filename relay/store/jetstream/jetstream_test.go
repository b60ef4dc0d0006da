package jetstream

import (
	"bytes"
	"testing"

	"mimichat/relay/store"
	"mimichat/relay/store/storetest"
)

var _ store.Store = (*Store)(nil)

// TestConformance runs the store conformance suite on a real embedded
// JetStream server (in process, no listener) whose data lives in the
// subtest's directory; reopening starts a new server on the same directory.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dir := t.TempDir()
		return func() (store.Store, error) { return Open(Options{Dir: dir}) }
	})
}

// TestReadFromLeader: the fallback read (one leader get per event, used
// when a lagging replica answers a direct get short) decodes events exactly
// as the direct read does.
func TestReadFromLeader(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	const room = "mimi://example.com/r/a"
	b := store.Batch{Rooms: []store.Room{{URI: room}}}
	for seq := uint64(1); seq <= 5; seq++ {
		k := store.SubmitKey([]byte{byte(seq)})
		e := store.Event{Room: room, Seq: seq, TS: int64(100 + seq), Frame: []byte{byte(seq), 0, 1}, Key: k[:]}
		if seq == 3 {
			e.Key, e.Ends = nil, "mimi://example.com/u/bob"
		}
		b.Events = append(b.Events, e)
	}
	if err := s.AppendBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	direct, err := s.EventsAfter(ctx, room, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	leader, err := s.readFromLeader(ctx, room, direct[:1:1], 1, 5, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(direct) != 5 || len(leader) != 4 {
		t.Fatalf("direct read %d events, leader read %d; want 5 and 4", len(direct), len(leader))
	}
	for i, e := range leader {
		d := direct[i]
		if e.Seq != d.Seq || e.TS != d.TS || e.Ends != d.Ends || !bytes.Equal(e.Key, d.Key) || !bytes.Equal(e.Frame, d.Frame) {
			t.Fatalf("event %d: leader %+v, direct %+v", i, e, d)
		}
	}
}
