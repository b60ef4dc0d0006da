package demo

import (
	"context"
	"fmt"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// setup creates the rooms, fills them with a little history showing every
// kind of message, and invites the user.
func (d *Demo) setup(ctx context.Context, you string) error {
	alice, bob, carol := d.peers[0], d.peers[1], d.peers[2]
	rooms := []struct {
		owner             *peer
		slug, name, topic string
		others            []*peer
		history           string
	}{
		{alice, "general", "General", "Welcome to the mimichat demo · alt+s selects messages, f1 shows every key", []*peer{bob, carol}, ""},
		{bob, "design", "Design", "Threads, attachments and call links", []*peer{alice, carol}, ""},
		{carol, "random", "Random", "Knocks, vanishing messages, languages", []*peer{alice, bob}, ""},
		{alice, "catchup", "Welcome back", catchupTopic, []*peer{bob, carol}, proto.HistoryJoined},
	}
	for _, r := range rooms {
		if _, err := r.owner.s.CreateRoom(ctx, session.CreateRoomOptions{Slug: r.slug, Name: r.name, Topic: r.topic,
			Join: proto.JoinOpen, History: r.history}); err != nil {
			return fmt.Errorf("demo: create %s: %w", r.slug, err)
		}
		id := "mimi://" + Domain + "/r/" + r.slug
		d.Rooms = append(d.Rooms, id)
		for _, o := range r.others {
			if _, err := o.s.Join(ctx, id); err != nil {
				return fmt.Errorf("demo: %s joins %s: %w", o.name, r.slug, err)
			}
		}
		if r.history == proto.HistoryJoined {
			// An invitation adds the user's device to the room's MLS
			// group at once, and it reads from there; this room's story
			// is history from the join on, so the user joins it (open)
			// by external commit when the UI starts.
			continue
		}
		if _, err := r.owner.s.Invite(ctx, id, you); err != nil {
			return fmt.Errorf("demo: invite to %s: %w", r.slug, err)
		}
	}
	general, design, random := d.Rooms[0], d.Rooms[1], d.Rooms[2]
	now := time.Now()
	steps := append(catchupHistory(d.Rooms[3], alice, bob, carol), []func() error{
		func() error {
			return alice.markdown(general, "Welcome to **mimichat**! 👋 This room is a *scripted demo*: Alice, Bob and Carol are real clients of a relay running inside this process.")
		},
		func() error {
			return bob.markdown(general, "Markdown works: `inline code`, **bold**, _italic_, ~~struck~~ and lists:\n\n- replies and reactions\n- edits and deletes\n- threads, attachments, calls\n\n> quotes too")
		},
		func() error { return carol.reply(general, bob, "And a reply shows a one-line quote of its parent.") },
		func() error { return alice.react(general, bob, "👍") },
		func() error { return carol.react(general, bob, "🎉") },
		func() error { return carol.changeReaction(general, bob, "❤️") },
		func() error { return bob.react(general, bob, "😂") },
		func() error { return bob.unreact(general, bob) },
		func() error { return bob.markdown(general, "I wrote this with a tpyo") },
		func() error {
			return bob.editLast(general, "I wrote this without a typo (see the version history with `v`)")
		},
		func() error { return carol.markdown(general, "this message will be deleted") },
		func() error { return carol.deleteLast(general) },
		func() error { return alice.alternatives(general) },
		func() error {
			return alice.markdown(general, "Hey "+content.MentionMarkdown("You", you)+", press **alt+s** to select a message, then **r** to reply or **+** to react. Type `/` for commands.")
		},
		func() error {
			return bob.markdownOpts(design, "Let's pick the new logo in a thread 🧵", content.InTopic([]byte("logo")))
		},
		func() error {
			return alice.markdownOpts(design, "I like the blue one.", content.InTopic([]byte("logo")))
		},
		func() error {
			return carol.markdownOpts(design, "Blue, but with rounder corners.", content.InTopic([]byte("logo")))
		},
		func() error { return alice.attachment(design, "logo-draft.txt", "The draft, as text art") },
		func() error {
			logo, err := LogoPNG()
			if err != nil {
				return err
			}
			return carol.image(design, "logo-blue.png", "The blue one, rounder corners", "image/png", logo)
		},
		func() error {
			return bob.callLink(design, "https://meet.example.com/design-sync", "Design sync (daily 10:00)")
		},
		func() error {
			return carol.markdownOpts(random, "This message vanishes in 3 minutes ⏳", content.ExpiresAt(now.Add(3*time.Minute)))
		},
		func() error { return bob.knock(random) },
		func() error { return alice.markdown(random, "Knocks ring the terminal bell and flash the room.") },
	}...)
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// live runs the script in a loop until ctx ends.
func (d *Demo) live(ctx context.Context) {
	alice, bob, carol := d.peers[0], d.peers[1], d.peers[2]
	general, design, random := d.Rooms[0], d.Rooms[1], d.Rooms[2]
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.shareWhenJoined(ctx, alice, d.Rooms[3])
	}()
	lines := []string{
		"Has anyone tried the **vim** key preset? `[keys] preset = \"vim\"` in the config.",
		"Ctrl+K finds a room by name, alt+u jumps to the next unread one.",
		"Tip: `/expire 30s text` sends a message that vanishes.",
		"I just pushed the new build 🚀",
		"Lunch at 12:30? 🍜",
		"Reactions are a compact row under the message; yours are highlighted.",
	}
	script := []func(i int){
		func(i int) { bob.typeThen(ctx, general, func() { bob.markdown(general, lines[i%len(lines)]) }) },
		func(int) { alice.react(general, bob, []string{"👍", "🔥", "👀"}[time.Now().Second()%3]) },
		func(int) {
			carol.typeThen(ctx, general, func() { carol.reply(general, bob, "Good point — replying to it.") })
		},
		func(int) { alice.changeReaction(general, bob, "💯") },
		func(int) {
			alice.markdownOpts(design, "Another thought on the logo: keep it monochrome?", content.InTopic([]byte("logo")))
		},
		func(int) { bob.markdown(general, "Editing this in a moment…") },
		func(int) { bob.editLast(general, "Edited: messages show (edited) and keep their versions.") },
		func(int) {
			carol.markdownOpts(random, "Psst, this one vanishes in 20 seconds 🤫", content.ExpiresAt(time.Now().Add(20*time.Second)))
		},
		func(int) { alice.unreact(general, bob) },
		func(int) { alice.s.Leave(ctx, random) },
		func(int) { alice.s.Join(ctx, random) },
		func(int) { alice.markdown(random, "I'm back. Sending a message I'll delete…") },
		func(int) { alice.deleteLast(random) },
		func(i int) {
			if i%2 == 0 {
				bob.knock(random)
			}
		},
	}
	for i := 0; ; i++ {
		if !sleep(ctx, time.Duration(float64(5*time.Second)*d.pace)) {
			return
		}
		script[i%len(script)](i / len(script))
		if i%6 == 0 {
			for _, p := range d.peers {
				for _, r := range d.Rooms {
					p.s.Presence(r, p.presence())
				}
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// typeThen shows the typing indicator for a moment before fn.
func (p *peer) typeThen(ctx context.Context, room string, fn func()) {
	p.s.Typing(room, true)
	if sleep(ctx, time.Duration(float64(2*time.Second)*p.d.pace)) {
		fn()
	}
	p.s.Typing(room, false)
}
