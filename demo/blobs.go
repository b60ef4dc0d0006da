package demo

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// blobServer serves sealed attachment ciphertext on loopback, standing in
// for the file store a real provider would use.
type blobServer struct {
	srv  *http.Server
	ln   net.Listener
	mu   sync.Mutex
	blob map[string][]byte
}

func startBlobs() (*blobServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: blob server: %w", err)
	}
	b := &blobServer{ln: ln, blob: map[string][]byte{}}
	b.srv = &http.Server{Handler: http.HandlerFunc(b.serve), ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *blobServer) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/blob/")
	b.mu.Lock()
	data, ok := b.blob[name]
	b.mu.Unlock()
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}

// url is where blob name will be served.
func (b *blobServer) url(name string) string {
	return "http://" + b.ln.Addr().String() + "/blob/" + name
}

func (b *blobServer) put(name string, data []byte) {
	b.mu.Lock()
	b.blob[name] = data
	b.mu.Unlock()
}

func (b *blobServer) close() { b.srv.Close() }
