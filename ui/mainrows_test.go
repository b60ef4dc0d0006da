package ui

import (
	"slices"
	"testing"
	"time"

	"mimichat/content"
)

// threadRoom feeds a content timeline step by step, as the UI does.
type threadRoom struct {
	t   *testing.T
	tl  *content.Timeline
	seq uint64
	ids map[string]content.MessageID
	msg map[string]*content.Message
}

const threadTestRoom = "mimi://t.example/r/threads"

func newThreadRoom(t *testing.T) *threadRoom {
	return &threadRoom{t: t, tl: newTimeline("mimi://t.example/u/me", nil), ids: map[string]content.MessageID{},
		msg: map[string]*content.Message{}}
}

// send applies a message by sender; at is its hub time in minutes.
func (r *threadRoom) send(name, sender string, at int, build func(b *content.Builder) (*content.Message, error)) {
	r.t.Helper()
	uri := "mimi://t.example/u/" + sender
	m, err := build(&content.Builder{Sender: uri, Room: threadTestRoom})
	if err != nil {
		r.t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		r.t.Fatal(err)
	}
	id, err := content.ComputeID(uri, threadTestRoom, raw)
	if err != nil {
		r.t.Fatal(err)
	}
	r.seq++
	when := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(at) * time.Minute)
	out, err := r.tl.Apply(content.Envelope{Seq: r.seq, HubTime: when.UnixMilli(), Sender: uri, ID: id, Raw: raw})
	if err != nil || out == content.Refused {
		r.t.Fatalf("%s: %v %v %v", name, out, err, r.tl.Refused())
	}
	r.ids[name], r.msg[name] = id, m
}

// shown lists the first words of the main timeline's messages.
func (r *threadRoom) shown(x *mainRows) []string {
	var out []string
	r.tl.Read(func(v content.View) {
		x.sync(r.tl, v)
		for k := 0; k < x.len(); k++ {
			it := v.At(x.visible(k))
			out = append(out, content.PlainText(&content.Message{Body: it.Body}))
		}
	})
	return out
}

// TestMainRowsFoldThreads: the main timeline shows each thread once (its
// root, or its first message when it starts in a topic); the incremental
// index always equals one built from scratch over the same timeline.
func TestMainRowsFoldThreads(t *testing.T) {
	r := newThreadRoom(t)
	var live mainRows
	md := func(text string, opts ...content.Option) func(b *content.Builder) (*content.Message, error) {
		return func(b *content.Builder) (*content.Message, error) { return b.Markdown(text, opts...) }
	}
	topicT, topicU := content.InTopic([]byte("t-1")), content.InTopic([]byte("t-2"))
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"root", func() { r.send("root", "alice", 0, md("root")) }, []string{"root"}},
		{"chat", func() { r.send("chat", "bob", 1, md("chat")) }, []string{"root", "chat"}},
		{"first reply roots the thread", func() {
			r.send("r1", "bob", 2, func(b *content.Builder) (*content.Message, error) {
				return b.Reply(r.ids["root"], content.MarkdownPart("r1"), topicT)
			})
		}, []string{"root", "chat"}},
		{"second reply", func() { r.send("r2", "carol", 3, md("r2", topicT)) }, []string{"root", "chat"}},
		{"topic-first thread", func() { r.send("s", "carol", 4, md("s", topicU)) }, []string{"root", "chat", "s"}},
		{"its reply", func() { r.send("s1", "alice", 5, md("s1", topicU)) }, []string{"root", "chat", "s"}},
		{"after", func() { r.send("after", "alice", 6, md("after")) }, []string{"root", "chat", "s", "after"}},
		{"late earlier first takes the thread", func() { r.send("early", "bob", 3, md("early", topicU)) },
			[]string{"root", "chat", "after", "early"}},
		{"edit a reply", func() {
			r.send("r2e", "carol", 7, func(b *content.Builder) (*content.Message, error) {
				return b.Edit(r.ids["r2"], r.msg["r2"], content.MarkdownPart("r2 edited"), topicT)
			})
		}, []string{"root", "chat", "after", "early"}},
		{"delete the first reply", func() {
			r.send("r1d", "bob", 8, func(b *content.Builder) (*content.Message, error) {
				return b.Delete(r.ids["r1"], r.msg["r1"])
			})
		}, nil}, // checked against the rebuild only
		{"an edit moves a message into a thread as a reply", func() {
			r.send("aftere", "alice", 9, func(b *content.Builder) (*content.Message, error) {
				return b.Edit(r.ids["after"], r.msg["after"], content.MarkdownPart("after"), topicU)
			})
		}, []string{"root", "chat", "early"}},
		{"an edit makes a message a thread's new first", func() {
			r.send("roote", "alice", 10, func(b *content.Builder) (*content.Message, error) {
				return b.Edit(r.ids["root"], r.msg["root"], content.MarkdownPart("root"), topicU)
			})
		}, []string{"root", "chat", ""}}, // t-1 no longer hangs off root: its first (deleted) reply stands for it
	}
	rebuilds := map[string]bool{}
	for _, st := range steps {
		st.do()
		// what the UI does after applying entries
		r.tl.Read(func(v content.View) {
			for _, id := range r.ids {
				live.noteChange(v, id)
			}
		})
		rebuilds[st.name] = live.dirty
		got := r.shown(&live)
		var fresh mainRows
		if want := r.shown(&fresh); !slices.Equal(got, want) {
			t.Fatalf("%s: incremental %q, rebuilt %q", st.name, got, want)
		}
		if st.want != nil && !slices.Equal(got, st.want) {
			t.Fatalf("%s: main timeline %q, want %q", st.name, got, st.want)
		}
		if st.name == "second reply" { // the root carries the thread
			r.tl.Read(func(v content.View) {
				root, _ := v.Get(r.ids["root"])
				if got := live.threadOf(root); got != "t-1" {
					t.Errorf("root's thread = %q, want t-1", got)
				}
			})
		}
	}
	// a plain edit costs no rebuild; moving rows does
	if rebuilds["edit a reply"] {
		t.Error("a text edit of a thread reply rebuilt the index")
	}
}

