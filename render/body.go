package render

import (
	"mimichat/content"
)

// MaxBodyLines bounds one message on screen; a longer one ends in
// "… (N more lines)" and is read in full with $PAGER-like views later.
const MaxBodyLines = 60

// maxMarkdownBytes bounds what is handed to the Markdown renderer, so a huge
// message costs no more than what can be shown.
const maxMarkdownBytes = 16 << 10

// BodyLines renders a message body: the parts Resolve picks for the user's
// languages, each by disposition and type.
func BodyLines(body *content.NestedPart, langs []string, width int, th *Theme) []string {
	return BodyLinesFor(body, langs, width, th, nil)
}

// BodyLinesFor is BodyLines with mentions named for people.
func BodyLinesFor(body *content.NestedPart, langs []string, width int, th *Theme, people *People) []string {
	parts := content.Resolve(body, content.Prefs{Languages: langs, Supported: supported})
	var out []string
	for _, rp := range parts {
		p := rp.Part
		if !rp.Supported {
			out = append(out, th.Styles.Muted.Italic(true).Render(TruncateLine("[cannot show "+SanitizeLine(p.ContentType)+"]", width)))
			continue
		}
		switch {
		case p.External != nil && rp.Disposition == content.Session:
			out = append(out, CallCard(p.External, width, th)...)
		case p.External != nil:
			out = append(out, AttachmentCard(p.ContentType, p.External, width, th)...)
		case rp.Disposition == content.Reaction:
			// a reaction row is folded into its target; never shown alone
		default:
			out = append(out, textLines(p, width, th, people)...)
		}
		if len(out) >= MaxBodyLines {
			break
		}
	}
	if len(out) > MaxBodyLines {
		out = append(out[:MaxBodyLines-1], th.Styles.Muted.Render(TruncateLine("… (message cut; c copies it whole)", width)))
	}
	return out
}

func supported(ct string) bool {
	return content.IsTextType(ct)
}

func textLines(p *content.NestedPart, width int, th *Theme, people *People) []string {
	ct := p.ContentType
	switch {
	case content.IsMarkdownType(ct):
		src := p.Content
		if len(src) > maxMarkdownBytes {
			src = src[:maxMarkdownBytes]
		}
		return markdownLines(string(src), width, th, people)
	case content.IsHTMLType(ct):
		return paintHighlightLines(Fit(content.HTMLText(p.Content), width, MaxBodyLines), th, people.highlighter())
	}
	return paintHighlightLines(Fit(string(p.Content), width, MaxBodyLines), th, people.highlighter())
}
