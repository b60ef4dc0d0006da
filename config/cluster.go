package config

import (
	"fmt"
	"net"
)

// Cluster is the [cluster] table: a relay node of a cluster on NATS
// JetStream (docs/cluster.md). `mimichat relay --config FILE` reads it; a
// flag of the same meaning wins.
type Cluster struct {
	// Enabled is --cluster: run as a node, with an embedded NATS server.
	Enabled bool `toml:"enabled"`
	// Node is --node, this node's name.
	Node string `toml:"node"`
	// Listen is --cluster-listen, the route address (host:port).
	Listen string `toml:"listen"`
	// Advertise is --cluster-advertise, the route address the other nodes
	// reach this node at when it is not Listen's (NAT, containers).
	Advertise string `toml:"advertise"`
	// Peers is --cluster-peers, the other nodes' route addresses.
	Peers []string `toml:"peers"`
	// NATS is --nats, an existing NATS cluster's URL instead of an
	// embedded server.
	NATS string `toml:"nats"`
	// NATSListen is --nats-listen, the embedded server's client address.
	NATSListen string `toml:"nats_listen"`
	// Replicas is --replicas, the stream's replication (1 to 5).
	Replicas int `toml:"replicas"`
}

func (c *Cluster) validate() error {
	for key, addr := range map[string]string{"cluster.listen": c.Listen, "cluster.nats_listen": c.NATSListen, "cluster.advertise": c.Advertise} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return &Error{Key: key, Err: fmt.Errorf("%q is not host:port", addr)}
		}
	}
	for _, p := range c.Peers {
		if _, _, err := net.SplitHostPort(p); err != nil {
			return &Error{Key: "cluster.peers", Err: fmt.Errorf("%q is not host:port", p)}
		}
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		return &Error{Key: "cluster.replicas", Err: fmt.Errorf("must be 1 to 5 (0: the default), got %d", c.Replicas)}
	}
	return nil
}
