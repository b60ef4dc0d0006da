package jetstream

import (
	"context"
	"encoding/json"
	"fmt"

	"mimichat/relay/store"
)

// HeadsOf reads the heads of rooms, each at least as new as the stream's
// leader had it when the call began: every write acked before the call is
// in the answer. A room missing from the answer does not exist. It costs
// one request to the leader (the stream's last sequence) and one direct
// get per maxMultiLast rooms, which any replica may answer: an answer that
// covers the leader's last sequence is taken, one from a replica behind it
// is read again from the leader a subject at a time (getEach). A batched
// subscribe of thousands of rooms is decided on the log's membership this
// way instead of on one leader read per room.
func (s *Store) HeadsOf(ctx context.Context, rooms []string) (map[string]store.Stamp, error) {
	fail := func(err error) (map[string]store.Stamp, error) {
		return nil, fmt.Errorf("jetstream store: heads of %d rooms: %w", len(rooms), err)
	}
	last, err := s.leaderLastSeq(ctx)
	if err != nil {
		return fail(err)
	}
	out := make(map[string]store.Stamp, len(rooms))
	for lo := 0; lo < len(rooms); lo += maxMultiLast {
		chunk := rooms[lo:min(lo+maxMultiLast, len(rooms))]
		subjs := make([]string, len(chunk))
		for i, r := range chunk {
			subjs[i] = subjHead(r)
		}
		got, err := s.currentLastOf(ctx, subjs, last)
		if err != nil {
			return fail(err)
		}
		for i, r := range chunk {
			e, ok := got[subjs[i]]
			if !ok || !e.live() {
				continue
			}
			var st stampJSON
			if err := json.Unmarshal(e.data, &st); err != nil {
				return fail(fmt.Errorf("head of %s: %w", r, err))
			}
			out[r] = store.Stamp{Seq: st.Seq, TS: st.TS}
		}
	}
	return out, nil
}

// currentLastOf reads the newest message of each of subjs as of stream
// sequence last or later: from a replica whose answer covers last, else
// from the leader.
func (s *Store) currentLastOf(ctx context.Context, subjs []string, last uint64) (map[string]entry, error) {
	actx, cancel := context.WithTimeout(ctx, 2*attemptTimeout)
	got, upTo, err := s.directLastOnce(actx, subjs)
	cancel()
	if err == nil && upTo >= last {
		found := make(map[string]entry, len(got))
		for _, e := range got {
			found[e.hdr.Get(hdrStreamSubj)] = e
		}
		return found, nil
	}
	// A replica behind the leader, one that did not answer, or an answer
	// that found nothing (it does not say how far it looked).
	each, err := s.getEach(ctx, subjs)
	if err != nil {
		return nil, err
	}
	found := make(map[string]entry, len(each))
	for i, e := range each {
		found[subjs[i]] = e
	}
	return found, nil
}

// leaderLastSeq is the sequence of the stream's newest message as its
// leader has it: a STREAM.MSG.GET of the last message on m.>, which only
// the leader answers. (A STREAM.INFO is answered by any replica while the
// stream has no leader, from its own state: a node cut off from the
// quorum would take its stale state for the leader's.)
func (s *Store) leaderLastSeq(ctx context.Context) (uint64, error) {
	e, err := s.getLast(ctx, "m.>")
	if err != nil {
		return 0, fmt.Errorf("stream %s last sequence: %w", s.stream, err)
	}
	return e.seq, nil
}
