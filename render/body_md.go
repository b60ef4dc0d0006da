package render

import "strings"

// markdownLines renders GFM-MIMI Markdown to width through the shared
// glamour chat renderer (MarkdownToANSI sanitizes and bounds it).
func markdownLines(md string, width int, th *Theme) []string {
	out := MarkdownToANSI(md, width, th)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}
