// Command emojigen writes render/emoji_table.go, the :shortcode: table of
// the composer's emoji completion, from the GitHub table that goldmark-emoji
// (already a glamour dependency) ships.
//
// The library can only look names up, so its list is read here through
// reflection, once, at generate time; the client never depends on the
// library's internals. Run it with: go generate ./render
package main
