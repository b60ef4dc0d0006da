package render

import "strings"

// markdownLines renders GFM-MIMI Markdown to width through the shared
// glamour chat renderer (MarkdownToANSI sanitizes and bounds it), with
// mentions named for people.
func markdownLines(md string, width int, th *Theme, people *People) []string {
	out := MarkdownToANSIFor(md, width, th, people)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}
