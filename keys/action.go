package keys

// Action names one thing the user can do. The string is stable: it is the
// name used in the config file ([keys.CONTEXT] ACTION = ["key", ...]) and
// the UI may use it as the /command name.
type Action string

// Context is where the keyboard focus is. A key is looked up in the focused
// context first, then in its parents (see Parents); Global is the root.
type Context string

// The focus contexts.
const (
	Global   Context = "global"   // anywhere; only modified or special keys
	Composer Context = "composer" // typing a message
	Timeline Context = "timeline" // selection mode: moving through messages
	Thread   Context = "thread"   // the thread pane (falls back to timeline)
	Rooms    Context = "rooms"    // the room list has focus
	Picker   Context = "picker"   // a box with a search field: emoji, rooms
	// Completion is the composer's completion list (:emoji, @member,
	// /command) while it is open; keys it does not bind act as in the
	// composer.
	Completion Context = "completion"
	Dialog     Context = "dialog"  // a box to read: all keys, versions, receipts
	Confirm    Context = "confirm" // a yes/no question (delete)
	Files      Context = "files"   // the file picker of /attach
)

// Contexts lists every context in documentation order.
var Contexts = []Context{Global, Composer, Timeline, Thread, Rooms, Picker, Completion, Dialog, Confirm, Files}

// Global actions.
const (
	Quit           Action = "quit"
	Help           Action = "help"
	ToggleMouse    Action = "toggle-mouse"
	NextRoom       Action = "next-room"
	PrevRoom       Action = "prev-room"
	Room1          Action = "room-1"
	Room2          Action = "room-2"
	Room3          Action = "room-3"
	Room4          Action = "room-4"
	Room5          Action = "room-5"
	Room6          Action = "room-6"
	Room7          Action = "room-7"
	Room8          Action = "room-8"
	Room9          Action = "room-9"
	RoomPicker     Action = "room-picker"
	NextUnread     Action = "next-unread"
	NextMention    Action = "next-mention"
	FocusRooms     Action = "focus-rooms"
	FocusTimeline  Action = "focus-timeline"
	FocusComposer  Action = "focus-composer"
	FocusMembers   Action = "focus-members"
	SelectMode     Action = "select-mode"
	ScrollUp       Action = "scroll-up"
	ScrollDown     Action = "scroll-down"
	PageUp         Action = "page-up"
	PageDown       Action = "page-down"
	ScrollTop      Action = "scroll-top"
	ScrollBottom   Action = "scroll-bottom"
	Redraw         Action = "redraw"
	Knock          Action = "knock"
	ToggleMembers  Action = "toggle-members"
	ToggleRoomList Action = "toggle-room-list"
	// AttachFile is the /attach command: with no file named it opens the
	// file picker.
	AttachFile Action = "attach"
)

// Composer actions.
const (
	Send         Action = "send"
	Newline      Action = "newline"
	OpenEditor   Action = "open-editor"
	CompleteNext Action = "complete-next"
	CompletePrev Action = "complete-prev"
	Cancel       Action = "cancel"
	EditLast     Action = "edit-last"
	HistoryPrev  Action = "history-prev"
	HistoryNext  Action = "history-next"
)

// Timeline (selection mode) actions. SelectPrev/SelectNext also move in the
// room list and in pickers.
const (
	SelectPrev  Action = "select-prev"
	SelectNext  Action = "select-next"
	SelectFirst Action = "select-first"
	SelectLast  Action = "select-last"
	Reply       Action = "reply"
	React       Action = "react"
	Edit        Action = "edit"
	Delete      Action = "delete"
	OpenThread  Action = "open-thread"
	Copy        Action = "copy"
	OpenAttach  Action = "open-attachment"
	SaveAttach  Action = "save-attachment"
	JumpParent  Action = "jump-to-parent"
	Versions    Action = "versions"
	Receipts    Action = "receipts"
	WhoReacted  Action = "who-reacted"
	LeaveSelect Action = "leave-select"
)

// Thread, room list and picker actions.
const (
	CloseThread   Action = "close-thread"
	OpenRoom      Action = "open-room"
	Accept        Action = "accept"
	CycleNotify   Action = "cycle-notify"
	AcceptInvite  Action = "accept-invite"
	DeclineInvite Action = "decline-invite"
)

// File picker actions (the files context).
const (
	ParentDir    Action = "parent-dir"
	ToggleHidden Action = "toggle-hidden"
)

// info describes an action in one context: its one-line help and whether it
// belongs in the short (one-line) help of that context.
type info struct {
	action Action
	desc   string
	short  bool
}

