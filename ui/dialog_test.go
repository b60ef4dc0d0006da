package ui

import (
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
)

func keymapWith(t *testing.T, over keys.Overrides) *keys.Keymap {
	t.Helper()
	km, err := keys.New("default", over)
	if err != nil {
		t.Fatal(err)
	}
	return km
}

// TestDialogKeysRebindable: every key a dialog answers to comes from the
// keymap: rebinding an action makes the new key do it and the old key stop
// doing it, for each action of the picker, dialog and confirm contexts.
func TestDialogKeysRebindable(t *testing.T) {
	items := make([]pickItem, 30)
	for i := range items {
		items[i] = pickItem{label: "room " + itoa(i), idx: i}
	}
	lines := make([]string, 30)
	for i := range lines {
		lines[i] = "line " + itoa(i)
	}
	info := func(km *keys.Keymap, _ *bool) dialog {
		d := newInfoDialog(km, "help", infoText(lines...))
		d.scroll = 15
		return d
	}
	picker := func(km *keys.Keymap, done *bool) dialog {
		d := newPickerDialog(km, "rooms", items, nil, func(pickItem) tea.Cmd { *done = true; return nil })
		d.sel = 15
		return d
	}
	confirm := func(km *keys.Keymap, done *bool) dialog {
		return newConfirmDialog(km, "Delete?", func() tea.Cmd { *done = true; return nil })
	}
	closed := func(after dialog, _ bool) bool { return after == nil }
	accepted := func(_ dialog, done bool) bool { return done }
	scrolled := func(to int) func(dialog, bool) bool {
		return func(after dialog, _ bool) bool { d, ok := after.(*infoDialog); return ok && d.scroll == to }
	}
	selected := func(to int) func(dialog, bool) bool {
		return func(after dialog, _ bool) bool { d, ok := after.(*pickerDialog); return ok && d.sel == to }
	}
	tests := []struct {
		ctx      keys.Context
		action   keys.Action
		old, new string
		open     func(km *keys.Keymap, done *bool) dialog
		did      func(after dialog, done bool) bool // whether the action happened
	}{
		{keys.Dialog, keys.Cancel, "esc", "x", info, closed},
		{keys.Dialog, keys.Cancel, "q", "ctrl+q", info, closed},
		{keys.Dialog, keys.ScrollUp, "k", "ctrl+y", info, scrolled(14)},
		{keys.Dialog, keys.ScrollDown, "j", "ctrl+e", info, scrolled(16)},
		{keys.Dialog, keys.PageUp, "pgup", "ctrl+b", info, scrolled(5)},
		{keys.Dialog, keys.PageDown, "space", "ctrl+f", info, scrolled(25)},
		{keys.Confirm, keys.Accept, "y", "o", confirm, accepted},
		{keys.Picker, keys.Cancel, "esc", "ctrl+g", picker, func(after dialog, done bool) bool { return after == nil && !done }},
		{keys.Picker, keys.Accept, "enter", "ctrl+y", picker, accepted},
		{keys.Picker, keys.SelectPrev, "up", "ctrl+o", picker, selected(14)},
		{keys.Picker, keys.SelectNext, "down", "ctrl+j", picker, selected(16)},
		{keys.Picker, keys.PageUp, "pgup", "ctrl+b", picker, selected(5)},
		{keys.Picker, keys.PageDown, "pgdown", "ctrl+f", picker, selected(25)},
	}
	for _, tc := range tests {
		t.Run(string(tc.ctx)+"/"+string(tc.action)+"/"+tc.new, func(t *testing.T) {
			km := keymapWith(t, keys.Overrides{string(tc.ctx): {string(tc.action): {tc.new}}})

			done := false
			after, _ := tc.open(km, &done).Update(keyMsg(tc.old))
			if tc.did(after, done) {
				t.Errorf("%s still does %s", tc.old, tc.action)
			}

			done = false
			after, _ = tc.open(km, &done).Update(keyMsg(tc.new))
			if !tc.did(after, done) {
				t.Errorf("%s does not do %s", tc.new, tc.action)
			}
		})
	}
}

// TestRankItemsOrder: the picker ranks by match quality (a match at the
// start and in one run beats scattered letters), keeps every item in order
// for an empty query and records the matched byte offsets for highlighting.
func TestRankItemsOrder(t *testing.T) {
	items := []pickItem{
		{label: "Random", idx: 0},
		{label: "Welcome back", idx: 1},
		{label: "Design", idx: 2},
		{label: "General", idx: 3},
		{label: "Design sync", idx: 4},
		{label: "Ideas", idx: 5},
	}
	tests := []struct {
		q       string
		want    []int // idx in order
		matched []int // of the first
	}{
		{"", []int{0, 1, 2, 3, 4, 5}, nil},
		{"des", []int{2, 4, 5}, []int{0, 1, 2}},
		{"ds", []int{4, 2, 5}, []int{0, 7}}, // s after a space scores higher

		{"sync", []int{4}, []int{7, 8, 9, 10}},
		{"wb", []int{1}, []int{0, 8}},
		{"zz", nil, nil},
	}
	for _, tc := range tests {
		got := rankItems(items, tc.q)
		var idx []int
		for _, it := range got {
			idx = append(idx, it.idx)
		}
		if !reflect.DeepEqual(idx, tc.want) {
			t.Errorf("rank %q = %v, want %v", tc.q, idx, tc.want)
			continue
		}
		if len(got) > 0 && !reflect.DeepEqual(got[0].matched, tc.matched) {
			t.Errorf("rank %q: first matched at %v, want %v", tc.q, got[0].matched, tc.matched)
		}
	}
}

// TestCompletionKeysRebindable: the composer's completion list moves by the
// keymap's completion context: with select-next rebound to ctrl+o, tab no
// longer moves to the next completion and ctrl+o does.
func TestCompletionKeysRebindable(t *testing.T) {
	rl := startRelay(t)
	km := keymapWith(t, keys.Overrides{"completion": {"select-next": {"ctrl+o"}}})
	for _, tc := range []struct {
		move       string
		want, gone string // composer text after enter; text that must be gone (the list)
	}{
		{"tab", "/react", "read-receipts"},
		{"ctrl+o", "/read-receipts", "show or set"},
	} {
		t.Run(tc.move, func(t *testing.T) {
			name := "u-" + tc.move[len(tc.move)-1:]
			s := rl.session(name)
			room := openRoom(t, s, "r-"+name, "Room "+name)
			tm, _, scr := startUI(t, s, 100, 30, Options{Keymap: km, Room: room})
			scr.waitText(t, "Room "+name)
			tm.Type("/rea")
			scr.waitText(t, "/react ", "/read-receipts ")
			key(tm, tc.move)
			key(tm, "enter")
			scr.waitFor(t, tc.want+" in the composer", func(s string) bool {
				return strings.Contains(s, tc.want) && !strings.Contains(s, tc.gone)
			})
		})
	}
}
