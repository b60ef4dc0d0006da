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
// doing it.
func TestDialogKeysRebindable(t *testing.T) {
	items := []pickItem{{label: "Design", idx: 0}, {label: "General", idx: 1}}
	tests := []struct {
		name     string
		ctx      keys.Context
		action   keys.Action
		old, new string
		open     func(km *keys.Keymap, done *bool) dialog
		// closes: the action closes the dialog (else it moves the selection)
		closes bool
	}{
		{"dialog close", keys.Dialog, keys.Cancel, "esc", "x",
			func(km *keys.Keymap, _ *bool) dialog { return newInfoDialog(km, "help", infoText("a", "b")) }, true},
		{"dialog close q", keys.Dialog, keys.Cancel, "q", "ctrl+q",
			func(km *keys.Keymap, _ *bool) dialog { return newInfoDialog(km, "help", infoText("a", "b")) }, true},
		{"confirm yes", keys.Confirm, keys.Accept, "y", "o",
			func(km *keys.Keymap, done *bool) dialog {
				return newConfirmDialog(km, "Delete?", func() tea.Cmd { *done = true; return nil })
			}, true},
		{"picker close", keys.Picker, keys.Cancel, "esc", "ctrl+g",
			func(km *keys.Keymap, _ *bool) dialog { return newPickerDialog(km, "rooms", items, nil, nil) }, true},
		{"picker accept", keys.Picker, keys.Accept, "enter", "ctrl+y",
			func(km *keys.Keymap, done *bool) dialog {
				return newPickerDialog(km, "rooms", items, nil, func(pickItem) tea.Cmd { *done = true; return nil })
			}, true},
		{"picker next", keys.Picker, keys.SelectNext, "down", "ctrl+j",
			func(km *keys.Keymap, _ *bool) dialog { return newPickerDialog(km, "rooms", items, nil, nil) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			km := keymapWith(t, keys.Overrides{string(tc.ctx): {string(tc.action): {tc.new}}})
			done := false
			d := tc.open(km, &done)

			// the old key no longer does it
			after, _ := d.Update(keyMsg(tc.old))
			switch {
			case tc.ctx == keys.Confirm:
				if done {
					t.Fatalf("%s still confirms", tc.old)
				}
				d = tc.open(km, &done)
			case tc.closes && after == nil:
				t.Fatalf("%s still closes the dialog", tc.old)
			case !tc.closes && after.(*pickerDialog).sel != 0:
				t.Fatalf("%s still moves the selection", tc.old)
			}

			// the new key does
			after, _ = d.Update(keyMsg(tc.new))
			if tc.closes && after != nil {
				t.Fatalf("%s does not close the dialog", tc.new)
			}
			if tc.action == keys.Accept && !done {
				t.Fatalf("%s does not accept", tc.new)
			}
			if !tc.closes && after.(*pickerDialog).sel != 1 {
				t.Fatalf("%s does not move the selection", tc.new)
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