// catalog lists, per context, the actions that can be bound there, in help
// order. An override naming an action not listed for its context is an
// UnknownActionError.
var catalog = map[Context][]info{
	Global: {
		{Quit, "quit", true},
		{Help, "all keys", true},
		{RoomPicker, "find room", true},
		{NextRoom, "next room", false},
		{PrevRoom, "previous room", false},
		{Room1, "room 1", false}, {Room2, "room 2", false}, {Room3, "room 3", false},
		{Room4, "room 4", false}, {Room5, "room 5", false}, {Room6, "room 6", false},
		{Room7, "room 7", false}, {Room8, "room 8", false}, {Room9, "room 9", false},
		{NextUnread, "next unread room", false},
		{NextMention, "next mention", false},
		{FocusRooms, "focus room list", false},
		{FocusTimeline, "focus timeline", false},
		{FocusComposer, "focus composer", false},
		{FocusMembers, "member list", false},
		{SelectMode, "select messages", true},
		{ScrollUp, "scroll up", false},
		{ScrollDown, "scroll down", false},
		{PageUp, "page up", false},
		{PageDown, "page down", false},
		{ScrollTop, "scroll to top", false},
		{ScrollBottom, "scroll to bottom", false},
		{ToggleMouse, "mouse capture on/off", false},
		{ToggleMembers, "show/hide members", false},
		{ToggleRoomList, "show/hide room list", false},
		{Knock, "knock (alert the room)", false},
		{AttachFile, "send a file (file picker)", false},
		{Redraw, "redraw the screen", false},
	},
	Composer: {
		{Send, "send", true},
		{Newline, "new line", true},
		{OpenEditor, "$EDITOR", true},
		{CompleteNext, "complete", true},
		{CompletePrev, "previous completion", false},
		{Cancel, "cancel reply/edit/completion", false},
		{EditLast, "edit last message (empty composer)", false},
		{HistoryPrev, "earlier input", false},
		{HistoryNext, "later input", false},
		{SelectMode, "select messages", false},
	},
	Timeline: {
		{SelectPrev, "previous message", false},
		{SelectNext, "next message", false},
		{SelectFirst, "first message", false},
		{SelectLast, "last message", false},
		{Reply, "reply", true},
		{React, "react", true},
		{Edit, "edit", true},
		{Delete, "delete", true},
		{OpenThread, "open thread", true},
		{Copy, "copy text", true},
		{OpenAttach, "open attachment", false},
		{SaveAttach, "save attachment", false},
		{JumpParent, "jump to replied message", false},
		{Versions, "show versions", false},
		{Receipts, "show receipts", false},
		{WhoReacted, "who reacted", false},
		{ScrollUp, "scroll up", false},
		{ScrollDown, "scroll down", false},
		{PageUp, "page up", false},
		{PageDown, "page down", false},
		{LeaveSelect, "back to composer", true},
		{Help, "all keys", true},
	},
	Thread: {
		{CloseThread, "close thread", true},
	},
	Rooms: {
		{SelectPrev, "previous room", false},
		{SelectNext, "next room", false},
		{SelectFirst, "first room", false},
		{SelectLast, "last room", false},
		{OpenRoom, "open room", true},
		{AcceptInvite, "accept invitation", true},
		{DeclineInvite, "decline invitation", true},
		{CycleNotify, "notify: all/mentions/none", true},
		{LeaveSelect, "back to composer", true},
		{Help, "all keys", true},
	},
	Picker: {
		{SelectPrev, "previous", true},
		{SelectNext, "next", true},
		{PageUp, "page up", false},
		{PageDown, "page down", false},
		{Accept, "choose", true},
		{Cancel, "close", true},
	},
	Completion: {
		{SelectPrev, "previous completion", true},
		{SelectNext, "next completion", true},
		{Accept, "complete (run a complete /command)", true},
		{Cancel, "close the list", true},
	},
	Dialog: {
		{ScrollUp, "scroll up", true},
		{ScrollDown, "scroll down", true},
		{PageUp, "page up", false},
		{PageDown, "page down", false},
		{Cancel, "close", true},
	},
	Confirm: {
		{Accept, "yes", true},
		{Cancel, "no (so does any other key)", true},
	},
	Files: {
		{SelectPrev, "previous", false},
		{SelectNext, "next", false},
		{SelectFirst, "first", false},
		{SelectLast, "last", false},
		{PageUp, "page up", false},
		{PageDown, "page down", false},
		{Accept, "open folder / send file", true},
		{ParentDir, "parent folder", true},
		{ToggleHidden, "show/hide hidden files", true},
		{Cancel, "close", true},
	},
}

// Parents returns the contexts consulted, in order, when a key is not bound
// in ctx itself.
func Parents(ctx Context) []Context {
	switch ctx {
	case Global:
		return nil
	case Thread:
		return []Context{Timeline, Global}
	case Completion:
		return []Context{Composer, Global}
	default:
		return []Context{Global}
	}
}

// modal reports whether ctx is a box that takes every key (picker, dialog,
// confirm): of its parents' actions only quit works there, so help lists
// no other.
func modal(ctx Context) bool { return ctx == Picker || ctx == Dialog || ctx == Confirm || ctx == Files }

// textEntry reports whether ctx receives typed text, so a plain printable
// key bound there (or in Global, which every context inherits) would be
// swallowed while the user types.
func textEntry(ctx Context) bool {
	return ctx == Global || ctx == Composer || ctx == Picker || ctx == Completion
}

// Actions returns the actions that can be bound in ctx, in help order.
func Actions(ctx Context) []Action {
	out := make([]Action, 0, len(catalog[ctx]))
	for _, in := range catalog[ctx] {
		out = append(out, in.action)
	}
	return out
}

// Describe returns the one-line help of action in ctx ("" if not bindable
// there).
func Describe(ctx Context, a Action) string {
	if in, ok := lookupInfo(ctx, a); ok {
		return in.desc
	}
	return ""
}

func lookupInfo(ctx Context, a Action) (info, bool) {
	for _, in := range catalog[ctx] {
		if in.action == a {
			return in, true
		}
	}
	return info{}, false
}

func knownContext(ctx Context) bool {
	_, ok := catalog[ctx]
	return ok
}
