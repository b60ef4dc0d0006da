package cli

// The room commands: `mimichat rooms` and `mimichat room create|invite|...`.

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"mimichat/owner"
	"mimichat/proto"
	"mimichat/session"
)

// roomsCommand is `mimichat rooms`.
func roomsCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	asJSON := fs.Bool("json", false, "print one JSON object per room")
	return func(c *call) error {
		if err := noArgs(c); err != nil {
			return err
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, _, err := cf.acquire(ctx, c, "rooms")
		if err != nil {
			return err
		}
		defer h.Close()
		list, err := h.Rooms(ctx)
		if err != nil {
			return err
		}
		for _, r := range list {
			if *asJSON {
				if err := c.out.jsonLine(r); err != nil {
					return err
				}
				continue
			}
			if err := c.out.printf("%s %s %s %d %s\n", r.Room, r.State, r.Role, r.Head, oneLine(r.Name)); err != nil {
				return err
			}
		}
		return nil
	}
}

// roomCreateCommand is `mimichat room create`.
func roomCreateCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	var opts session.CreateRoomOptions
	fs.StringVar(&opts.Name, "name", "", "room name")
	fs.StringVar(&opts.Topic, "topic", "", "room topic")
	fs.StringVar(&opts.History, "history", "", "history visibility: shared (default) or joined")
	fs.StringVar(&opts.Join, "join", "", "join policy: invite (default) or open")
	fs.BoolVar(&opts.Plaintext, "plaintext", false, "without end-to-end encryption (the relay reads the messages; for clients of protocol 1-4)")
	return func(c *call) error {
		if len(c.args) > 1 {
			return fmt.Errorf("%w: wrong number of arguments for room create", errUsage)
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, _, err := cf.acquire(ctx, c, "room create")
		if err != nil {
			return err
		}
		defer h.Close()
		opts.Slug = strings.Join(c.args, "")
		res, err := h.CreateRoom(ctx, opts)
		if err != nil {
			return err
		}
		return c.out.printf("%s %d\n", res.Room, res.Seq)
	}
}

// roomInfoCommand is `mimichat room info`.
func roomInfoCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	asJSON := fs.Bool("json", false, "print the room state as JSON")
	return func(c *call) error {
		if len(c.args) != 1 {
			return fmt.Errorf("%w: wrong number of arguments for room info", errUsage)
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, r, err := cf.acquire(ctx, c, "room info")
		if err != nil {
			return err
		}
		defer h.Close()
		room, err := roomURI(c.args[0], r.User)
		if err != nil {
			return err
		}
		return printRoomInfo(ctx, h, room, *asJSON, c)
	}
}

// roomOp is a room subcommand that takes a room (a URI or a local name),
// perhaps a user and more words, performs one operation and prints the room
// and the event's seq.
type roomOp struct {
	min, max int  // positional arguments, the room included
	user     bool // the second argument is a user
	// check refuses bad arguments before connecting.
	check func(a []string) error
	// op is the operation on the arguments (room and user already URIs).
	op func(a []string) owner.RoomOp
	// roomFlag adds --room as another way to give the room.
	roomFlag bool
}

