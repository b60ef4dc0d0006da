package relay

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/proto"
)

// Baselines measured in the same run as the relay's figures, so a ratio
// (relay/raw) means something on a shared machine: a naive gorilla
// broadcast with no protocol, no store and no authorization, in the same
// process and over the same loopback as BenchmarkFanout200.

// rawBroadcast is the baseline server: every frame read on /pub is written
// to every /sub connection by that connection's writer goroutine.
type rawBroadcast struct {
	mode string // "plain", "prepared" or "gathered"
	mu   sync.Mutex
	subs []chan any // []byte or *websocket.PreparedMessage
	srv  *http.Server
	addr string
	// writers are the /sub writer goroutines: cleanup closes their queues
	// and waits, so no connection or goroutine of one benchmark lives on
	// into the next (Fanout200 after a leftover baseline ran at half speed)
	writers sync.WaitGroup
}

func startRawBroadcast(b *testing.B, mode string) *rawBroadcast {
	rb, err := newRawBroadcast(mode)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(rb.close)
	return rb
}

// newRawBroadcast serves a rawBroadcast on 127.0.0.1:0: /sub and /pub, and
// /subs, the number of /sub connections registered (so a load generator in
// another process can wait for them).
func newRawBroadcast(mode string) (*rawBroadcast, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rb := &rawBroadcast{mode: mode, addr: ln.Addr().String()}
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/sub", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		out := make(chan any, 4096)
		rb.mu.Lock()
		rb.subs = append(rb.subs, out)
		rb.mu.Unlock()
		rb.writers.Go(func() { rb.write(ws, out) })
	})
	mux.HandleFunc("/subs", func(w http.ResponseWriter, r *http.Request) {
		rb.mu.Lock()
		n := len(rb.subs)
		rb.mu.Unlock()
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("/pub", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var m any = data
			if rb.mode != "plain" {
				if m, err = websocket.NewPreparedMessage(websocket.BinaryMessage, data); err != nil {
					return
				}
			}
			rb.mu.Lock()
			for _, s := range rb.subs {
				s <- m // a full queue blocks the sender: the baseline drops nothing
			}
			rb.mu.Unlock()
		}
	})
	rb.srv = &http.Server{Handler: mux}
	var l net.Listener = ln
	if mode == "gathered" {
		l = corkListener{ln}
	}
	go rb.srv.Serve(l)
	return rb, nil
}

// waitRawSubscribers waits until the rawBroadcast at addr has n /sub
// connections registered, asking its /subs.
func waitRawSubscribers(b *testing.B, addr string, n int) {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/subs")
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		got, err := strconv.Atoi(string(body))
		if err != nil {
			b.Fatalf("raw broadcast /subs said %q", body)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d subscribers registered in 10 s", got, n)
		}
	}
}

// runRawChild serves a rawBroadcast (mode) as a process of its own, with
// the relay process's collector settings, prints its address and serves
// until SIGTERM or SIGINT: LatencyAt1000/raw-process's server.
func runRawChild(mode string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	TuneGC()
	rb, err := newRawBroadcast(mode)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("ADDR %s\n", rb.addr)
	<-ctx.Done()
	rb.close()
	return 0
}

// close stops the server and every /sub writer, closing its connection.
// The /pub handler sends under mu, so no send follows a queue's close.
func (rb *rawBroadcast) close() {
	rb.srv.Close() // the listener; hijacked websockets stay open until their writers end
	rb.mu.Lock()
	for _, out := range rb.subs {
		close(out)
	}
	rb.subs = nil
	rb.mu.Unlock()
	rb.writers.Wait()
}

// write sends out's frames to ws; in "gathered" mode a burst (what is
// queued) goes out in one write call, as the relay's writer does.
func (rb *rawBroadcast) write(ws *websocket.Conn, out chan any) {
	defer ws.Close()
	cork, _ := ws.NetConn().(*corkConn)
	for m := range out {
		if cork != nil {
			cork.cork()
		}
		for {
			var err error
			switch m := m.(type) {
			case []byte:
				err = ws.WriteMessage(websocket.BinaryMessage, m)
			case *websocket.PreparedMessage:
				err = ws.WritePreparedMessage(m)
			}
			if err != nil {
				return
			}
			if cork == nil {
				break
			}
			select {
			case m = <-out:
				continue
			default:
			}
			break
		}
		if cork != nil && cork.uncork() != nil {
			return
		}
	}
}

// BenchmarkFanout200Raw is BenchmarkFanout200's baseline: the same event
// frames from one pipelining sender to 200 loopback subscribers, through
// rawBroadcast instead of the relay. Run both in one invocation
// (-bench Fanout200) and compare deliveries/s.
func BenchmarkFanout200Raw(b *testing.B) {
	for _, mode := range []string{"plain", "prepared", "gathered"} {
		b.Run(mode, func(b *testing.B) { benchRawFanout(b, mode) })
	}
}

