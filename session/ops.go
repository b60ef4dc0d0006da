package session

import (
	"context"
	"fmt"
	"time"

	"mimichat/proto"
)

// live returns the current connection or ErrOffline.
func (s *Session) live() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if s.conn == nil || s.status.State != Online {
		return nil, ErrOffline
	}
	return s.conn, nil
}

// CreateRoomOptions describe a new room; every field is optional.
type CreateRoomOptions struct {
	Slug    string // local name: the room URI becomes mimi://DOMAIN/r/SLUG
	Name    string
	Topic   string
	History string // proto.HistoryShared (default) or proto.HistoryJoined
	Join    string // proto.JoinInvite (default) or proto.JoinOpen
	// Plaintext creates a room without end-to-end encryption, as version
	// 1-4 clients do. By default a version 5 relay's rooms are encrypted.
	Plaintext bool
}

// OpResult is where a room operation landed in the room's log.
type OpResult struct {
	Room string
	Seq  uint64
	Time time.Time
}

// CreateRoom creates a room owned by this user and subscribes to it.
func (s *Session) CreateRoom(ctx context.Context, o CreateRoomOptions) (OpResult, error) {
	c, err := s.live()
	if err != nil {
		return OpResult{}, err
	}
	if c.welcome.V >= e2eeVersion && !o.Plaintext && encryptNewRooms {
		return s.createEncrypted(ctx, c, o)
	}
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.CreateRoom{RID: rid, Room: o.Slug, Name: o.Name, Topic: o.Topic, History: o.History, Join: o.Join})
	if err != nil {
		return OpResult{}, fmt.Errorf("session: create room: %w", err)
	}
	ok, isOK := f.(*proto.OK)
	if !isOK || ok.Room == "" {
		return OpResult{}, fmt.Errorf("session: create room: unexpected answer %s", f.FrameType())
	}
	if err := s.subscribe(ctx, c, ok.Room); err != nil {
		return OpResult{}, fmt.Errorf("session: subscribe new room %s: %w", ok.Room, err)
	}
	return OpResult{Room: ok.Room, Seq: ok.Seq, Time: msTime(ok.TS)}, nil
}

// roomOp sends one room_op and waits for its OK.
func (s *Session) roomOp(ctx context.Context, op proto.RoomOp) (OpResult, error) {
	c, err := s.live()
	if err != nil {
		return OpResult{}, err
	}
	op.RID = s.rid()
	f, err := c.request(ctx, op.RID, &op)
	if err != nil {
		return OpResult{}, fmt.Errorf("session: %s %s: %w", op.Op, op.Room, err)
	}
	ok, isOK := f.(*proto.OK)
	if !isOK {
		return OpResult{}, fmt.Errorf("session: %s %s: unexpected answer %s", op.Op, op.Room, f.FrameType())
	}
	return OpResult{Room: op.Room, Seq: ok.Seq, Time: msTime(ok.TS)}, nil
}

// Join joins room (after an invitation, or an open room) and subscribes.
func (s *Session) Join(ctx context.Context, room string) (OpResult, error) {
	if c, err := s.live(); err == nil && c.welcome.V >= e2eeVersion {
		return s.joinEncrypted(ctx, c, room)
	}
	res, err := s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindJoin})
	if err != nil {
		return res, err
	}
	c, err := s.live()
	if err != nil {
		return res, err
	}
	return res, s.subscribe(ctx, c, room)
}

// Leave leaves room.
// In an encrypted room this device's SelfRemove (and Removes of the user's
// other devices) go with it, and the device forgets the group.
func (s *Session) Leave(ctx context.Context, room string) (OpResult, error) {
	if s.encryptedRoom(room) {
		return s.leaveEncrypted(ctx, room)
	}
	return s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindLeave})
}

// Invite invites user to room. In an encrypted room it adds every device
// of user to the group (a commit with a Welcome for them).
func (s *Session) Invite(ctx context.Context, room, user string) (OpResult, error) {
	if s.encryptedRoom(room) {
		return s.inviteEncrypted(ctx, room, user)
	}
	return s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindInvite, Target: user})
}

// Kick removes user from room; reason is shown to members. In an
// encrypted room a commit removes the user's devices from the group.
func (s *Session) Kick(ctx context.Context, room, user, reason string) (OpResult, error) {
	op := proto.RoomOp{Room: room, Op: proto.KindKick, Target: user, Reason: reason}
	if s.encryptedRoom(room) {
		return s.removeEncrypted(ctx, op)
	}
	return s.roomOp(ctx, op)
}

// Ban removes user from room and keeps them out (in an encrypted room, as
// Kick does, with a commit).
func (s *Session) Ban(ctx context.Context, room, user, reason string) (OpResult, error) {
	op := proto.RoomOp{Room: room, Op: proto.KindBan, Target: user, Reason: reason}
	if s.encryptedRoom(room) {
		return s.removeEncrypted(ctx, op)
	}
	return s.roomOp(ctx, op)
}

// encryptedRoom reports whether room is end-to-end encrypted.
func (s *Session) encryptedRoom(room string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isEncryptedLocked(room)
}

