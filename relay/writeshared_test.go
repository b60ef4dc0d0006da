package relay

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestWriteSharedAllocates: writing a fresh event frame to a subscriber
// (writeShared) allocates nothing when it fits the connection's 16 KiB
// write buffer (larger ones, MLS handshakes of big rooms, are written in
// two parts): a paced event is written once per subscriber
// and framed in the connection's own buffer. Before, every event was first
// framed into a websocket.PreparedMessage through a throwaway connection
// with a 4 KiB buffer.
func TestWriteSharedAllocates(t *testing.T) {
	for _, size := range []int{300, 1024, 16<<10 - 14} { // the last fills the write buffer after its header
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			got := make(chan float64, 1)
			up := websocket.Upgrader{ReadBufferSize: 16 << 10, WriteBufferSize: 16 << 10} // as Server.up
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ws, err := up.Upgrade(w, r, nil)
				if err != nil {
					t.Error(err)
					close(got)
					return
				}
				defer ws.Close()
				c := &conn{ws: ws}
				frames := make([][]byte, 21) // AllocsPerRun runs once more than asked, to warm up
				for i := range frames {
					frames[i] = []byte(strings.Repeat(string(rune('a'+i%26)), size))
				}
				i := 0
				got <- testing.AllocsPerRun(20, func() {
					if err := c.writeShared(frames[i]); err != nil {
						t.Error(err)
					}
					i++
				})
			}))
			defer srv.Close()
			client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			// The client reads nothing while the writes are counted: its
			// reads allocate, and AllocsPerRun counts the whole process's
			// (the frames, 345 KB at most, fit the sockets' buffers).
			allocs := <-got
			go func() {
				for {
					if _, _, err := client.ReadMessage(); err != nil {
						return
					}
				}
			}()
			if allocs > 0 {
				t.Fatalf("%.2f allocations per event written, want none", allocs)
			}
		})
	}
}
