package relay

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/proto"
	"mimichat/relay/store"
)

func TestListenPolicy(t *testing.T) {
	for _, tt := range []struct {
		addr     string
		insecure bool
		ok       bool
		tls      bool
	}{
		{"127.0.0.1:0", false, true, false},
		{"[::1]:0", false, true, false},
		{"localhost:0", false, true, false},
		{"0.0.0.0:0", false, false, false},
		{":0", false, false, false},
		{"192.0.2.1:7878", false, false, false},
		{"0.0.0.0:0", true, true, false},
		{"0.0.0.0:0", false, true, true},
	} {
		cfg := Config{Listen: tt.addr, Insecure: tt.insecure}
		if tt.tls {
			cfg.TLSCert, cfg.TLSKey = "c.pem", "k.pem"
		}
		err := cfg.listenAllowed()
		if (err == nil) != tt.ok {
			t.Fatalf("listen %s insecure=%v: err %v, want ok=%v", tt.addr, tt.insecure, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--insecure") {
			t.Fatalf("refusal does not say how to fix it: %v", err)
		}
	}
	// Start itself refuses before opening anything.
	if _, err := Start(Config{Listen: "0.0.0.0:0", Data: t.TempDir()}); err == nil {
		t.Fatal("Start listened on all interfaces without TLS")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and returns its paths.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	cert, key, pool := selfSigned(t)
	s := startRelay(t, Config{TLSCert: cert, TLSKey: key})
	tok := addUser(t, s.Store(), "alice")
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}}
	ws, _, err := d.Dial("wss://"+s.Addr()+"/v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	hello, _ := proto.Encode(&proto.Hello{V: proto.Version, Token: tok})
	ws.WriteMessage(websocket.BinaryMessage, hello)
	if f, err := readRaw(t, ws); err != nil || f.FrameType() != proto.TWelcome {
		t.Fatalf("over TLS: %#v, %v", f, err)
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/v1", nil); err == nil {
		t.Fatal("plain ws accepted on a TLS relay")
	}
}

// TestGracefulShutdown: clients are told the relay stops, acked messages
// are on disk, and a restarted relay on the same directory serves them.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	s := startRelay(t, Config{Data: dir})
	tok := addUser(t, s.Store(), "alice")
	alice := dial(t, s.Addr(), tok)
	room := alice.createRoom("r", proto.CreateRoom{Name: "kept"})
	ack := alice.post(room, "before shutdown")
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	e := alice.expectError(proto.CodeShuttingDown)
	if !e.Fatal || !alice.waitClosed(5*time.Second) {
		t.Fatal("client not closed with a fatal shutting_down error")
	}
	s2 := startRelay(t, Config{Data: dir})
	alice = dial(t, s2.Addr(), tok)
	alice.send(&proto.History{RID: 1, Room: room})
	page := expect[*proto.HistoryPage](alice)
	last := page.Events[len(page.Events)-1]
	if last.Seq != ack.Seq || last.TS != ack.TS || string(last.ID) != string(ack.ID) {
		t.Fatalf("after restart the last event is %+v, want the acked message", last)
	}
	if s2.Domain() != "example.com" {
		t.Fatal("domain not kept")
	}
	if _, err := Start(Config{Data: dir, Domain: "other.org", Listen: "127.0.0.1:0", Logger: discard()}); err == nil {
		t.Fatal("a data directory accepted a second domain")
	}
}

func TestUsers(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, tok, err := st.AddUser("example.com", "alice")
	if err != nil || u.URI != "mimi://example.com/u/alice" || !strings.HasPrefix(tok, "mct_") {
		t.Fatalf("AddUser = %+v, %q, %v", u, tok, err)
	}
	if _, _, err := st.AddUser("example.com", "alice"); err == nil {
		t.Fatal("duplicate user accepted")
	}
	if _, _, err := st.AddUser("example.com", "Alice Smith"); err == nil {
		t.Fatal("bad name accepted")
	}
	// Only the token's SHA-256 is stored: the user is found by the hash, and
	// no file of the store holds the token's secret part.
	if got, err := st.db.UserByToken(t.Context(), hashToken(tok)); err != nil || got.URI != u.URI {
		t.Fatalf("UserByToken(hash) = %+v, %v", got, err)
	}
	if _, err := st.db.UserByToken(t.Context(), []byte(tok)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UserByToken(token) = %v, want not found", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(strings.TrimPrefix(tok, tokenPrefix))) {
			t.Fatalf("%s holds the token", f)
		}
	}
	if got, ok, _ := authenticate(t.Context(), st.db, tok); !ok || got.user != u.URI {
		t.Fatalf("authenticate = %+v, %v", got, ok)
	}
	users, err := st.Users()
	if err != nil || len(users) != 1 || users[0].Name != "alice" {
		t.Fatalf("Users = %+v, %v", users, err)
	}
}
