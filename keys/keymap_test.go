package keys

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
	"errors"
	"strings"
	"testing"
)

func mustNew(t *testing.T, preset string, over Overrides) *Keymap {
	t.Helper()
	km, err := New(preset, over)
	if err != nil {
		t.Fatalf("New(%q): %v", preset, err)
	}
	return km
}

func TestPresetsBuildWithoutConflicts(t *testing.T) {
	for _, p := range Presets {
		km := mustNew(t, p, nil)
		if km.Preset() != p {
			t.Errorf("Preset() = %q, want %q", km.Preset(), p)
		}
		// Every catalogued action is bound somewhere, except the ones
		// deliberately left to their /command.
		for _, ctx := range Contexts {
			for _, a := range Actions(ctx) {
				bound := len(km.Keys(ctx, a)) > 0
				for _, parent := range Parents(ctx) {
					bound = bound || len(km.Keys(parent, a)) > 0
				}
				if !bound && a != Knock {
					t.Errorf("%s: %s/%s has no key", p, ctx, a)
				}
			}
		}
	}
}

func TestLookup(t *testing.T) {
	def := mustNew(t, "default", nil)
	vim := mustNew(t, "vim", nil)
	tests := []struct {
		km   *Keymap
		ctx  Context
		key  string
		want Action
		ok   bool
	}{
		{def, Composer, "enter", Send, true},
		{def, Composer, "shift+enter", Newline, true},
		{def, Composer, "ctrl+j", Newline, true},
		{def, Composer, "ctrl+c", Quit, true}, // from global
		{def, Composer, "alt+3", Room3, true}, // from global
		{def, Composer, "r", "", false},       // typed text, not an action
		{def, Composer, "esc", Cancel, true},  // composer binding
		{def, Timeline, "r", Reply, true},
		{def, Timeline, "j", SelectNext, true},
		{def, Timeline, "G", SelectLast, true},
		{def, Timeline, "?", Help, true},
		{def, Timeline, "esc", LeaveSelect, true},
		{def, Thread, "esc", CloseThread, true}, // thread shadows timeline
		{def, Thread, "r", Reply, true},         // thread falls back to timeline
		{def, Thread, "alt+1", Room1, true},     // then to global
		{def, Picker, "tab", SelectNext, true},
		{def, Picker, "ctrl+n", SelectNext, true}, // picker shadows global next-room
		{def, Global, "r", "", false},
		{vim, Composer, "esc", SelectMode, true},
		{vim, Timeline, "y", Copy, true},
		{vim, Timeline, "x", Delete, true},
		{vim, Timeline, "i", LeaveSelect, true},
		{vim, Timeline, "ctrl+d", PageDown, true},
		{vim, Thread, "h", CloseThread, true},
	}
	for _, tt := range tests {
		got, ok := tt.km.Action(tt.ctx, tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s.Action(%s, %q) = %q, %v; want %q, %v", tt.km.Preset(), tt.ctx, tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOverridesApply(t *testing.T) {
	km := mustNew(t, "default", Overrides{
		"timeline": {"reply": {"R", "shift+x"}, "receipts": {}},
		"global":   {"knock": {"alt+K"}},
	})
	for _, tt := range []struct {
		ctx  Context
		key  string
		want Action
		ok   bool
	}{
		{Timeline, "R", Reply, true},
		{Timeline, "X", Reply, true}, // shift+x is reported as "X"
		{Timeline, "r", "", false},   // the preset key is replaced
		{Timeline, "i", "", false},   // receipts unbound
		{Composer, "alt+shift+k", Knock, true},
	} {
		got, ok := km.Action(tt.ctx, tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Action(%s, %q) = %q, %v; want %q, %v", tt.ctx, tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if got := km.Keys(Timeline, Receipts); len(got) != 0 {
		t.Errorf("receipts still bound to %v", got)
	}
	// Overrides never leak into the next keymap built from the same preset.
	if a, _ := mustNew(t, "default", nil).Action(Timeline, "r"); a != Reply {
		t.Errorf("default preset changed by an earlier override: r = %q", a)
	}
}

func TestErrorsNameTheProblem(t *testing.T) {
	tests := []struct {
		name   string
		preset string
		over   Overrides
		check  func(error) bool
		inMsg  []string
	}{
		{"unknown action", "", Overrides{"timeline": {"fly": {"f"}}},
			func(e error) bool { var x *UnknownActionError; return errors.As(e, &x) && x.Action == "fly" },
			[]string{`"fly"`, "timeline"}},
		{"action of another context", "", Overrides{"composer": {"reply": {"ctrl+r"}}},
			func(e error) bool { var x *UnknownActionError; return errors.As(e, &x) && x.Context == Composer },
			[]string{`"reply"`, "composer"}},
		{"unknown context", "", Overrides{"sidebar": {"quit": {"q"}}},
			func(e error) bool { var x *UnknownContextError; return errors.As(e, &x) && x.Context == "sidebar" },
			[]string{"sidebar"}},
		{"unparsable key", "", Overrides{"global": {"quit": {"ctrl+wat"}}},
			func(e error) bool {
				var x *KeyError
				return errors.As(e, &x) && x.Key == "ctrl+wat" && x.Action == Quit
			},
			[]string{`"ctrl+wat"`, "quit", "global"}},
		{"bad modifier", "", Overrides{"global": {"quit": {"cmd+q"}}},
			func(e error) bool { var x *KeyError; return errors.As(e, &x) && x.Key == "cmd+q" },
			[]string{`"cmd"`}},
		{"conflict", "", Overrides{"timeline": {"edit": {"r"}}},
			func(e error) bool {
				var x *ConflictError
				return errors.As(e, &x) && x.Key == "r" && x.Context == Timeline &&
					((x.First == Edit && x.Second == Reply) || (x.First == Reply && x.Second == Edit))
			},
			[]string{`"r"`, "reply", "edit", "timeline"}},
		{"conflict after normalising", "vim", Overrides{"timeline": {"edit": {"shift+r"}}},
			func(e error) bool { var x *ConflictError; return errors.As(e, &x) && x.Key == "R" },
			[]string{"receipts", "edit"}},
		{"plain key where text is typed", "", Overrides{"composer": {"send": {"s"}}},
			func(e error) bool { var x *KeyError; return errors.As(e, &x) && x.Action == Send },
			[]string{`"s"`, "send", "composer", "plain character"}},
		{"plain key in global", "", Overrides{"global": {"help": {"?"}}},
			func(e error) bool { var x *KeyError; return errors.As(e, &x) && x.Context == Global },
			[]string{`"?"`, "help"}},
		{"unknown preset", "emacs", nil,
			func(e error) bool { var x *UnknownPresetError; return errors.As(e, &x) && x.Preset == "emacs" },
			[]string{"emacs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			km, err := New(tt.preset, tt.over)
			if err == nil {
				t.Fatalf("New succeeded: %v", km.MarkdownTable())
			}
			if !tt.check(err) {
				t.Fatalf("wrong error %T: %v", err, err)
			}
			for _, s := range tt.inMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
		})
	}
}

func TestShortHelpFollowsContextAndShadowing(t *testing.T) {
	km := mustNew(t, "default", nil)
	descs := func(ctx Context) []string {
		var out []string
		for _, b := range km.ShortHelp(ctx) {
			out = append(out, b.Help().Key+" "+b.Help().Desc)
		}
		return out
	}
	comp := strings.Join(descs(Composer), ", ")
	for _, want := range []string{"enter send", "shift+enter/alt+enter/ctrl+j new line", "ctrl+c quit"} {
		if !strings.Contains(comp, want) {
			t.Errorf("composer short help %q lacks %q", comp, want)
		}
	}
	if strings.Contains(comp, "reply") {
		t.Errorf("composer short help lists a timeline key: %q", comp)
	}
	thread := strings.Join(descs(Thread), ", ")
	if !strings.HasPrefix(thread, "esc/q close thread") || !strings.Contains(thread, "r reply") {
		t.Errorf("thread short help = %q", thread)
	}
	// In the thread, esc closes the thread, so timeline's esc entry must go.
	if strings.Contains(thread, "back to composer") {
		t.Errorf("thread help lists a shadowed key: %q", thread)
	}
	full := km.HelpKeyMap(Thread).FullHelp()
	if len(full) != 3 {
		t.Errorf("thread full help has %d groups, want 3 (thread, timeline, global)", len(full))
	}
}

// The keymap drives bubbles' help.Model directly.
func TestBubblesHelpView(t *testing.T) {
	km := mustNew(t, "default", nil)
	h := help.New()
	h.SetWidth(60)
	short := h.View(km.HelpKeyMap(Timeline))
	if !strings.Contains(short, "reply") || strings.Contains(short, "\n") {
		t.Errorf("short help = %q", short)
	}
	if w := lipgloss.Width(short); w > 60 {
		t.Errorf("short help is %d wide", w)
	}
	h.ShowAll = true
	h.SetWidth(120) // full help sets groups side by side
	full := h.View(km.HelpKeyMap(Composer))
	for _, want := range []string{"send", "new line", "quit", "room 9"} {
		if !strings.Contains(full, want) {
			t.Errorf("full help lacks %q:\n%s", want, full)
		}
	}
}

// A box (picker, dialog, confirm) takes every key: its help lists its own
// actions and quit, none of global's others.
func TestModalHelpListsOnlyQuitFromGlobal(t *testing.T) {
	km := mustNew(t, "default", nil)
	for _, ctx := range []Context{Picker, Dialog, Confirm} {
		var got []string
		for _, group := range km.FullHelp(ctx) {
			for _, b := range group {
				got = append(got, b.Help().Desc)
			}
		}
		all := strings.Join(got, ", ")
		if !strings.Contains(all, "quit") {
			t.Errorf("%s help lacks quit: %s", ctx, all)
		}
		for _, not := range []string{"find room", "select messages", "all keys"} {
			if strings.Contains(all, not) {
				t.Errorf("%s help lists %q, which does not work there: %s", ctx, not, all)
			}
		}
		if a, ok := km.Action(ctx, "ctrl+c"); !ok || a != Quit {
			t.Errorf("ctrl+c in %s = %q, %v; want quit", ctx, a, ok)
		}
		if a, ok := km.Action(ctx, "ctrl+k"); ok {
			t.Errorf("ctrl+k in %s = %q: a global action leaks into a box", ctx, a)
		}
	}
}

// TestHelpListsOnlyKeysThatWork: an action whose keys are partly taken by a
// nearer context lists only the keys that still do it there. In the
// composer ctrl+n and ctrl+p recall input, so "next room" and "previous
// room" show alt+down and alt+up alone (they showed ctrl+n/ctrl+p too,
// which the help then listed twice with two meanings).
func TestHelpListsOnlyKeysThatWork(t *testing.T) {
	km := mustNew(t, "default", nil)
	tests := []struct {
		ctx        Context
		desc, keys string
	}{
		{Composer, "next room", "alt+down"},
		{Composer, "previous room", "alt+up"},
		{Composer, "later input", "ctrl+n"},
		{Timeline, "next room", "alt+down/ctrl+n"}, // nothing takes ctrl+n there
	}
	for _, tc := range tests {
		found := false
		for _, group := range km.FullHelp(tc.ctx) {
			for _, b := range group {
				if b.Help().Desc != tc.desc {
					continue
				}
				found = true
				if b.Help().Key != Display(tc.keys) && b.Help().Key != tc.keys {
					t.Errorf("%s: %q lists keys %q, want %q", tc.ctx, tc.desc, b.Help().Key, tc.keys)
				}
				for _, k := range b.Keys() {
					if got, _ := km.Action(tc.ctx, k); got == "" {
						t.Errorf("%s: %q lists %s, which does nothing there", tc.ctx, tc.desc, k)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s: no %q in the full help", tc.ctx, tc.desc)
		}
	}
}