// command makes the runnable part of a room subcommand.
func (op roomOp) command(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	roomFlag := ""
	if op.roomFlag {
		fs.StringVar(&roomFlag, "room", "", "the room (instead of the ROOM argument)")
	}
	return func(c *call) error {
		pos := c.args
		if roomFlag != "" {
			pos = append([]string{roomFlag}, pos...)
		}
		if len(pos) < op.min || len(pos) > op.max {
			return fmt.Errorf("%w: room %s takes %d to %d arguments, got %d", errUsage, strings.TrimPrefix(c.path, "room "), op.min, op.max, len(pos))
		}
		if op.check != nil {
			if err := op.check(pos); err != nil {
				return err
			}
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, r, err := cf.acquire(ctx, c, c.path)
		if err != nil {
			return err
		}
		defer h.Close()
		// Positional room and user arguments may be bare local names.
		if pos[0], err = roomURI(pos[0], r.User); err != nil {
			return err
		}
		if op.user {
			if pos[1], err = userURI(pos[1], r.User); err != nil {
				return err
			}
		}
		res, err := h.RoomOp(ctx, op.op(pos))
		if err != nil {
			return err
		}
		return c.out.printf("%s %d\n", res.Room, res.Seq)
	}
}

func checkRole(a []string) error {
	if proto.Role(a[2]).Rank() == 0 {
		return fmt.Errorf("%w: role %q: want member, moderator or owner", errUsage, a[2])
	}
	return nil
}

func checkReceipts(a []string) error {
	if a[1] != proto.ReceiptsOn && a[1] != proto.ReceiptsOff {
		return fmt.Errorf("%w: read receipts %q: want on or off", errUsage, a[1])
	}
	return nil
}

// roomSubcommands is the table of `mimichat room …`.
var roomSubcommands = []*command{
	{name: "create", usage: "[--name N] [--topic T] [--history shared|joined] [--join invite|open] [--plaintext] [SLUG]",
		summary: "create a room (SLUG: its local name, default chosen by the relay); prints the room and its seq",
		flags:   roomCreateCommand},
	{name: "invite", usage: "ROOM USER", summary: "invite USER to ROOM", flags: roomOp{min: 2, max: 2, user: true,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "invite", Room: a[0], User: a[1]}
		}}.command},
	{name: "kick", usage: "ROOM USER [REASON]", summary: "remove USER from ROOM (they may be invited again)", flags: roomOp{min: 2, max: 3, user: true,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "kick", Room: a[0], User: a[1], Reason: arg(a, 2)}
		}}.command},
	{name: "ban", usage: "ROOM USER [REASON]", summary: "remove USER from ROOM and keep them out", flags: roomOp{min: 2, max: 3, user: true,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "ban", Room: a[0], User: a[1], Reason: arg(a, 2)}
		}}.command},
	{name: "unban", usage: "ROOM USER", summary: "lift USER's ban from ROOM", flags: roomOp{min: 2, max: 2, user: true,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "unban", Room: a[0], User: a[1]}
		}}.command},
	{name: "join", usage: "ROOM", summary: "join ROOM (invited, or open to all)", flags: roomOp{min: 1, max: 1,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "join", Room: a[0]}
		}}.command},
	{name: "leave", usage: "ROOM", summary: "leave ROOM", flags: roomOp{min: 1, max: 1,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "leave", Room: a[0]}
		}}.command},
	{name: "info", usage: "[--json] ROOM", summary: "print ROOM's state and members", flags: roomInfoCommand},
	{name: "role", usage: "ROOM USER member|moderator|owner", summary: "give USER a role in ROOM", flags: roomOp{min: 3, max: 3, user: true, check: checkRole,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "role", Room: a[0], User: a[1], Role: proto.Role(a[2])}
		}}.command},
	{name: "set-name", usage: "ROOM TEXT", summary: "rename ROOM", flags: roomOp{min: 2, max: 2,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "set-name", Room: a[0], Value: a[1]}
		}}.command},
	{name: "set-topic", usage: "ROOM TEXT", summary: "set ROOM's topic", flags: roomOp{min: 2, max: 2,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "set-topic", Room: a[0], Value: a[1]}
		}}.command},
	{name: "set-receipts", usage: "[--room] ROOM on|off", summary: "allow or stop read receipts in ROOM", flags: roomOp{min: 2, max: 2, check: checkReceipts, roomFlag: true,
		op: func(a []string) owner.RoomOp {
			return owner.RoomOp{Op: "set-receipts", Room: a[0], Value: a[1]}
		}}.command},
}

func arg(a []string, i int) string {
	if i < len(a) {
		return a[i]
	}
	return ""
}

func printRoomInfo(ctx context.Context, h *owner.Handle, room string, asJSON bool, c *call) error {
	st, err := h.RoomInfo(ctx, room)
	if err != nil {
		return err
	}
	if asJSON {
		// The room's state without the frame's envelope (type, request ID).
		return c.out.jsonLine(struct {
			Room, Name, Topic, Avatar, History, Join, Receipts string
			LastSeq                                            uint64
			Members                                            []proto.Member
		}{st.Room, st.Name, st.Topic, st.Avatar, st.History, st.Join, st.Receipts, st.LastSeq, st.Members})
	}
	if err := c.out.printf("room %s\nname %s\ntopic %s\nhistory %s\njoin %s\n",
		st.Room, oneLine(st.Name), oneLine(st.Topic), st.History, st.Join); err != nil {
		return err
	}
	if st.Receipts != "" {
		if err := c.out.printf("receipts %s\n", st.Receipts); err != nil {
			return err
		}
	}
	if err := c.out.printf("head %d\n", st.LastSeq); err != nil {
		return err
	}
	for _, m := range st.Members {
		if err := c.out.printf("member %s %s %s\n", m.User, m.State, m.Role); err != nil {
			return err
		}
	}
	return nil
}
