package cli

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/history"
	"mimichat/proto"
	"mimichat/session"
)

// A `mimichat import` killed (SIGKILL) while it writes leaves nothing
// visible: no room (or the cached run as it was), no entries, no queued
// search rows, an intact store, and the same import run again takes every
// message. The whole import is one SQLite transaction (WAL); the kill comes
// once the transaction has spilled pages to the WAL, so it is killed
// mid-write, not before it started (below a cached run, that is while the
// held entries are written at the commit; for a MIMI vCon, which is counted
// ahead, while its rows are written as it is read).
func TestKilledImportLeavesNothing(t *testing.T) {
	t.Run("new room", func(t *testing.T) { killImport(t, false, false) })
	t.Run("below a cached run", func(t *testing.T) { killImport(t, true, false) })
	t.Run("below a cached run, counted", func(t *testing.T) { killImport(t, true, true) })
}

// killMIMIRoom is the room of killImport's MIMI vCon.
const killMIMIRoom = "mimi://example.com/r/killed"

// killedRunLow is where the cached run of killImport's below case starts.
const killedRunLow = 1_000_000

func killImport(t *testing.T, below, mimi bool) {
	const n = 90_000
	dir := t.TempDir()
	file := filepath.Join(dir, "big.vcon.json")
	writeKillVCon(t, file, n, mimi)
	data := filepath.Join(dir, "dd")
	wal := filepath.Join(data, session.StoreFile+"-wal")
	room := "urn:uuid:" + killTestUUID
	if mimi {
		room = killMIMIRoom
		// The import below the run counts this file ahead, so the kill
		// comes while its rows are written as it is read.
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		counted := 0
		ok := history.CountVCon(f, fi.Size(), nil, func(*history.Item) { counted++ })
		f.Close()
		if !ok || counted != n {
			t.Fatalf("the file is not counted ahead (%v, %d items)", ok, counted)
		}
	}
	var cached []session.Entry // the cached run's entries, below only
	if below {
		cached = cacheRun(t, data, room)
	}
	noConfig := filepath.Join(dir, "none.toml")
	if err := os.WriteFile(noConfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"import", "--config", noConfig, "--data-dir", data, file}

	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), processEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if fi, err := os.Stat(wal); err == nil && fi.Size() > 1<<20 {
			break // the import's transaction is writing
		}
		select {
		case err := <-exited:
			t.Fatalf("the import ended before it could be killed (%v): make the file larger", err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the import wrote no WAL within 2 minutes")
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited

	st, err := session.OpenStore(filepath.Join(data, session.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	if rooms, err := st.Rooms(); err != nil || len(rooms) != len(cached) {
		t.Fatalf("after the kill: rooms %v (%v)", rooms, err)
	}
	if r, ok, err := st.Room(room); below && (err != nil || !ok || r.Low != killedRunLow || r.Cursor != killedRunLow) {
		t.Fatalf("after the kill: the cached run is %+v %v %v, want %d..%d", r, ok, err, killedRunLow, killedRunLow)
	}
	if es, err := st.After(room, 0, 10); err != nil || len(es) != len(cached) || (below && es[0].Seq != killedRunLow) {
		t.Fatalf("after the kill: %d entries (%v), want %d", len(es), err, len(cached))
	}
	if pending, err := st.SearchPending(); err != nil || pending != len(cached) {
		t.Fatalf("after the kill: %d messages queued for search (%v), want %d", pending, err, len(cached))
	}
	st.Close()

	var out, errs bytes.Buffer
	if code := run(args, stdio{strings.NewReader(""), &out, &errs}); code != 0 {
		t.Fatalf("import after the kill: exit %d\n%s%s", code, &out, &errs)
	}
	st, err = session.OpenStore(filepath.Join(data, session.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, ok, err := st.Room(room)
	low, cursor := uint64(1), uint64(n)
	if below {
		low, cursor = killedRunLow-n, killedRunLow
	}
	if err != nil || !ok || r.Low != low || r.Cursor != cursor {
		t.Fatalf("after the second import: room %+v %v %v, want entries %d..%d", r, ok, err, low, cursor)
	}
	if pending, err := st.SearchPending(); err != nil || pending != n+len(cached) {
		t.Fatalf("after the second import: %d messages queued for search (%v), want %d", pending, err, n+len(cached))
	}
}

// cacheRun writes a data directory whose cache holds room as a run of one
// message at killedRunLow, through session's API as a sync commits it.
func cacheRun(t *testing.T, data, room string) []session.Entry {
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := session.OpenStore(filepath.Join(data, session.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const alice = "mimi://example.com/u/alice"
	m, err := (&content.Builder{Sender: alice, Room: room}).Text("the newest message")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	id, err := content.ComputeID(alice, room, raw)
	if err != nil {
		t.Fatal(err)
	}
	e := session.Entry{Room: room, Seq: killedRunLow, Time: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		Sender: alice, Kind: proto.KindMessage, ID: id, Raw: raw}
	if err := st.SaveRoom(session.Room{ID: room, Low: killedRunLow, Cursor: killedRunLow - 1, Head: killedRunLow}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(session.Room{ID: room, Head: killedRunLow}, []session.Entry{e}); err != nil {
		t.Fatal(err)
	}
	return []session.Entry{e}
}

const killTestUUID = "018f0000-0000-8000-8000-00000000f00d"

// writeKillVCon writes a vCon of n plain text dialogs: a legacy chat export
// (no MIMI room, synthetic IDs on import, not counted ahead), or with mimi a
// MIMI room's, which an import below a cached run counts ahead.
func writeKillVCon(t *testing.T, path string, n int, mimi bool) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if mimi {
		fmt.Fprintf(w, `{"vcon":"0.4.0","uuid":%q,"room":{"id":%q},"parties":[{"im_uri":%q},{"im_uri":"mimi://example.com/u/alice"},{"im_uri":"mimi://example.com/u/bob"}],"dialog":[`,
			killTestUUID, killMIMIRoom, killMIMIRoom)
	} else {
		fmt.Fprintf(w, `{"vcon":"0.4.0","uuid":%q,"parties":[{"tel":"+15550100"},{"tel":"+15550101"}],"dialog":[`, killTestUUID)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		if i > 0 {
			w.WriteByte(',')
		}
		start := t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		if mimi {
			// IDs that are not the content's hash: kept as given (noted), which
			// is all this test needs; 32 and 16 octets, unique per message.
			var id [32]byte
			var salt [16]byte
			binary.BigEndian.PutUint64(id[24:], uint64(i)+1)
			binary.BigEndian.PutUint64(salt[8:], uint64(i)+1)
			fmt.Fprintf(w, `{"type":"text","start":%q,"parties":[0],"originator":%d,"message_id":%q,"salt":%q,"mediatype":"text/plain","encoding":"none","body":"message %d of a long chat, with some words to make it the size of a real one"}`,
				start, 1+i%2, base64.RawURLEncoding.EncodeToString(id[:]), base64.RawURLEncoding.EncodeToString(salt[:]), i)
			continue
		}
		fmt.Fprintf(w, `{"type":"text","start":%q,"parties":[%d],"mediatype":"text/plain","encoding":"none","body":"message %d of a long chat, with some words to make it the size of a real one"}`,
			start, i%2, i)
	}
	w.WriteString("]}\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
