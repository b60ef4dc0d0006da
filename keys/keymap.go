package keys

import (
	"fmt"
	"slices"
	"sort"
)

// Keymap maps key strings to actions per context. Build one with New; it is
// read-only afterwards and safe to share.
type Keymap struct {
	preset string
	// keys[ctx][action] are the keys bound to action in ctx, in the order
	// given (the first is shown first in help).
	keys map[Context]map[Action][]string
	// index[ctx][key] is the action bound to key in ctx.
	index map[Context]map[string]Action
	// hidden actions stay bound but are not listed in help (see Hide).
	hidden map[Action]bool
}

// Hide returns a copy of km whose help does not list actions: they stay
// bound, so a key pressed out of habit still gets its answer (the SSH
// booth hides the actions that would touch the booth's machine and
// answers them with why not).
func (km *Keymap) Hide(actions ...Action) *Keymap {
	c := *km
	c.hidden = map[Action]bool{}
	for a := range km.hidden {
		c.hidden[a] = true
	}
	for _, a := range actions {
		c.hidden[a] = true
	}
	return &c
}

// Overrides are the [keys.CONTEXT] tables of the config file: context →
// action → keys. The keys replace the preset's keys for that action in that
// context; an empty list unbinds it.
type Overrides map[string]map[string][]string

// ConflictError reports two actions bound to one key in one context.
type ConflictError struct {
	Context       Context
	Key           string
	First, Second Action
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("keys: %q is bound to both %s and %s in [keys.%s]", e.Key, e.First, e.Second, e.Context)
}

// UnknownActionError reports an action name that cannot be bound in the
// context it was given for.
type UnknownActionError struct {
	Context Context
	Action  string
}

func (e *UnknownActionError) Error() string {
	return fmt.Sprintf("keys: unknown action %q in [keys.%s]", e.Action, e.Context)
}

// UnknownContextError reports a [keys.X] table with an unknown X.
type UnknownContextError struct{ Context string }

func (e *UnknownContextError) Error() string {
	return fmt.Sprintf("keys: unknown context [keys.%s] (known: global, composer, timeline, thread, rooms, picker, completion, dialog, confirm)", e.Context)
}

// UnknownPresetError reports a preset name that does not exist.
type UnknownPresetError struct{ Preset string }

func (e *UnknownPresetError) Error() string {
	return fmt.Sprintf("keys: unknown preset %q (known: default, vim)", e.Preset)
}

// Presets lists the preset names New accepts.
var Presets = []string{"default", "vim"}

// New builds the keymap of a preset ("default" or "vim"; "" means
// default) with the overrides applied, and checks it: every key parses,
// every action exists in its context, no key means two actions in one
// context, and no plain character is bound where the user types.
func New(preset string, over Overrides) (*Keymap, error) {
	var base map[Context]map[Action][]string
	switch preset {
	case "", "default":
		preset, base = "default", defaultPreset()
	case "vim":
		base = vimPreset()
	default:
		return nil, &UnknownPresetError{Preset: preset}
	}
	// Apply overrides in a fixed order so the first error is deterministic.
	for _, c := range sortedKeys(over) {
		ctx := Context(c)
		if !knownContext(ctx) {
			return nil, &UnknownContextError{Context: c}
		}
		for _, a := range sortedKeys(over[c]) {
			if _, ok := lookupInfo(ctx, Action(a)); !ok {
				return nil, &UnknownActionError{Context: ctx, Action: a}
			}
			if base[ctx] == nil {
				base[ctx] = map[Action][]string{}
			}
			base[ctx][Action(a)] = slices.Clone(over[c][a])
		}
	}
	return build(preset, base)
}

// build parses and indexes bindings, reporting the first problem in
// catalog order.
func build(preset string, bind map[Context]map[Action][]string) (*Keymap, error) {
	km := &Keymap{preset: preset, keys: map[Context]map[Action][]string{}, index: map[Context]map[string]Action{}}
	for _, ctx := range Contexts {
		km.keys[ctx] = map[Action][]string{}
		km.index[ctx] = map[string]Action{}
		for a := range bind[ctx] {
			if _, ok := lookupInfo(ctx, a); !ok {
				return nil, &UnknownActionError{Context: ctx, Action: string(a)}
			}
		}
		for _, in := range catalog[ctx] {
			for _, raw := range bind[ctx][in.action] {
				k, err := ParseKey(raw)
				if err != nil {
					ke := err.(*KeyError)
					ke.Context, ke.Action = ctx, in.action
					return nil, ke
				}
				if textEntry(ctx) && plainChar(k) {
					return nil, &KeyError{Context: ctx, Action: in.action, Key: raw,
						Reason: "a plain character cannot be bound where text is typed; add ctrl or alt"}
				}
				if prev, dup := km.index[ctx][k]; dup {
					if prev == in.action {
						continue // the same key listed twice for one action
					}
					return nil, &ConflictError{Context: ctx, Key: k, First: prev, Second: in.action}
				}
				km.index[ctx][k] = in.action
				km.keys[ctx][in.action] = append(km.keys[ctx][in.action], k)
			}
		}
	}
	return km, nil
}

// Preset returns the name of the preset the keymap was built from.
func (km *Keymap) Preset() string { return km.preset }

// Action returns the action bound to key (a KeyPressMsg.String()) when the
// focus is in ctx, looking in ctx and then in its parents (of which a box,
// taking every key, inherits quit only).
func (km *Keymap) Action(ctx Context, key string) (Action, bool) {
	if a, ok := km.index[ctx][key]; ok {
		return a, true
	}
	for _, p := range Parents(ctx) {
		if a, ok := km.index[p][key]; ok && (!modal(ctx) || a == Quit) {
			return a, true
		}
	}
	return "", false
}

// Keys returns the keys bound to action in ctx itself (not its parents).
func (km *Keymap) Keys(ctx Context, a Action) []string {
	return slices.Clone(km.keys[ctx][a])
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
