package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"mimichat/content"
	"mimichat/owner"
)

// sendCommand is `mimichat send`.
func sendCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	room := fs.String("room", "", "room URI or local name (required)")
	reply := fs.String("reply", "", "reply to the message with this ID")
	react := fs.String("react", "", "react to the message with this ID; TEXT is the emoji")
	edit := fs.String("edit", "", "replace the text of your message with this ID")
	del := fs.String("delete", "", "retract your message with this ID (no TEXT)")
	knock := fs.Bool("knock", false, "knock: ask for the room's attention; TEXT is the name shown (default: your user name)")
	return func(c *call) error {
		modes := 0
		for _, set := range []bool{*reply != "", *react != "", *edit != "", *del != "", *knock} {
			if set {
				modes++
			}
		}
		if modes > 1 {
			return fmt.Errorf("%w: --reply, --react, --edit, --delete and --knock exclude each other", errUsage)
		}
		if *room == "" {
			return fmt.Errorf("%w: --room is required", errUsage)
		}
		text := strings.Join(c.args, " ")
		needText := *del == "" && !*knock
		if needText && text == "" {
			return fmt.Errorf("%w: TEXT is required", errUsage)
		}
		if *del != "" && text != "" {
			return fmt.Errorf("%w: --delete takes no TEXT", errUsage)
		}

		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, r, err := cf.acquire(ctx, c, "send")
		if err != nil {
			return err
		}
		defer h.Close()
		roomID, err := roomURI(*room, r.User)
		if err != nil {
			return err
		}
		m, err := buildMessage(ctx, h, roomID, r.User, sendMode{reply: *reply, react: *react, edit: *edit, del: *del, knock: *knock}, text)
		if err != nil {
			return err
		}
		raw, err := m.Encode()
		if err != nil {
			return err
		}
		// The owner (this process or the one running) makes the outbox row
		// durable before anything touches the network, and answers once the
		// relay has: acked, refused for good (Failed, exit 1) or not yet
		// (Pending, exit 3: it is delivered later, do not send it again).
		acked, err := h.Send(ctx, roomID, raw)
		var refused *owner.RefusedError
		if errors.As(err, &refused) {
			return fmt.Errorf("%w; 'mimichat outbox retry %s' sends it again, 'mimichat outbox drop %s' forgets it", err, refused.Item.ID, refused.Item.ID)
		}
		if err != nil {
			return err
		}
		return c.out.printf("%s %d\n", acked.ID, acked.Seq)
	}
}

// sendMode is what send's flags ask for; at most one is set.
type sendMode struct {
	reply, react, edit, del string
	knock                   bool
}

// buildMessage builds the message send submits. Every builder's error is
// returned as is: it names what is wrong with the reply, reaction, edit or
// delete.
func buildMessage(ctx context.Context, h *owner.Handle, roomID, user string, mode sendMode, text string) (*content.Message, error) {
	b := &content.Builder{Sender: user, Room: roomID}
	switch {
	case mode.reply != "":
		id, err := parseID("--reply", mode.reply)
		if err != nil {
			return nil, err
		}
		return b.Reply(id, content.MarkdownPart(text))
	case mode.react != "":
		id, err := parseID("--react", mode.react)
		if err != nil {
			return nil, err
		}
		return b.Reaction(id, text)
	case mode.edit != "", mode.del != "":
		arg, flagName := mode.edit, "--edit"
		if mode.del != "" {
			arg, flagName = mode.del, "--delete"
		}
		id, err := parseID(flagName, arg)
		if err != nil {
			return nil, err
		}
		first, previous, err := firstVersion(ctx, h, roomID, id)
		if err != nil {
			return nil, err
		}
		if mode.edit != "" {
			return b.Edit(first, previous, content.MarkdownPart(text))
		}
		return b.Delete(first, previous)
	case mode.knock:
		name := text
		if name == "" {
			name = userName(user)
		}
		return b.Knock(name)
	}
	return b.Markdown(text)
}

// firstVersion finds what an edit or delete of id must replace: the first
// version's ID (an edit of an edit still points at the original, §5.6) and
// the version being replaced, whose fixed fields the new version keeps.
func firstVersion(ctx context.Context, h *owner.Handle, room string, id content.MessageID) (content.MessageID, *content.Message, error) {
	e, ok, err := h.Lookup(ctx, room, id)
	if err != nil || !ok {
		return id, nil, err // not cached: trust the caller that id is the first version
	}
	prev, err := content.Decode(e.Raw)
	if err != nil {
		return id, nil, fmt.Errorf("message %s in the cache: %w", id, err)
	}
	if prev.Replaces != nil {
		return *prev.Replaces, prev, nil
	}
	return id, prev, nil
}

func parseID(flagName, s string) (content.MessageID, error) {
	id, err := content.ParseMessageID(s)
	if err != nil {
		return id, fmt.Errorf("%w: %s: %v", errUsage, flagName, err)
	}
	return id, nil
}

// userName is the last path element of a user URI.
func userName(user string) string {
	if u, err := url.Parse(user); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	return user
}
