package relay

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/proto"
)

// peer is a test client for goroutines: it returns errors instead of
// failing the test, since connections die on purpose in fault tests.
type peer struct {
	ws   *websocket.Conn
	user string
	wmu  sync.Mutex
}

func connect(addr, token string) (*peer, error) {
	return connectWith(websocket.Dialer{HandshakeTimeout: 5 * time.Second}, addr, token)
}

// connectWith is connect through d (e.g. one that shrinks the socket's
// buffers).
func connectWith(d websocket.Dialer, addr, token string) (*peer, error) {
	ws, _, err := d.Dial("ws://"+addr+"/v1", nil)
	if err != nil {
		return nil, err
	}
	p := &peer{ws: ws}
	if err := p.write(&proto.Hello{V: proto.Version, Token: token}); err != nil {
		ws.Close()
		return nil, err
	}
	f, err := p.read(5 * time.Second)
	if err != nil {
		ws.Close()
		return nil, err
	}
	w, ok := f.(*proto.Welcome)
	if !ok {
		ws.Close()
		return nil, fmt.Errorf("hello answered with %#v", f)
	}
	p.user = w.User
	return p, nil
}

func (p *peer) write(f proto.Frame) error {
	data, err := proto.Encode(f)
	if err != nil {
		return err
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return p.ws.WriteMessage(websocket.BinaryMessage, data)
}

func (p *peer) read(timeout time.Duration) (proto.Frame, error) {
	p.ws.SetReadDeadline(time.Now().Add(timeout))
	_, data, err := p.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	return proto.Decode(data)
}

func (p *peer) close() { p.ws.Close() }

// call writes f and returns the first reply that is not an event or signal.
func (p *peer) call(f proto.Frame) (proto.Frame, error) {
	if err := p.write(f); err != nil {
		return nil, err
	}
	for {
		r, err := p.read(10 * time.Second)
		if err != nil {
			return nil, err
		}
		switch r.(type) {
		case *proto.Event, *proto.Signal, *proto.Subscribed:
			continue
		}
		if e, ok := r.(*proto.ErrorFrame); ok {
			return nil, fmt.Errorf("%s: %s", e.Code, e.Reason)
		}
		return r, nil
	}
}

// child is a relay running as a separate process (this test binary, see
// TestMain), so it can be killed with SIGKILL.
type child struct {
	cmd  *exec.Cmd
	addr string
}

func startChild(t testing.TB, dir, sync string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+dir, childSyncEnv+"="+sync), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(s), "ADDR ")
		if !ok {
			t.Fatalf("child relay said %q", s)
		}
		c.addr = addr
	case <-time.After(60 * time.Second):
		t.Fatal("child relay did not start")
	}
	return c
}

// kill sends SIGKILL and reaps the process.
func (c *child) kill() {
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

// stop asks the child to shut down (SIGTERM, as an operator would) and
// kills it if it has not exited in 10 s.
func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.AfterFunc(10*time.Second, func() { c.cmd.Process.Kill() })
	defer t.Stop()
	c.cmd.Wait()
}
