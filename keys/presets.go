package keys

import "fmt"

// bindings is one preset: context → action → keys.
type bindings = map[Context]map[Action][]string

// defaultPreset works in any terminal: global keys use ctrl/alt/function
// keys so they never swallow typed text, newline has fallbacks for
// terminals that cannot report shift+enter (alt+enter, ctrl+j), and
// selection mode answers to both arrows and j/k.
func defaultPreset() bindings {
	global := map[Action][]string{
		Quit:           {"ctrl+c"},
		Help:           {"f1"},
		RoomPicker:     {"ctrl+k"},
		NextRoom:       {"alt+down", "ctrl+n"},
		PrevRoom:       {"alt+up", "ctrl+p"},
		NextUnread:     {"alt+u"},
		NextMention:    {"alt+m"},
		FocusRooms:     {"alt+r"},
		FocusTimeline:  {"alt+t"},
		FocusComposer:  {"alt+c"},
		FocusMembers:   {"alt+w"},
		SelectMode:     {"ctrl+up", "alt+s"},
		ScrollUp:       {"shift+up"},
		ScrollDown:     {"shift+down"},
		PageUp:         {"pgup"},
		PageDown:       {"pgdown"},
		ScrollTop:      {"ctrl+home"},
		ScrollBottom:   {"ctrl+end"},
		ToggleMouse:    {"f2"},
		ToggleMembers:  {"f3"},
		ToggleRoomList: {"f4"},
		Knock:          nil, // rare and loud: /knock only
		Redraw:         {"ctrl+l"},
		AttachFile:     {"alt+a"},
	}
	for i, a := range roomActions {
		global[a] = []string{fmt.Sprintf("alt+%d", i+1)}
	}
	return bindings{
		Global: global,
		Composer: {
			Send:         {"enter"},
			Newline:      {"shift+enter", "alt+enter", "ctrl+j"},
			OpenEditor:   {"alt+e"},
			CompleteNext: {"tab"},
			CompletePrev: {"shift+tab"},
			Cancel:       {"esc"},
			EditLast:     {"up"},
			// in the composer ctrl+p/ctrl+n recall input, as in shells;
			// alt+up/alt+down still change rooms
			HistoryPrev: {"ctrl+p"},
			HistoryNext: {"ctrl+n"},
		},
		Timeline: {
			SelectPrev:  {"up", "k"},
			SelectNext:  {"down", "j"},
			SelectFirst: {"home", "g"},
			SelectLast:  {"end", "G"},
			Reply:       {"r"},
			React:       {"+"},
			Edit:        {"e"},
			Delete:      {"d", "delete"},
			OpenThread:  {"t", "enter"},
			Copy:        {"c"},
			OpenAttach:  {"o"},
			SaveAttach:  {"s"},
			JumpParent:  {"p"},
			Versions:    {"v"},
			Receipts:    {"i"},
			WhoReacted:  {"="},
			LeaveSelect: {"esc"},
			Help:        {"?"},
		},
		Thread: {
			CloseThread: {"esc", "q"},
		},
		Rooms: {
			SelectPrev:    {"up", "k"},
			SelectNext:    {"down", "j"},
			SelectFirst:   {"home", "g"},
			SelectLast:    {"end", "G"},
			OpenRoom:      {"enter", "right"},
			AcceptInvite:  {"a"},
			DeclineInvite: {"x"},
			CycleNotify:   {"m"},
			LeaveSelect:   {"esc"},
			Help:          {"?"},
		},
		Picker: {
			SelectPrev: {"up", "ctrl+p", "shift+tab"},
			SelectNext: {"down", "ctrl+n", "tab"},
			PageUp:     {"pgup"},
			PageDown:   {"pgdown"},
			Accept:     {"enter"},
			Cancel:     {"esc"},
		},
		Completion: {
			SelectPrev: {"shift+tab", "up"},
			SelectNext: {"tab", "down"},
			Accept:     {"enter"},
			Cancel:     {"esc"},
		},
		Dialog: {
			ScrollUp:   {"up", "k"},
			ScrollDown: {"down", "j"},
			PageUp:     {"pgup"},
			PageDown:   {"pgdown", "space"},
			Cancel:     {"esc", "q", "enter", "?", "f1"},
		},
		Confirm: {
			Accept: {"y", "Y", "enter"},
			Cancel: {"n", "N", "esc"},
		},
		Files: {
			SelectPrev:   {"up", "k"},
			SelectNext:   {"down", "j"},
			SelectFirst:  {"home", "g"},
			SelectLast:   {"end", "G"},
			PageUp:       {"pgup"},
			PageDown:     {"pgdown"},
			Accept:       {"enter", "right", "l"},
			ParentDir:    {"backspace", "left", "h"},
			ToggleHidden: {"."},
			Cancel:       {"esc", "q"},
		},
	}
}

// vimPreset is modal like vim: Esc in the composer goes to selection
// ("normal") mode, i/a come back, and selection mode uses vim's motions
// and scrolling keys (ctrl+e/y/d/u/f/b, g/G, y to yank, x to delete).
func vimPreset() bindings {
	p := defaultPreset()
	p[Composer][Cancel] = []string{"ctrl+g"}
	p[Composer][SelectMode] = []string{"esc"}
	p[Timeline] = map[Action][]string{
		SelectPrev:  {"k", "up"},
		SelectNext:  {"j", "down"},
		SelectFirst: {"g", "home"},
		SelectLast:  {"G", "end"},
		Reply:       {"r"},
		React:       {"+"},
		Edit:        {"e"},
		Delete:      {"x", "delete"},
		OpenThread:  {"l", "enter"},
		Copy:        {"y"},
		OpenAttach:  {"o"},
		SaveAttach:  {"w"},
		JumpParent:  {"%"},
		Versions:    {"v"},
		Receipts:    {"R"},
		WhoReacted:  {"="},
		ScrollUp:    {"ctrl+y"},
		ScrollDown:  {"ctrl+e"},
		PageUp:      {"ctrl+u", "ctrl+b"},
		PageDown:    {"ctrl+d", "ctrl+f"},
		LeaveSelect: {"i", "a", "esc"},
		Help:        {"?"},
	}
	p[Thread] = map[Action][]string{CloseThread: {"h", "q"}}
	p[Rooms][OpenRoom] = []string{"l", "enter"}
	p[Rooms][LeaveSelect] = []string{"i", "esc"}
	p[Picker][SelectPrev] = []string{"ctrl+p", "ctrl+k", "up"}
	p[Picker][SelectNext] = []string{"ctrl+n", "ctrl+j", "down"}
	return p
}

var roomActions = []Action{Room1, Room2, Room3, Room4, Room5, Room6, Room7, Room8, Room9}
