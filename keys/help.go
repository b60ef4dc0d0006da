package keys

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
)

// Binding returns action's keys in ctx as a bubbles key.Binding with help
// text, so bubbles components (help.Model, key.Matches) can use it. An
// unbound action gives a disabled binding, which help hides.
func (km *Keymap) Binding(ctx Context, a Action) key.Binding {
	ks := km.keys[ctx][a]
	b := key.NewBinding(key.WithKeys(ks...), key.WithHelp(helpKeys(ks), Describe(ctx, a)))
	if len(ks) == 0 {
		b.SetEnabled(false)
	}
	return b
}

// bindingIn is action a of context c (ctx or a parent) as help in ctx
// shows it: only the keys that do a there (in the composer ctrl+n recalls
// input, so "next room" lists alt+down alone).
func (km *Keymap) bindingIn(ctx, c Context, a Action) key.Binding {
	var ks []string
	for _, k := range km.keys[c][a] {
		if got, _ := km.Action(ctx, k); got == a {
			ks = append(ks, k)
		}
	}
	b := key.NewBinding(key.WithKeys(ks...), key.WithHelp(helpKeys(ks), Describe(c, a)))
	if len(ks) == 0 {
		b.SetEnabled(false)
	}
	return b
}

// ShortHelp is the one-line context help: the bound actions of ctx marked
// for the short help, in catalog order, then Global's (help, quit...).
func (km *Keymap) ShortHelp(ctx Context) []key.Binding { return km.ShortHelpWhere(ctx, nil) }

// ShortHelpWhere is ShortHelp without the actions keep refuses (nil keeps
// all): the client leaves out what does not apply or is not allowed where
// the focus is (accepting when there is no invitation, deleting another
// person's message as a member).
func (km *Keymap) ShortHelpWhere(ctx Context, keep func(Action) bool) []key.Binding {
	var out []key.Binding
	for _, c := range append([]Context{ctx}, Parents(ctx)...) {
		for _, in := range catalog[c] {
			if in.short && km.listed(ctx, c, in.action) && (keep == nil || keep(in.action)) {
				out = append(out, km.bindingIn(ctx, c, in.action))
			}
		}
	}
	return out
}

// FullHelp is every bound action that works in ctx, one group (column)
// per context: ctx first, then its parents.
func (km *Keymap) FullHelp(ctx Context) [][]key.Binding {
	var out [][]key.Binding
	for _, c := range append([]Context{ctx}, Parents(ctx)...) {
		var group []key.Binding
		for _, in := range catalog[c] {
			if km.listed(ctx, c, in.action) {
				group = append(group, km.bindingIn(ctx, c, in.action))
			}
		}
		if len(group) > 0 {
			out = append(out, group)
		}
	}
	return out
}

// listed reports whether the help of ctx lists action a of context c (ctx
// or a parent): it is bound there, not shadowed, and works in ctx.
func (km *Keymap) listed(ctx, c Context, a Action) bool {
	if c != ctx && modal(ctx) && a != Quit {
		return false
	}
	return len(km.keys[c][a]) > 0 && !km.hidden[a] && !km.shadowed(ctx, c, a)
}

// shadowed reports whether every key of action in context c is taken by a
// nearer context in ctx's chain, so listing it would be a lie.
func (km *Keymap) shadowed(ctx, c Context, a Action) bool {
	for _, k := range km.keys[c][a] {
		if got, _ := km.Action(ctx, k); got == a {
			return false
		}
	}
	return true
}

// HelpKeyMap adapts the keymap for one context to bubbles' help.Model.
func (km *Keymap) HelpKeyMap(ctx Context) help.KeyMap { return helpMap{km, ctx} }

type helpMap struct {
	km  *Keymap
	ctx Context
}

func (h helpMap) ShortHelp() []key.Binding  { return h.km.ShortHelp(h.ctx) }
func (h helpMap) FullHelp() [][]key.Binding { return h.km.FullHelp(h.ctx) }

func helpKeys(ks []string) string {
	shown := make([]string, len(ks))
	for i, k := range ks {
		shown[i] = Display(k)
	}
	return strings.Join(shown, "/")
}

// MarkdownTable renders every context's bindings as Markdown tables, for
// docs/keys.md. Every action name appears: one bound only in a parent
// context shows "(as in PARENT)", one bound nowhere "(unbound)".
func (km *Keymap) MarkdownTable() string {
	var b strings.Builder
	for _, ctx := range Contexts {
		fmt.Fprintf(&b, "#### %s\n\n| action | keys | what it does |\n|---|---|---|\n", ctx)
		for _, in := range catalog[ctx] {
			ks := km.keys[ctx][in.action]
			shown := "(unbound)"
			for _, p := range Parents(ctx) {
				if len(km.keys[p][in.action]) > 0 {
					shown = "(as in " + string(p) + ")"
					break
				}
			}
			if len(ks) > 0 {
				q := make([]string, len(ks))
				for i, k := range ks {
					q[i] = "`" + mdEscape(k) + "`"
				}
				shown = strings.Join(q, " ")
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", in.action, shown, mdEscape(in.desc))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
