// Package ui is the terminal client: one Bubble Tea v2 root model that owns
// every piece of screen state, with plain-struct children (room list,
// timeline, composer, pickers) and one render.Theme passed down.
//
// It exists to keep the network away from the screen: every session call
// that may wait runs in a tea.Cmd goroutine and comes back as a tea.Msg, and
// the session's events arrive the same way, so a keypress is never stuck
// behind a socket. Only the rows that fit on screen are rendered, from a
// cache keyed by message version, width, theme and decorations.
package ui
