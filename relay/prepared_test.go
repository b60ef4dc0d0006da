package relay

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestPreparedOnce: on a relay connection (preparedOnce), writing a
// PreparedMessage uses the frame NewPreparedMessage built and allocates
// nothing; a connection left at gorilla's default level builds the frame
// a second time on its first write, through a throwaway connection.
func TestPreparedOnce(t *testing.T) {
	for _, tt := range []struct {
		name         string
		preparedOnce bool
		maxAllocs    float64 // of the first write of a fresh message
	}{
		{"relay connection", true, 0},
		{"gorilla default (the frame built again)", false, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan float64, 1)
			up := websocket.Upgrader{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ws, err := up.Upgrade(w, r, nil)
				if err != nil {
					t.Error(err)
					close(got)
					return
				}
				defer ws.Close()
				if tt.preparedOnce {
					preparedOnce(ws)
				}
				frame := []byte(strings.Repeat("x", 300))
				pms := make([]*websocket.PreparedMessage, 0, 101)
				for range 101 { // AllocsPerRun runs once more than asked, to warm up
					pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, frame)
					if err != nil {
						t.Error(err)
						close(got)
						return
					}
					pms = append(pms, pm)
				}
				i := 0
				got <- testing.AllocsPerRun(100, func() {
					if err := ws.WritePreparedMessage(pms[i]); err != nil {
						t.Error(err)
					}
					i++
				})
			}))
			defer srv.Close()
			c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The client reads nothing while the writes are counted: its
			// reads allocate, and AllocsPerRun counts the whole process's
			// (the 101 frames, 30 KB, fit the socket's buffers).
			allocs := <-got
			go func() {
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
			switch {
			case tt.maxAllocs >= 0 && allocs > tt.maxAllocs:
				t.Fatalf("%.1f allocations per write of a prepared message, want at most %.0f", allocs, tt.maxAllocs)
			case tt.maxAllocs < 0 && allocs < 2:
				t.Fatalf("%.1f allocations per write: gorilla no longer builds the frame again, preparedOnce may be moot", allocs)
			}
			t.Logf("%.1f allocations per write", allocs)
		})
	}
}
