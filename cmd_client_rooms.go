package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"mimichat/proto"
	"mimichat/session"
)

func init() {
	rooms := &command{
		name:    "rooms",
		usage:   "rooms [--json]",
		summary: "list the rooms you are joined to or invited to",
	}
	rooms.run = func(args []string, io stdio) error { return runRooms(rooms, args, io) }
	register(rooms)

	room := &command{
		name: "room",
		usage: "room create [--name N] [--topic T] [--history shared|joined] [--join invite|open] [SLUG]\n" +
			"       mimichat room invite|kick|ban|unban ROOM USER [REASON]\n" +
			"       mimichat room join|leave|info ROOM\n" +
			"       mimichat room role ROOM USER member|moderator|owner\n" +
			"       mimichat room set-name|set-topic ROOM TEXT\n" +
			"       mimichat room set-receipts [--room] ROOM on|off",
		summary: "create a room, manage members and roles, rename it (prints the room and the event's seq)",
	}
	room.run = func(args []string, io stdio) error { return runRoom(room, args, io) }
	register(room)
}

func runRooms(c *command, args []string, io stdio) error {
	fs := newFlagSet(c, io)
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per room")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	ctx, cancel := commandContext(cf.timeout)
	defer cancel()
	s, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	list, err := s.ListRooms(ctx)
	if err != nil {
		return err
	}
	for _, r := range list {
		if *asJSON {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.out, "%s\n", b)
			continue
		}
		fmt.Fprintf(io.out, "%s %s %s %d %s\n", r.Room, r.State, r.Role, r.Head, oneLine(r.Name))
	}
	return nil
}

// roomOps are the room subcommands after create: how many positional
// arguments each takes (min, max) and what it does.
var roomOps = map[string]struct {
	min, max int
	do       func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error)
}{
	"invite": {2, 2, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.Invite(ctx, a[0], a[1])
	}},
	"kick": {2, 3, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.Kick(ctx, a[0], a[1], arg(a, 2))
	}},
	"ban": {2, 3, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.Ban(ctx, a[0], a[1], arg(a, 2))
	}},
	"unban": {2, 2, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.Unban(ctx, a[0], a[1])
	}},
	"join": {1, 1, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.Join(ctx, a[0])
	}},
	"leave": {1, 1, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.Leave(ctx, a[0])
	}},
	"role": {3, 3, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.SetRole(ctx, a[0], a[1], proto.Role(a[2]))
	}},
	"set-name": {2, 2, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.SetName(ctx, a[0], a[1])
	}},
	"set-topic": {2, 2, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.SetTopic(ctx, a[0], a[1])
	}},
	"set-receipts": {2, 2, func(ctx context.Context, s *session.Session, a []string) (session.OpResult, error) {
		return s.SetReadReceipts(ctx, a[0], a[1] == proto.ReceiptsOn)
	}},
}

func arg(a []string, i int) string {
	if i < len(a) {
		return a[i]
	}
	return ""
}

func runRoom(c *command, args []string, io stdio) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: missing subcommand", errUsage)
	}
	sub, args := args[0], args[1:]
	if sub == "-h" || sub == "--help" || sub == "-help" {
		newFlagSet(c, io).Usage()
		return flag.ErrHelp
	}
	fs := newFlagSet(c, io)
	var cf clientFlags
	cf.register(fs)
	var opts session.CreateRoomOptions
	asJSON := false
	roomFlag := ""
	switch sub {
	case "create":
		fs.StringVar(&opts.Name, "name", "", "room name")
		fs.StringVar(&opts.Topic, "topic", "", "room topic")
		fs.StringVar(&opts.History, "history", "", "history visibility: shared (default) or joined")
		fs.StringVar(&opts.Join, "join", "", "join policy: invite (default) or open")
	case "info":
		fs.BoolVar(&asJSON, "json", false, "print the room state as JSON")
	case "set-receipts":
		fs.StringVar(&roomFlag, "room", "", "the room (instead of the ROOM argument)")
	default:
		if _, ok := roomOps[sub]; !ok {
			return fmt.Errorf("%w: unknown subcommand %q", errUsage, sub)
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	if roomFlag != "" {
		pos = append([]string{roomFlag}, pos...)
	}
	switch op, ok := roomOps[sub]; {
	case sub == "create" && len(pos) > 1, sub == "info" && len(pos) != 1:
		return fmt.Errorf("%w: wrong number of arguments for room %s", errUsage, sub)
	case ok && (len(pos) < op.min || len(pos) > op.max):
		return fmt.Errorf("%w: room %s takes %d to %d arguments, got %d", errUsage, sub, op.min, op.max, len(pos))
	}
	if sub == "role" {
		if proto.Role(pos[2]).Rank() == 0 {
			return fmt.Errorf("%w: role %q: want member, moderator or owner", errUsage, pos[2])
		}
	}
	if sub == "set-receipts" && pos[1] != proto.ReceiptsOn && pos[1] != proto.ReceiptsOff {
		return fmt.Errorf("%w: read receipts %q: want on or off", errUsage, pos[1])
	}
	ctx, cancel := commandContext(cf.timeout)
	defer cancel()
	s, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if sub == "create" {
		opts.Slug = strings.Join(pos, "")
		res, err := s.CreateRoom(ctx, opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "%s %d\n", res.Room, res.Seq)
		return nil
	}
	// Positional room and user arguments may be bare local names.
	if pos[0], err = roomURI(pos[0], s.User()); err != nil {
		return err
	}
	if sub == "info" {
		return printRoomInfo(ctx, s, pos[0], asJSON, io)
	}
	switch sub {
	case "invite", "kick", "ban", "unban", "role":
		if pos[1], err = userURI(pos[1], s.User()); err != nil {
			return err
		}
	}
	res, err := roomOps[sub].do(ctx, s, pos)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "%s %d\n", res.Room, res.Seq)
	return nil
}

func printRoomInfo(ctx context.Context, s *session.Session, room string, asJSON bool, io stdio) error {
	st, err := s.RoomInfo(ctx, room)
	if err != nil {
		return err
	}
	if asJSON {
		st.T = ""
		st.RID = 0
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "%s\n", b)
		return nil
	}
	fmt.Fprintf(io.out, "room %s\nname %s\ntopic %s\nhistory %s\njoin %s\n",
		st.Room, oneLine(st.Name), oneLine(st.Topic), st.History, st.Join)
	if st.Receipts != "" {
		fmt.Fprintf(io.out, "receipts %s\n", st.Receipts)
	}
	fmt.Fprintf(io.out, "head %d\n", st.LastSeq)
	for _, m := range st.Members {
		fmt.Fprintf(io.out, "member %s %s %s\n", m.User, m.State, m.Role)
	}
	return nil
}