// TestMainRowsIncrementalCost: appending messages to an indexed room
// examines only the new rows (no rescan per frame or per message).
func TestMainRowsIncrementalCost(t *testing.T) {
	r := newThreadRoom(t)
	var x mainRows
	for i := range 300 {
		opts := []content.Option{}
		if i%3 == 1 {
			opts = append(opts, content.InTopic([]byte("busy")))
		}
		r.send("m", "alice", i, func(b *content.Builder) (*content.Message, error) { return b.Markdown("m", opts...) })
		r.tl.Read(func(v content.View) { x.sync(r.tl, v) })
		if x.scanned != r.tl.Len() {
			t.Fatalf("after %d messages scanned %d of %d rows", i+1, x.scanned, r.tl.Len())
		}
	}
	rows := slices.Clone(x.rows)
	ver := x.ver
	r.tl.Read(func(v content.View) { x.sync(r.tl, v) }) // nothing changed: nothing done
	if x.ver != ver || !slices.Equal(rows, x.rows) {
		t.Fatal("a sync without changes changed the index")
	}
	if want := 300 - 99; x.len() != want { // 100 in the topic, its first shown
		t.Fatalf("main rows = %d, want %d", x.len(), want)
	}
}

// TestPendingSplitByThread: the user's unsent messages written into a
// thread wait in that thread's pane, not in the main timeline.
func TestPendingSplitByThread(t *testing.T) {
	mk := func(topic string) *pendingMsg {
		m := &content.Message{}
		if topic != "" {
			m.TopicID = []byte(topic)
		}
		return &pendingMsg{msg: m}
	}
	a, b, c, d := mk(""), mk("t-1"), mk(""), mk("t-2")
	tests := []struct {
		name    string
		pending []*pendingMsg
		main    []*pendingMsg
		t1      []*pendingMsg
	}{
		{"none", nil, nil, nil},
		{"main only", []*pendingMsg{a, c}, []*pendingMsg{a, c}, nil},
		{"mixed", []*pendingMsg{a, b, c, d}, []*pendingMsg{a, c}, []*pendingMsg{b}},
		{"thread only", []*pendingMsg{b, d}, []*pendingMsg{}, []*pendingMsg{b}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &room{pending: tc.pending}
			if got := r.mainPending(); len(got) != len(tc.main) || (len(got) > 0 && !slices.Equal(got, tc.main)) {
				t.Errorf("main pending = %v, want %v", got, tc.main)
			}
			if got := r.threadPending("t-1"); !slices.Equal(got, tc.t1) {
				t.Errorf("t-1 pending = %v, want %v", got, tc.t1)
			}
			if got := r.threadPending(""); got != nil {
				t.Errorf("no thread: %v", got)
			}
		})
	}
}
