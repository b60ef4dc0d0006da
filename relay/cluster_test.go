package relay

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/internal/freeport"
	"mimichat/proto"
)

// startCluster starts n relays in this process, each embedding a NATS
// server joined to the others by routes on loopback, R3 on one stream;
// tune, if given, adjusts each node's configuration (the benchmarks lift
// the per-user limits).
func startCluster(t testing.TB, n int, tune ...func(*Config)) []*Server {
	t.Helper()
	routes := freeport.Addrs(t, n)
	servers := make([]*Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := Config{Data: t.TempDir(), Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0", Domain: "example.com", Logger: discard(), RatePerSec: -1,
				Cluster: &ClusterConfig{Node: fmt.Sprintf("n%d", i+1), Listen: routes[i], Peers: routes}}
			for _, f := range tune {
				f(&cfg)
			}
			servers[i], errs[i] = Start(cfg)
		}()
	}
	wg.Wait()
	for i, s := range servers {
		if s != nil {
			t.Cleanup(func() { s.Shutdown(t.Context()) })
		}
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i+1, errs[i])
		}
	}
	return servers
}

// postRetry submits text until it is acked: a batch that lost the race
// for its room to another node is refused as internal (nothing stored),
// and the client's retry (the same bytes) gets the next seq or, if an
// earlier try was stored after all, the original ack.
func (c *client) postRetry(room, text string, deadline time.Time) *proto.Ack {
	c.t.Helper()
	s := message(c.t, c.user, room, text)
	for time.Now().Before(deadline) {
		s.RID = c.nextRID()
		c.send(s)
		for {
			f := c.next(10 * time.Second)
			switch f := f.(type) {
			case *proto.Ack:
				if f.RID != s.RID || !bytes.Equal(f.ID, s.ID) {
					c.t.Fatalf("ack for rid %d, want %d", f.RID, s.RID)
				}
				return f
			case *proto.ErrorFrame:
				if f.Code != proto.CodeInternal && f.Code != proto.CodeNoSuchRoom && f.Code != proto.CodeForbidden {
					c.t.Fatalf("submit refused: %+v", f)
				}
				time.Sleep(20 * time.Millisecond)
			default:
				c.stash = append(c.stash, f)
				continue
			}
			break
		}
	}
	c.t.Fatalf("%q not acked in time", text)
	return nil
}

// TestClusterAcrossNodes: three relay nodes on one replicated stream;
// members connected to different nodes post concurrently into one room.
// Every post is acked once with a distinct seq, and subscribers on every
// node see the same events, seq 1, 2, 3, … with no gap.
func TestClusterAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	names := []string{"alice", "bob", "carol"}
	var clients []*client
	for i, n := range names {
		clients = append(clients, dial(t, nodes[i].Addr(), addUser(t, nodes[0].Store(), n)))
	}
	alice := clients[0]
	room := alice.createRoom("lobby", proto.CreateRoom{Name: "Lobby"})
	deadline := time.Now().Add(20 * time.Second)
	for _, c := range clients[1:] {
		alice.mustOp(room, proto.KindInvite, c.user)
		for {
			// The node learns of the room and the invite from the others.
			if _, ef := c.op(room, proto.KindJoin, ""); ef == nil {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("%s cannot join through its node: %+v", c.user, ef)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, c := range clients {
		c.subscribe(room, 0)
	}
	const per = 15
	acks := make([][]*proto.Ack, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range per {
				acks[i] = append(acks[i], c.postRetry(room, fmt.Sprintf("%s %d", c.user, j), deadline))
			}
		}()
	}
	wg.Wait()
	seqs := map[uint64]string{}
	for i, as := range acks {
		for _, a := range as {
			if other, ok := seqs[a.Seq]; ok {
				t.Fatalf("seq %d acked to %s and %s", a.Seq, other, names[i])
			}
			seqs[a.Seq] = names[i]
		}
	}
	// create, name, 2 × (invite, join), then the posts.
	want := 2 + 2*2 + per*len(clients)
	var ref []*proto.Event
	for i, c := range clients {
		evs := c.events(room, want, 15*time.Second)
		if len(evs) != want {
			t.Fatalf("%s (node %d) got %d events, want %d", c.user, i+1, len(evs), want)
		}
		for j, e := range evs {
			if e.Seq != uint64(j+1) {
				t.Fatalf("%s: event %d has seq %d", c.user, j, e.Seq)
			}
		}
		if i == 0 {
			ref = evs
			continue
		}
		for j := range evs {
			if !bytes.Equal(evs[j].ID, ref[j].ID) {
				t.Fatalf("%s and %s disagree at seq %d", c.user, alice.user, j+1)
			}
		}
	}
}

// TestClusterMetrics: every node's /metrics shows the stream's leader (1 on
// exactly one node), each follower replica's lag and whether it is
// current, and the leader elections it heard; when the leading node shuts
// down, a survivor becomes leader and the survivors count the election.
func TestClusterMetrics(t *testing.T) {
	nodes := startCluster(t, 3)
	leader := -1
	deadline := time.Now().Add(20 * time.Second)
	var before map[int]float64
	for leader < 0 {
		before = map[int]float64{}
		leads := 0
		for i, n := range nodes {
			m := scrape(t, n.MetricsAddr())
			if m["mimichat_relay_cluster_leader"] == 1 {
				leader, leads = i, leads+1
			}
			replicas := 0
			for k := range m {
				if strings.HasPrefix(k, "mimichat_relay_cluster_replica_lag_ops{replica=") {
					replicas++
				}
			}
			if _, ok := m["mimichat_relay_cluster_leader"]; ok && replicas != 2 {
				t.Fatalf("node %d shows %d replicas' lag, want 2", i+1, replicas)
			}
			before[i] = m["mimichat_relay_cluster_leader_elections_total"]
		}
		if leads > 1 {
			t.Fatalf("%d nodes say they lead", leads)
		}
		if leader < 0 {
			if time.Now().After(deadline) {
				t.Fatal("no node says it leads the stream")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := nodes[leader].Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	for {
		var newLeader, heard bool
		for i, n := range nodes {
			if i == leader {
				continue
			}
			m := scrape(t, n.MetricsAddr())
			newLeader = newLeader || m["mimichat_relay_cluster_leader"] == 1
			heard = heard || m["mimichat_relay_cluster_leader_elections_total"] > before[i]
		}
		if newLeader && heard {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the leader's shutdown: a new leader %v, an election counted %v", newLeader, heard)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
