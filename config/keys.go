package config

import (
	"errors"
	"fmt"
	"sort"

	"mimichat/keys"
)

// Keys is the [keys] table: the preset and the per-context overrides
// ([keys.timeline] reply = ["r", "R"]), exactly what keys.New takes. One
// field per context, so a misspelt context is an unknown key like any other.
type Keys struct {
	// Preset is "default" (the default) or "vim".
	Preset   string              `toml:"preset"`
	Global   map[string][]string `toml:"global"`
	Composer map[string][]string `toml:"composer"`
	Timeline map[string][]string `toml:"timeline"`
	Thread   map[string][]string `toml:"thread"`
	Rooms    map[string][]string `toml:"rooms"`
	Picker   map[string][]string `toml:"picker"`
	// Completion, Dialog and Confirm are the composer's completion list,
	// the boxes to read (all keys, versions, receipts) and yes/no questions.
	Completion map[string][]string `toml:"completion"`
	Dialog     map[string][]string `toml:"dialog"`
	Confirm    map[string][]string `toml:"confirm"`
}

// Overrides returns the [keys.CONTEXT] tables in keys.New's form.
func (k *Keys) Overrides() keys.Overrides {
	out := keys.Overrides{}
	for ctx, m := range map[keys.Context]map[string][]string{
		keys.Global: k.Global, keys.Composer: k.Composer, keys.Timeline: k.Timeline,
		keys.Thread: k.Thread, keys.Rooms: k.Rooms, keys.Picker: k.Picker,
		keys.Completion: k.Completion, keys.Dialog: k.Dialog, keys.Confirm: k.Confirm,
	} {
		if m != nil {
			out[string(ctx)] = m
		}
	}
	return out
}

// Keymap builds the keymap of preset (a flag; "" means the file's preset)
// with the file's overrides, naming the config key of any problem.
func (k *Keys) Keymap(preset string) (*keys.Keymap, error) {
	if preset == "" {
		preset = k.Preset
	}
	km, err := keys.New(preset, k.Overrides())
	if err != nil {
		return nil, &Error{Key: k.errorKey(err), Err: err}
	}
	return km, nil
}

// validate builds the keymap once so a bad binding is reported when the
// file loads, not when the client starts drawing.
func (k *Keys) validate() error {
	_, err := k.Keymap("")
	return err
}

// errorKey is the config key a keys error is about: for a conflict, the
// binding the file changed (the preset's own bindings never conflict).
func (k *Keys) errorKey(err error) string {
	var (
		pe *keys.UnknownPresetError
		ae *keys.UnknownActionError
		ke *keys.KeyError
		ce *keys.ConflictError
	)
	switch {
	case errors.As(err, &pe):
		return "keys.preset"
	case errors.As(err, &ae):
		return fmt.Sprintf("keys.%s.%s", ae.Context, ae.Action)
	case errors.As(err, &ke):
		return fmt.Sprintf("keys.%s.%s", ke.Context, ke.Action)
	case errors.As(err, &ce):
		a := ce.Second
		if _, changed := k.Overrides()[string(ce.Context)][string(ce.First)]; changed {
			a = ce.First
		}
		return fmt.Sprintf("keys.%s.%s", ce.Context, a)
	}
	return "keys"
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
