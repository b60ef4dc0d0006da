package cli

// `mimichat outbox list|retry|drop`: the messages the user sent that are
// pending, failed or recently acked, through the data directory's owner.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"mimichat/content"
	"mimichat/owner"
	"mimichat/session"
)

// outboxSubcommands is the table of `mimichat outbox …`.
var outboxSubcommands = []*command{
	{name: "list", usage: "[--json] [--all]",
		summary: "list the pending and failed messages (--all: the acked ones of the last day too)",
		flags:   outboxListCommand},
	{name: "retry", usage: "ID",
		summary: "send a failed message again and print its ID and seq once the relay acknowledges it",
		flags:   outboxRetryCommand},
	{name: "drop", usage: "ID",
		summary: "forget a failed (or acked) message; a pending one may be on its way and is kept",
		flags:   outboxDropCommand},
}

// outboxLine is one item of `outbox list`; its JSON form is --json's line.
type outboxLine struct {
	ID       string `json:"id"`
	Room     string `json:"room"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	Created  string `json:"created"`
	Seq      uint64 `json:"seq,omitempty"`
	Error    string `json:"error,omitempty"`
}

func outboxListCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	all := fs.Bool("all", false, "include the acked messages")
	return func(c *call) error {
		if err := noArgs(c); err != nil {
			return err
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, _, err := cf.acquire(ctx, c, "outbox list")
		if err != nil {
			return err
		}
		defer h.Close()
		items, err := h.Outbox(ctx)
		if err != nil {
			return err
		}
		for _, it := range items {
			if it.State == session.Acked && !*all {
				continue
			}
			l := outboxLine{ID: it.ID.String(), Room: it.Room, State: it.State.String(), Attempts: it.Attempts,
				Created: it.Created.UTC().Format(time.RFC3339Nano), Seq: it.Seq, Error: it.Err}
			if *asJSON {
				if err := c.out.jsonLine(l); err != nil {
					return err
				}
				continue
			}
			var err error
			switch {
			case l.Seq != 0:
				err = c.out.printf("%s %s %s %d %s seq %d\n", l.ID, l.State, l.Room, l.Attempts, l.Created, l.Seq)
			case l.Error != "":
				err = c.out.printf("%s %s %s %d %s %s\n", l.ID, l.State, l.Room, l.Attempts, l.Created, oneLine(l.Error))
			default:
				err = c.out.printf("%s %s %s %d %s\n", l.ID, l.State, l.Room, l.Attempts, l.Created)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// outboxID is the one ID argument of retry and drop.
func outboxID(c *call) (content.MessageID, error) {
	if len(c.args) != 1 {
		return content.MessageID{}, fmt.Errorf("%w: want one message ID", errUsage)
	}
	return parseID("ID", c.args[0])
}

func outboxRetryCommand(fs *flag.FlagSet) runFunc {
	return outboxIDCommand(fs, "outbox retry", func(ctx context.Context, c *call, h *owner.Handle, id content.MessageID) error {
		it, err := h.Retry(ctx, id)
		if err != nil {
			return err
		}
		return c.out.printf("%s %d\n", it.ID, it.Seq)
	})
}

func outboxDropCommand(fs *flag.FlagSet) runFunc {
	return outboxIDCommand(fs, "outbox drop", func(ctx context.Context, c *call, h *owner.Handle, id content.MessageID) error {
		if _, err := h.Drop(ctx, id); err != nil {
			if errors.Is(err, owner.ErrNotFailed) {
				return fmt.Errorf("%w; 'mimichat outbox retry %s' waits for it", err, id)
			}
			return err
		}
		return nil
	})
}

// outboxIDCommand is a command on one outbox item: it parses the ID, reaches
// the data directory's owner and runs do.
func outboxIDCommand(fs *flag.FlagSet, name string, do func(context.Context, *call, *owner.Handle, content.MessageID) error) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	return func(c *call) error {
		id, err := outboxID(c)
		if err != nil {
			return err
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, _, err := cf.acquire(ctx, c, name)
		if err != nil {
			return err
		}
		defer h.Close()
		return do(ctx, c, h, id)
	}
}
