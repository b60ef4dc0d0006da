package render

import (
	"fmt"
	"strconv"
	"strings"

	"mimichat/content"
)

// Cards show external parts: an attachment (name, type, size, whether it is
// encrypted, and its hash, checked on download) or a call link (description and join URL).
// They never fetch anything; the UI downloads on request.

// AttachmentCard renders an attachment's card in width columns.
func AttachmentCard(ct string, ext *content.ExternalPart, width int, th *Theme) []string {
	name := content.SafeFilename(ext.Filename)
	if name == "" {
		name = "attachment"
	}
	mt, _ := content.MediaType(ct)
	meta := []string{SanitizeLine(mt)}
	if ext.Size > 0 {
		meta = append(meta, HumanSize(content.PlaintextSize(ext))) // the file's size, not the download's
	}
	if ext.EncAlg != 0 {
		meta = append(meta, "encrypted")
	}
	switch ext.HashAlg { // checked on download, so say which hash, not "checked"
	case 0:
	case content.HashAlgSHA256:
		meta = append(meta, "SHA-256")
	default:
		meta = append(meta, "hash "+strconv.Itoa(int(ext.HashAlg)))
	}
	lines := []string{
		"📎 " + SanitizeLine(name),
		strings.Join(meta, " · "),
	}
	if ext.Description != "" {
		lines = append(lines, SanitizeLine(ext.Description))
	}
	lines = append(lines, "o open · s save")
	return card(lines, width, th)
}

// CallCard renders a call link's card.
func CallCard(ext *content.ExternalPart, width int, th *Theme) []string {
	desc := ext.Description
	if desc == "" {
		desc = "Call"
	}
	lines := []string{"📞 " + SanitizeLine(desc), SanitizeLine(ext.URL), "o join"}
	return card(lines, width, th)
}

// card boxes lines; the first is bold, the last (the keys) muted.
func card(lines []string, width int, th *Theme) []string {
	s := &th.Styles
	inner := width - 4
	if inner < 4 {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = TruncateLine(l, width)
		}
		return out
	}
	w := 0
	for i := range lines {
		lines[i] = TruncateLine(lines[i], inner)
		if lw := Width(lines[i]); lw > w {
			w = lw
		}
	}
	border := s.Muted
	out := []string{border.Render("╭" + strings.Repeat("─", w+2) + "╮")}
	for i, l := range lines {
		pad := strings.Repeat(" ", w-Width(l))
		st := s.Text
		switch {
		case i == 0:
			st = s.Text.Bold(true)
		case i == len(lines)-1:
			st = s.Muted
		}
		out = append(out, border.Render("│ ")+st.Render(l)+pad+border.Render(" │"))
	}
	out = append(out, border.Render("╰"+strings.Repeat("─", w+2)+"╯"))
	return out
}

// HumanSize is n bytes as people read it: 113 B, 4.2 KiB, 1.5 MiB.
func HumanSize(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
