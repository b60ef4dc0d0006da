package render

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Styles are the lipgloss styles of every part of the client, built from
// one palette. Styles that render network text must be given sanitized
// text: a style adds colour, it does not make content safe.
type Styles struct {
	Text      lipgloss.Style // message body outside Markdown
	Muted     lipgloss.Style // secondary text
	Timestamp lipgloss.Style
	Edited    lipgloss.Style // "(edited)", "(deleted)" markers
	Accent    lipgloss.Style
	Link      lipgloss.Style
	Error     lipgloss.Style
	Warning   lipgloss.Style
	Success   lipgloss.Style

	Selected lipgloss.Style // the selected message or list row
	Mention  lipgloss.Style // a mention of the user
	Code     lipgloss.Style // inline code outside Markdown
	Quote    lipgloss.Style // the replied-to message shown above a reply

	SenderName lipgloss.Style   // base of sender names (bold)
	Senders    []lipgloss.Style // SenderName in each sender colour

	Reaction     lipgloss.Style // a reaction chip
	ReactionMine lipgloss.Style // a reaction the user made

	RoomActive lipgloss.Style
	RoomUnread lipgloss.Style
	RoomPlain  lipgloss.Style
	Badge      lipgloss.Style // unread/mention counts

	Pane        lipgloss.Style // bordered pane
	PaneFocused lipgloss.Style
	StatusBar   lipgloss.Style
	HelpKey     lipgloss.Style
	HelpDesc    lipgloss.Style
	HelpSep     lipgloss.Style

	PickerItem     lipgloss.Style
	PickerSelected lipgloss.Style
	PickerMatch    lipgloss.Style // the matched part of a completion
	Placeholder    lipgloss.Style // empty composer hint
}

// col returns the colour for a palette value; "" is the terminal default.
func col(v string) color.Color {
	if v == "" {
		return lipgloss.NoColor{}
	}
	return lipgloss.Color(v)
}

func newStyles(p Palette) Styles {
	fg := func(v string) lipgloss.Style { return lipgloss.NewStyle().Foreground(col(v)) }
	s := Styles{
		Text:      fg(p.Text),
		Muted:     fg(p.Muted),
		Timestamp: fg(p.Muted),
		Edited:    fg(p.Muted).Italic(true),
		Accent:    fg(p.Accent),
		Link:      fg(p.Link).Underline(true),
		Error:     fg(p.Error).Bold(true),
		Warning:   fg(p.Warning),
		Success:   fg(p.Success),

		Selected: lipgloss.NewStyle().Foreground(col(p.SelectionFg)).Background(col(p.SelectionBg)),
		Mention:  lipgloss.NewStyle().Foreground(col(p.MentionFg)).Background(col(p.MentionBg)).Bold(true),
		Code:     lipgloss.NewStyle().Foreground(col(p.CodeFg)).Background(col(p.CodeBg)),
		Quote: fg(p.Muted).BorderStyle(lipgloss.NormalBorder()).BorderLeft(true).
			BorderForeground(col(p.Border)).PaddingLeft(1),

		SenderName: lipgloss.NewStyle().Bold(true),

		Reaction:     fg(p.Text).Background(col(p.CodeBg)),
		ReactionMine: lipgloss.NewStyle().Foreground(col(p.SelectionFg)).Background(col(p.SelectionBg)).Bold(true),

		RoomActive: lipgloss.NewStyle().Foreground(col(p.SelectionFg)).Background(col(p.SelectionBg)).Bold(true),
		RoomUnread: fg(p.Text).Bold(true),
		RoomPlain:  fg(p.Muted),
		Badge:      fg(p.Accent).Bold(true),

		Pane:        lipgloss.NewStyle().BorderStyle(lipgloss.RoundedBorder()).BorderForeground(col(p.Border)),
		PaneFocused: lipgloss.NewStyle().BorderStyle(lipgloss.RoundedBorder()).BorderForeground(col(p.Accent)),
		StatusBar:   lipgloss.NewStyle().Foreground(col(p.StatusFg)).Background(col(p.StatusBg)),
		HelpKey:     fg(p.Accent).Bold(true),
		HelpDesc:    fg(p.Muted),
		HelpSep:     fg(p.Border),

		PickerItem:     fg(p.Text),
		PickerSelected: lipgloss.NewStyle().Foreground(col(p.SelectionFg)).Background(col(p.SelectionBg)),
		PickerMatch:    fg(p.Accent).Bold(true),
		Placeholder:    fg(p.Muted).Italic(true),
	}
	for _, c := range p.Senders {
		s.Senders = append(s.Senders, s.SenderName.Foreground(col(c)))
	}
	return s
}
