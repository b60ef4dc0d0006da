package jetstream

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
)

// The ratchet tree of an invite's epoch, kept for its Welcomes (protocol
// version 8), stored once per invite (room and seq) in chunks, apart from
// the Welcome records that name it (groups.go). A chunk is one message, so
// no tree is too large for NATS's max payload (1 MB by default).

// welcomeTreeChunk is the most bytes of a tree one message holds: half of
// NATS's default max payload, leaving room for the headers of a batch.
const welcomeTreeChunk = 512 << 10

// inviteRef names an invite: the room and the seq of its event.
type inviteRef struct {
	room string
	seq  uint64
}

func compareInvites(a, b inviteRef) int {
	if c := strings.Compare(a.room, b.room); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func welcomeTreePrefix(room string, seq uint64) string {
	return "m.wtree." + b64(room) + "." + strconv.FormatUint(seq, 10) + "."
}

func subjWelcomeTree(room string, seq uint64, i uint32) string {
	return welcomeTreePrefix(room, seq) + strconv.FormatUint(uint64(i), 10)
}

// subjWelcomeTrees matches every chunk of the invite's tree.
func subjWelcomeTrees(room string, seq uint64) string { return welcomeTreePrefix(room, seq) + "*" }

// welcomeTreeChunks is how many chunks a tree of n bytes takes.
func welcomeTreeChunks(n int) uint32 {
	return uint32((n + welcomeTreeChunk - 1) / welcomeTreeChunk)
}

// treeMsgs are the messages storing trees, in a stable order.
func treeMsgs(trees map[inviteRef][]byte) []*nats.Msg {
	refs := make([]inviteRef, 0, len(trees))
	for ref := range trees {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, compareInvites)
	var msgs []*nats.Msg
	for _, ref := range refs {
		tree := trees[ref]
		for i := range welcomeTreeChunks(len(tree)) {
			lo := int(i) * welcomeTreeChunk
			msgs = append(msgs, msg(subjWelcomeTree(ref.room, ref.seq, i), tree[lo:min(lo+welcomeTreeChunk, len(tree))], nil))
		}
	}
	return msgs
}

// readWelcomeTree reads an invite's tree of n bytes in chunks chunks (from
// the leader: a Welcome record read from it names chunks it has).
func (s *Store) readWelcomeTree(ctx context.Context, ref inviteRef, chunks uint32, n int) ([]byte, error) {
	tree := make([]byte, 0, n)
	for i := range chunks {
		e, err := s.getLast(ctx, subjWelcomeTree(ref.room, ref.seq, i))
		if err != nil {
			return nil, err
		}
		if !e.live() {
			return nil, fmt.Errorf("ratchet tree of %s #%d: chunk %d of %d missing", ref.room, ref.seq, i, chunks)
		}
		tree = append(tree, e.data...)
	}
	if len(tree) != n {
		return nil, fmt.Errorf("ratchet tree of %s #%d: %d bytes, want %d", ref.room, ref.seq, len(tree), n)
	}
	return tree, nil
}
