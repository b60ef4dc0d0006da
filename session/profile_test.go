package session

import (
	"reflect"
	"testing"
)

// Room profiles merge: a later save replaces a field only with a non-empty
// value, new members go after the known ones, and each room has its own.
func TestProfileMerge(t *testing.T) {
	st := openTestStore(t)
	const room, other = "mimi://example.com/r/a", "mimi://example.com/r/b"
	desc := []RoomDescription{{Type: "text/plain", Lang: "en", Content: "what we do"}}
	steps := []struct {
		p       RoomProfile
		members []MemberProfile
		want    RoomProfile
		wantMs  []MemberProfile
	}{
		{RoomProfile{Avatar: "https://example.com/a.png", Description: desc},
			[]MemberProfile{{User: "u:alice", Name: "Alice", Role: "owner", Thumbprints: []string{"t1"}}, {User: "u:bob"}},
			RoomProfile{Avatar: "https://example.com/a.png", Description: desc},
			[]MemberProfile{{User: "u:alice", Name: "Alice", Role: "owner", Thumbprints: []string{"t1"}}, {User: "u:bob"}}},
		{RoomProfile{Mood: "busy"},
			[]MemberProfile{{User: "u:carol", Name: "Carol"}, {User: "u:bob", Name: "Bob"}, {User: "u:alice"}},
			RoomProfile{Avatar: "https://example.com/a.png", Mood: "busy", Description: desc},
			[]MemberProfile{{User: "u:alice", Name: "Alice", Role: "owner", Thumbprints: []string{"t1"}}, {User: "u:bob", Name: "Bob"}, {User: "u:carol", Name: "Carol"}}},
	}
	for i, s := range steps {
		if err := st.SaveProfile(room, s.p, s.members); err != nil {
			t.Fatal(err)
		}
		p, ms, err := st.Profile(room)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, s.want) || !reflect.DeepEqual(ms, s.wantMs) {
			t.Errorf("step %d: %+v %+v, want %+v %+v", i, p, ms, s.want, s.wantMs)
		}
	}
	if p, ms, err := st.Profile(other); err != nil || !reflect.DeepEqual(p, RoomProfile{}) || ms != nil {
		t.Errorf("another room: %+v %+v %v, want nothing", p, ms, err)
	}
}
