package content

import "testing"

// TestRecordStoreChunks: records keep their addresses while the store grows,
// every index maps to its own slot, and a small store allocates a small chunk.
func TestRecordStoreChunks(t *testing.T) {
	var s recordStore
	const n = 70_000
	ptrs := make([]*record, n)
	for i := range n {
		j, r := s.add()
		if int(j) != i {
			t.Fatalf("add %d returned index %d", i, j)
		}
		r.seq = uint64(i) + 1
		ptrs[i] = r
	}
	for i := range n {
		if got := s.at(uint32(i)); got != ptrs[i] || got.seq != uint64(i)+1 {
			t.Fatalf("record %d moved or was overwritten (seq %d)", i, got.seq)
		}
	}
	held := 0
	for _, c := range s.chunks {
		held += len(c)
	}
	if held > 2*n {
		t.Errorf("%d records held in %d slots; want at most twice", n, held)
	}
	var small recordStore
	for range 100 {
		small.add()
	}
	if held := cap(small.chunks[len(small.chunks)-1]) + 0; held > 64 {
		t.Errorf("100 records: last chunk holds %d; want a small chunk", held)
	}
}
