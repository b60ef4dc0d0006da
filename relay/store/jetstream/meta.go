package jetstream

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// A new replicated stream is placed by the JetStream meta leader on peers
// of its meta group. Asked before the group counts enough peers (a fresh
// cluster whose nodes are still joining: under heavy load one took more
// than 90 s), the create is refused "no suitable peers for placement" with
// no reason, and after retrying for the whole start timeout a node used to
// fail with only that. So before creating the stream an embedded node
// waits until the meta group has a leader and enough online peers, and if
// it never does, says which peers and routes it has (placeable).

// metaView is what this node's server knows of the JetStream meta group.
type metaView struct {
	leader  string
	online  []string // peers' server names, the leader's included
	offline []string
	routes  []string // server names of the connected routes
}

func (v metaView) String() string {
	leader := v.leader
	if leader == "" {
		leader = "none"
	}
	return fmt.Sprintf("meta leader %s, peers online [%s], offline [%s], routes to [%s]",
		leader, strings.Join(v.online, " "), strings.Join(v.offline, " "), strings.Join(v.routes, " "))
}

// meta reads the embedded server's view of the meta group.
func meta(srv *server.Server) metaView {
	var v metaView
	if jsi, err := srv.Jsz(&server.JSzOptions{}); err == nil && jsi.Meta != nil {
		v.leader = jsi.Meta.Leader
		if v.leader != "" {
			// The replicas listed are every peer but this server.
			v.online = append(v.online, v.leader)
			if srv.Name() != v.leader {
				v.online = append(v.online, srv.Name())
			}
		}
		for _, p := range jsi.Meta.Replicas {
			if p == nil || p.Name == v.leader || p.Name == srv.Name() {
				continue
			}
			if p.Offline {
				v.offline = append(v.offline, p.Name)
			} else {
				v.online = append(v.online, p.Name)
			}
		}
	}
	if rz, err := srv.Routez(nil); err == nil {
		for _, r := range rz.Routes {
			v.routes = append(v.routes, r.RemoteName) // several per peer (route pooling)
		}
	}
	slices.Sort(v.online)
	slices.Sort(v.offline)
	v.routes = slices.Compact(slices.Sorted(slices.Values(v.routes)))
	return v
}

// placeable is nil if srv's meta group has a leader and at least replicas
// online peers, else an error saying what it has. An external NATS
// (srv nil) is not looked at.
func placeable(srv *server.Server, replicas int) error {
	if srv == nil || replicas <= 1 {
		return nil
	}
	if v := meta(srv); v.leader == "" || len(v.online) < replicas {
		return fmt.Errorf("an R%d stream needs %d online peers in the JetStream meta group; waiting: %s", replicas, replicas, v)
	}
	return nil
}