func benchRawFanout(b *testing.B, mode string) {
	const nsubs = 200
	rb := startRawBroadcast(b, mode)
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	subs := make([]*rawSubscriber, nsubs)
	for i := range subs {
		ws, _, err := d.Dial("ws://"+rb.addr+"/sub", nil)
		if err != nil {
			b.Fatal(err)
		}
		rs := &rawSubscriber{ws: ws}
		go func() {
			for {
				_, data, err := rs.ws.ReadMessage()
				if err != nil {
					return
				}
				if len(data) > 16 {
					rs.events.Add(1)
				}
			}
		}()
		subs[i] = rs
	}
	defer func() {
		for _, s := range subs {
			s.ws.Close()
		}
	}()
	waitRawSubscribers(b, rb.addr, nsubs)
	pub, _, err := d.Dial("ws://"+rb.addr+"/pub", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	frames := rawEventFrames(b, b.N)
	b.ResetTimer()
	start := time.Now()
	for _, f := range frames {
		if err := pub.WriteMessage(websocket.BinaryMessage, f); err != nil {
			b.Fatal(err)
		}
	}
	if !waitCount(subs, int64(b.N), time.Now().Add(60*time.Second)) {
		b.Fatal("subscribers did not get every frame in 60 s")
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*nsubs)/elapsed.Seconds(), "deliveries/s")
}

// rawEventFrames returns n encoded event frames of the size the relay sends
// in BenchmarkFanout200 (the same text messages).
func rawEventFrames(b *testing.B, n int) [][]byte {
	const user, room = "mimi://example.com/u/s0", "mimi://example.com/r/bench"
	out := make([][]byte, n)
	for i, m := range prebuilt(b, user, room, n) {
		f, err := proto.Encode(&proto.Event{Room: room, Seq: uint64(i + 1), TS: time.Now().UnixMilli(),
			Sender: user, Kind: proto.KindMessage, ID: m.ID, Content: m.Content})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = f
	}
	return out
}

// benchRawLatency is BenchmarkLatencyAt1000's baseline: one sender paced at
// 1,000 frames per second through rawBroadcast ("gathered") to
// latencySubs subscribers, which decode each event as the relay's do;
// p50 and p99 of send to delivery over every delivery. raw runs the
// broadcast in the benchmark's process; raw-process as a process of its
// own (runRawChild), as full-process runs the relay, and then cpu-us/msg
// is that process's alone.
func benchRawLatency(b *testing.B) {
	rb := startRawBroadcast(b, "gathered")
	measureRawLatency(b, rb.addr, selfUsage)
}

func benchRawLatencyProcess(b *testing.B) {
	c := startChild(b, b.TempDir(), "", childRawEnv+"=gathered")
	defer c.stop()
	measureRawLatency(b, c.addr, processUsage(c.cmd.Process.Pid))
}

// measureRawLatency runs the paced case against the rawBroadcast at addr
// as measureLatency does against a relay, warm-up included: latencyWarmUp
// frames it does not measure (seqs after b.N), then b.N at start + i ms.
func measureRawLatency(b *testing.B, addr string, usage func() processStats) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	frames := rawEventFrames(b, b.N+latencyWarmUp)
	warm, frames := frames[b.N:], frames[:b.N]
	sent := make([]atomic.Int64, b.N)
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for range latencySubs {
		ws, _, err := d.Dial("ws://"+addr+"/sub", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		wg.Go(func() {
			local := make([]time.Duration, 0, b.N)
			for len(local) < b.N {
				_, data, err := ws.ReadMessage()
				if err != nil {
					break
				}
				f, err := proto.Decode(data)
				if e, ok := f.(*proto.Event); err == nil && ok && e.Seq >= 1 && e.Seq <= uint64(b.N) {
					local = append(local, time.Duration(time.Now().UnixNano()-sent[e.Seq-1].Load()))
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	waitRawSubscribers(b, addr, latencySubs)
	pub, _, err := d.Dial("ws://"+addr+"/pub", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	for i, f := range warm {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
		if err := pub.WriteMessage(websocket.BinaryMessage, f); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	b.ResetTimer()
	before := usage()
	start = time.Now()
	for i, f := range frames {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
		sent[i].Store(time.Now().UnixNano())
		if err := pub.WriteMessage(websocket.BinaryMessage, f); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N) / time.Since(start).Seconds()
	wg.Wait()
	b.StopTimer()
	usage().since(before).report(b, b.N)
	b.ReportMetric(rate, "sent/s")
	if len(lat) != b.N*latencySubs {
		b.Fatalf("%d deliveries, want %d", len(lat), b.N*latencySubs)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// TestRawBroadcastLeavesNothing: a baseline's goroutines and connections
// end with it. Before, every /sub writer lived on, blocked on its queue
// with its connection open, and BenchmarkFanout200 run after the
// baselines in one process (as their ratio needs) ran at half speed.
func TestRawBroadcastLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a benchmark")
	}
	before := runtime.NumGoroutine()
	res := testing.Benchmark(func(b *testing.B) { benchRawFanout(b, "plain") })
	if res.N == 0 {
		t.Fatal("the baseline benchmark failed")
	}
	var n int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n = runtime.NumGoroutine(); n <= before+5 {
			return
		}
	}
	t.Fatalf("%d goroutines after the baseline, %d before", n, before)
}