// Unban lifts a ban.
func (s *Session) Unban(ctx context.Context, room, user string) (OpResult, error) {
	return s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindUnban, Target: user})
}

// SetRole changes user's role in room.
func (s *Session) SetRole(ctx context.Context, room, user string, role proto.Role) (OpResult, error) {
	return s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindRole, Target: user, Role: role})
}

// SetName renames room.
func (s *Session) SetName(ctx context.Context, room, name string) (OpResult, error) {
	return s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindName, Value: name})
}

// SetTopic changes room's topic.
func (s *Session) SetTopic(ctx context.Context, room, topic string) (OpResult, error) {
	return s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindTopic, Value: topic})
}

// SetReadReceipts sets room's read-receipt policy (moderator or owner):
// with on false, members' clients send no read receipts and do not record
// them. The change arrives as a receipts entry, which Feed turns into
// content.EventReadReceipts; View.ReadReceipts reports the policy.
func (s *Session) SetReadReceipts(ctx context.Context, room string, on bool) (OpResult, error) {
	v := proto.ReceiptsOff
	if on {
		v = proto.ReceiptsOn
	}
	return s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindReceipts, Value: v})
}

// ReadReceipts reports room's read-receipt policy as the session last
// heard it from the relay (the room list at connect and on notices, and
// receipts entries since): false only when the room turned receipts off.
// Unlike a timeline's View.ReadReceipts it does not need the policy entry in
// the loaded history (a long room's cache may start after it); it is not
// kept across Open, so before the first connection it reports true.
func (s *Session) ReadReceipts(room string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[room]
	return !ok || r.receipts != proto.ReceiptsOff
}

// ListRooms asks the relay for the user's rooms (joined and invited).
func (s *Session) ListRooms(ctx context.Context) ([]proto.RoomSummary, error) {
	c, err := s.live()
	if err != nil {
		return nil, err
	}
	list, err := s.listRooms(ctx, c)
	return list.rooms, err
}

// RoomInfo asks the relay for a room's state and members.
func (s *Session) RoomInfo(ctx context.Context, room string) (*proto.RoomState, error) {
	c, err := s.live()
	if err != nil {
		return nil, err
	}
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.RoomInfo{RID: rid, Room: room})
	if err != nil {
		return nil, fmt.Errorf("session: room info %s: %w", room, err)
	}
	st, ok := f.(*proto.RoomState)
	if !ok {
		return nil, fmt.Errorf("session: room info %s: unexpected answer %s", room, f.FrameType())
	}
	return st, nil
}

// History returns up to n entries of room before seq before (0: the
// newest), oldest first: a page of scrollback. It reads the cache and, when
// the page reaches below the cached run, fetches the rest from the relay and
// caches it. more reports whether older entries remain.
func (s *Session) History(ctx context.Context, room string, before uint64, n int) (entries []Entry, more bool, err error) {
	if before == 0 {
		before = 1 << 62
	}
	n = min(max(n, 1), proto.MaxHistoryLimit)
	cached, err := s.store.Before(room, before, n)
	if err != nil {
		return nil, false, err
	}
	r, ok, err := s.store.Room(room)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, fmt.Errorf("session: history %s: unknown room", room)
	}
	if len(cached) == n {
		return cached, cached[0].Seq > 1, nil
	}
	if r.Low <= 1 {
		return cached, false, nil // the run reaches the room's first entry
	}
	// The page continues below the run: fetch the rest from the relay.
	c, err := s.live()
	if err != nil {
		return cached, true, err
	}
	top := min(before, r.Low)
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.History{RID: rid, Room: room, Before: top, Limit: uint64(n - len(cached))})
	if err != nil {
		return cached, true, fmt.Errorf("session: history %s: %w", room, err)
	}
	page, ok := f.(*proto.HistoryPage)
	if !ok {
		return cached, true, fmt.Errorf("session: history %s: unexpected answer %s", room, f.FrameType())
	}
	older := make([]Entry, len(page.Events))
	for i := range page.Events {
		older[i] = entryFromProto(&page.Events[i])
		closeUnopened(&older[i])
	}
	if len(older) > 0 && top == r.Low {
		low, err := s.store.CommitOlder(room, older)
		if err != nil {
			return cached, true, err
		}
		s.mu.Lock()
		if rs, ok := s.rooms[room]; ok {
			rs.Low = low
		}
		s.mu.Unlock()
	}
	return append(older, cached...), page.More, nil
}

// Typing tells the room's members whether this user is typing. It never
// blocks; when offline the signal is dropped (it is ephemeral).
func (s *Session) Typing(room string, typing bool) error {
	v := "stop"
	if typing {
		v = "start"
	}
	return s.signal(&proto.Signal{Room: room, Kind: proto.SignalTyping, Value: v})
}

// Presence announces "online", "away" or "offline" to room's members.
func (s *Session) Presence(room, value string) error {
	return s.signal(&proto.Signal{Room: room, Kind: proto.SignalPresence, Value: value})
}

func (s *Session) signal(f *proto.Signal) error {
	if err := proto.Validate(f); err != nil {
		return err
	}
	c, err := s.live()
	if err != nil {
		return err
	}
	return c.send(f)
}
