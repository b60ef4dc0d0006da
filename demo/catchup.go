package demo

// The "Welcome back" room shows history sharing (issue 6): its history is
// visible only from a member's join, so the user (or a booth visitor), who
// joins after the peers talked, sees none of it until Alice, its owner,
// shares it; the client then offers /import-history.

import (
	"context"
	"path/filepath"
	"time"

	"mimichat/history"
	"mimichat/history/cache"
	"mimichat/proto"
)

const catchupTopic = "History visible from your join · Alice shares what you missed: /import-history merges it"

// catchupHistory is what the peers say before the user joins.
func catchupHistory(room string, alice, bob, carol *peer) []func() error {
	return []func() error{
		func() error {
			return alice.markdown(room, "Before you joined: we agreed to ship **v2** on Friday. 🚢")
		},
		func() error { return bob.reply(room, alice, "I'll write the release notes.") },
		func() error { return carol.react(room, alice, "🎉") },
		func() error { return carol.markdown(room, "Reminder: the retro is on Monday.") },
		func() error { return carol.editLast(room, "Reminder: the retro moved to Tuesday.") },
	}
}

// shareWhenJoined has alice share the room's history with every member who
// is not a peer (the user, and each booth visitor) once they have joined,
// checking every second until ctx ends.
func (d *Demo) shareWhenJoined(ctx context.Context, alice *peer, room string) {
	shared := map[string]bool{}
	for {
		info, err := alice.s.RoomInfo(ctx, room)
		if err == nil {
			for _, m := range info.Members {
				if m.State == proto.StateJoined && !shared[m.User] && !d.isPeer(m.User) {
					shared[m.User] = true
					alice.shareHistory(ctx, room, m.User)
				}
			}
		}
		if !sleep(ctx, time.Second) {
			return
		}
	}
}

// shareHistory sends the history alice's client holds for room as a vCon
// offer for user.
func (p *peer) shareHistory(ctx context.Context, room, user string) error {
	r, _, err := p.s.Store().Room(room)
	if err != nil {
		return err
	}
	once := cache.NewOnceSource(p.s.Store(), room, filepath.Dir(p.s.Store().Path()))
	defer once.Close()
	src := once.Source()
	msg, _, err := history.ShareOffer(ctx, p.build(room), history.Room{ID: room, Name: r.Name, Subject: r.Topic}, src,
		history.ExportOptions{Now: time.Now().UnixMilli()}, user, proto.DefaultMaxContent, p.s.Upload)
	if err != nil {
		return err
	}
	_, err = p.send(room, msg)
	return err
}
