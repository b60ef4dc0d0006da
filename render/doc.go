// Package render turns content from the network into terminal text that is
// safe and fits: it neutralizes control and escape sequences, wraps and
// truncates to a width, renders Markdown through glamour in a compact chat
// style, and holds the colour theme and emoji table. Nothing from the
// network may reach the terminal without passing through SanitizeLine or
// SanitizeText (MarkdownToANSI and Fit call them).
package render
