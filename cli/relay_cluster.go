package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"mimichat/relay/store/jetstream"
)

// relayClusterStatusCommand is `mimichat relay cluster status`: the
// cluster's nodes and the relay stream's leader and replicas, read from a
// node's NATS client port.
func relayClusterStatusCommand(fs *flag.FlagSet) runFunc {
	url := fs.String("nats", "nats://127.0.0.1:4222", "a node's NATS client address (its --nats-listen), or the NATS cluster's URL")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	return func(c *call) error {
		if err := noArgs(c); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		st, err := jetstream.ReadStatus(ctx, *url, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "stream   %s (%d replicas, %d messages, %d bytes)\n", st.Stream, st.Replicas, st.Msgs, st.Bytes)
		fmt.Fprintf(c.out, "cluster  %s\n", st.Cluster)
		fmt.Fprintf(c.out, "leader   %s\n", st.Leader)
		for _, r := range st.Peers {
			state := "current"
			if !r.Current {
				state = "behind"
			}
			if r.Offline {
				state = "offline"
			}
			fmt.Fprintf(c.out, "replica  %s  %s  lag %d ops  seen %s ago\n", r.Name, state, r.Lag, r.Active.Round(time.Millisecond))
		}
		return nil
	}
}
