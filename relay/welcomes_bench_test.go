package relay

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// BenchmarkWelcomePart: one get_welcome_part of a 64 KiB tree through a
// real relay, for a device with 1 and with 200 other pending Welcomes, each
// with a 64 KiB tree of its own. A part read touches only its Welcome, so
// ns/op is the same for both; before, each part read every Welcome of the
// device with its tree (12.5 MiB with 200). Run on a quiet machine:
//
//	go test ./relay -run XXX -bench BenchmarkWelcomePart -cpu 1 -count 5
func BenchmarkWelcomePart(b *testing.B) {
	const treeBytes = 64 << 10
	const device = "mimi://example.com/d/bob/phone"
	for _, others := range []int{1, 200} {
		b.Run(fmt.Sprintf("others=%d", others), func(b *testing.B) {
			dir := b.TempDir()
			st, err := OpenStore(dir)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.Domain("example.com"); err != nil {
				b.Fatal(err)
			}
			tok := addUser(b, st, "bob")
			room := func(i int) string { return proto.RoomURI("example.com", fmt.Sprintf("r%03d", i)) }
			var batch store.Batch
			for i := range others + 1 {
				tree := make([]byte, treeBytes)
				for j := range tree {
					tree[j] = byte(i + j)
				}
				batch.Welcomes = append(batch.Welcomes, store.Welcome{Device: device, User: proto.UserURI("example.com", "bob"),
					Room: room(i), Seq: 2, Data: make([]byte, 500), Created: time.Now(), RatchetTree: tree})
			}
			if err := st.db.AppendBatch(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			if err := st.Close(); err != nil {
				b.Fatal(err)
			}
			s := startRelay(b, benchLimits(Config{Data: dir}))
			c := dialDevice(b, s.Addr(), tok, device)
			b.ResetTimer()
			for b.Loop() {
				c.send(&proto.GetWelcomePart{RID: c.nextRID(), Device: device, Room: room(0), Seq: 2, Part: proto.PartRatchetTree})
				p, ef := answerOrError[*proto.WelcomePart](c)
				if ef != nil {
					b.Fatalf("%s: %s", ef.Code, ef.Reason)
				}
				if len(p.Data) != treeBytes {
					b.Fatalf("a part of %d bytes, want the whole %d-byte tree", len(p.Data), treeBytes)
				}
			}
		})
	}
}
