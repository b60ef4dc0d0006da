package render

import (
	"strings"
)

// Widths are Width's (width.go): lines are cut between grapheme clusters,
// and on sanitized text every cluster measures the same by every rule, so
// a wrapped line is never wider than the limit on any terminal.

// Wrap word-wraps sanitized plain text (no escape sequences) to width
// columns: lines break at spaces, words longer than the width break between
// grapheme clusters, and a cluster wider than the whole width (a wide
// character in a 1-column view) is shown as "…". Every returned line is at
// most width columns; width < 1 counts as 1.
func Wrap(text string, width int) []string {
	text = DisplayClusters(text)
	var out []string
	wrapInto(text, width, func(line string, _ int) bool {
		out = append(out, line)
		return true
	})
	return out
}

// Fit sanitizes multi-line text and wraps it to width, showing at most
// maxLines lines: when there is more, the last line becomes
// "… (N more lines)", N counting the source lines not shown in full. It
// stops reading once the view is full, so a huge message costs no more
// than the part on screen. maxLines < 1 means no limit.
func Fit(text string, width, maxLines int) []string {
	text = SanitizeText(text)
	if maxLines < 1 {
		return Wrap(text, width)
	}
	var (
		out  []string
		ends []int
	)
	wrapInto(text, width, func(line string, end int) bool {
		out = append(out, line)
		ends = append(ends, end)
		return len(out) <= maxLines
	})
	if len(out) <= maxLines {
		return out
	}
	out = out[:maxLines-1]
	rest := 0
	if maxLines > 1 {
		rest = ends[maxLines-2]
	}
	rem := strings.TrimPrefix(text[rest:], "\n")
	n := strings.Count(rem, "\n") + 1
	return append(out, TruncateLine(moreLines(n), width))
}

// TruncateLine cuts sanitized single-line text to width columns, ending in
// "…" when something was cut.
func TruncateLine(s string, width int) string {
	if width < 1 {
		width = 1
	}
	s = DisplayClusters(s)
	if Width(s) <= width {
		return s
	}
	var b strings.Builder
	w := 0
	for s != "" {
		cl, cw := firstCluster(s)
		if w+cw > width-1 {
			break
		}
		b.WriteString(cl)
		w += cw
		s = s[len(cl):]
	}
	b.WriteString("…")
	return b.String()
}

// wrapInto wraps text and hands each line to emit, with the offset in
// text just past the line's last character, until emit returns false.
func wrapInto(text string, width int, emit func(line string, end int) bool) {
	if width < 1 {
		width = 1
	}
	for pos := 0; ; {
		nl := strings.IndexByte(text[pos:], '\n')
		line := text[pos:]
		if nl >= 0 {
			line = text[pos : pos+nl]
		}
		if !wrapLine(line, pos, width, emit) || nl < 0 {
			return
		}
		pos += nl + 1
	}
}

// wrapLine wraps one source line (no "\n") that starts at offset base of
// the text, and reports whether emit wants more lines.
func wrapLine(line string, base, width int, emit func(string, int) bool) bool {
	var (
		cur    strings.Builder
		curW   int
		spaces string
		spW    int
	)
	flush := func(end int) bool {
		s := cur.String()
		cur.Reset()
		curW, spaces, spW = 0, "", 0
		return emit(s, base+end)
	}
	if line == "" {
		return emit("", base)
	}
	for i := 0; i < len(line); {
		// One token: a run of spaces or a run of non-spaces.
		j := i
		isSpace := line[i] == ' '
		for j < len(line) && (line[j] == ' ') == isSpace {
			j++
		}
		tok := line[i:j]
		switch {
		case isSpace && i == 0:
			// Leading indentation of the source line is kept.
			tok = clipSpaces(tok, width)
			cur.WriteString(tok)
			curW = len(tok)
			i = j
			continue
		case isSpace:
			spaces, spW = tok, len(tok)
			i = j
			continue
		}
		tw := Width(tok)
		switch {
		case curW+spW+tw <= width:
			cur.WriteString(spaces)
			cur.WriteString(tok)
			curW += spW + tw
			spaces, spW = "", 0
			i = j
			continue
		case tw <= width && curW > 0:
			if !flush(i) {
				return false
			}
			continue // retry the word on the fresh line
		}
		// The word does not fit on any line: fill this one cluster by cluster.
		if curW > 0 && curW+spW < width {
			cur.WriteString(spaces)
			curW += spW
		}
		spaces, spW = "", 0
		for k := i; k < j; {
			cl, cw := firstCluster(line[k:j])
			n := len(cl)
			if cw > width {
				cl, cw = "…", 1
			}
			if curW+cw > width && !flush(k) {
				return false
			}
			cur.WriteString(cl)
			curW += cw
			k += n
		}
		i = j
	}
	return flush(len(line))
}

// clipSpaces limits leading indentation to width-1 columns, so at least
// one character of text still fits after it.
func clipSpaces(sp string, width int) string {
	if len(sp) >= width {
		return sp[:width-1]
	}
	return sp
}
