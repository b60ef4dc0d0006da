package history_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"mimichat/history"
	"mimichat/history/cache"
)

// An export through OnceSource (the store read once, the second pass from
// a spill) is byte for byte the export through Source (the store read
// twice), for every format, with --since and --thread plans too, and
// leaves no file in its directory.
func TestOnceSourceExportsTheSame(t *testing.T) {
	items := history.EveryKind(t)
	st := openStore(t)
	cachedRoom(t, st, items)
	room := history.Room{ID: history.RoomURI, Name: "History room"}
	now := history.T0.Add(2 * time.Hour).UnixMilli()
	var topic []byte
	for _, it := range items {
		if it.Msg != nil && it.Msg.TopicID != nil {
			topic = it.Msg.TopicID
			break
		}
	}
	for _, f := range []history.Format{history.FormatVCon, history.FormatCPIM} {
		for _, opts := range []history.ExportOptions{
			{Format: f, Now: now},
			{Format: f, Now: now, Since: items[len(items)/2].Time},
			{Format: f, Now: now, Thread: topic},
		} {
			var twice, once bytes.Buffer
			rep1, err := history.Export(&twice, room, cache.Source(st, history.RoomURI), opts)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			src := cache.NewOnceSource(st, history.RoomURI, dir)
			rep2, err := history.Export(&once, room, src.Source(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(twice.Bytes(), once.Bytes()) || rep1.String() != rep2.String() {
				t.Fatalf("%s since %d thread %q: exports differ\n--- twice\n%s\n--- once\n%s", f, opts.Since, opts.Thread, twice.Bytes(), once.Bytes())
			}
			if twice.Len() < 1000 {
				t.Fatalf("export of %d bytes", twice.Len())
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("spill left %v", left)
			}
		}
	}
}
