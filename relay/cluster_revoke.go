package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Device removal across a cluster's nodes. removeDevice closes the removed
// device's connections on the node that took the removal (closeDevice); its
// connections on other nodes would otherwise wait for those nodes' token
// recheck (TokenRecheck, 1 s by default, one store read per live token).
// The node also announces the removal on revokedSubject, and every node
// closes the device's live connections when it hears it, after reading the
// removal back from the store (an announcement alone closes nothing). The
// recheck stays the backstop for an announcement lost in a partition.

const revokedSubject = "mimi.revoked"

type revokedNote struct {
	User   string `json:"user"`
	Device string `json:"device"`
}

// listenRevocations closes, on this node, the connections of devices that
// another node removed.
func (s *Server) listenRevocations(nc *nats.Conn) error {
	_, err := nc.Subscribe(revokedSubject, func(m *nats.Msg) {
		var n revokedNote
		if json.Unmarshal(m.Data, &n) != nil || n.User == "" || n.Device == "" {
			return
		}
		go s.closeRevokedDevice(n)
	})
	if err != nil {
		return fmt.Errorf("relay: cluster: listen for removed devices: %w", err)
	}
	return nil
}

// closeRevokedDevice closes n's device's connections once the store says
// it was removed.
func (s *Server) closeRevokedDevice(n revokedNote) {
	dt := deviceTokens(s.db)
	if dt == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	removed, err := dt.DeviceRevoked(ctx, n.Device)
	if err != nil {
		s.log.Warn("cluster: removed device announced", "err", err) // the token recheck closes it later
		return
	}
	if removed {
		s.closeDevice(n.User, n.Device)
	}
}

// announceRevoked tells the other nodes that device was removed.
func (s *Server) announceRevoked(user, device string) {
	if s.hub.cl == nil {
		return
	}
	data, _ := json.Marshal(revokedNote{User: user, Device: device})
	if err := s.hub.cl.nc.Publish(revokedSubject, data); err != nil {
		s.log.Warn("cluster: announce a removed device", "err", err)
	}
}
