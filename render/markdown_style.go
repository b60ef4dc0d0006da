package render

import (
	"charm.land/glamour/v2/ansi"
	"charm.land/glamour/v2/styles"
)

// chatStyle is glamour's light or dark style made compact for a chat
// timeline: no document margin or blank lines around the message, headings
// as bold "#" lines without background or padding, code blocks without
// margin, and the theme's colours for text, links and code.
func chatStyle(th *Theme) ansi.StyleConfig {
	base := styles.LightStyleConfig
	if th.Name == "dark" {
		base = styles.DarkStyleConfig
	}
	p := th.Palette
	st := base // a shallow copy: only assign new values, never write through pointers
	str := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	zero := uint(0)
	yes := true

	st.Document = ansi.StyleBlock{StylePrimitive: ansi.StylePrimitive{Color: str(p.Text)}, Margin: &zero}
	st.Paragraph = ansi.StyleBlock{}
	st.Heading = ansi.StyleBlock{StylePrimitive: ansi.StylePrimitive{Color: str(p.Accent), Bold: &yes}}
	heading := func(prefix string) ansi.StyleBlock {
		return ansi.StyleBlock{StylePrimitive: ansi.StylePrimitive{Prefix: prefix}}
	}
	st.H1, st.H2, st.H3 = heading("# "), heading("## "), heading("### ")
	st.H4, st.H5, st.H6 = heading("#### "), heading("##### "), heading("###### ")
	st.BlockQuote = ansi.StyleBlock{
		StylePrimitive: ansi.StylePrimitive{Color: str(p.Muted)},
		Indent:         uintPtr(1), IndentToken: str("│ "),
	}
	st.Link = ansi.StylePrimitive{Color: str(p.Link), Underline: &yes}
	st.LinkText = ansi.StylePrimitive{Color: str(p.Link), Bold: &yes}
	st.Code = ansi.StyleBlock{StylePrimitive: ansi.StylePrimitive{
		Color: str(p.CodeFg), BackgroundColor: str(p.CodeBg),
	}}
	cb := base.CodeBlock
	cb.StyleBlock = ansi.StyleBlock{StylePrimitive: ansi.StylePrimitive{Color: str(p.Muted)}, Margin: &zero}
	st.CodeBlock = cb
	st.HorizontalRule = ansi.StylePrimitive{Color: str(p.Border), Format: "────────"}
	st.HTMLBlock = ansi.StyleBlock{StylePrimitive: ansi.StylePrimitive{Color: str(p.Muted)}}
	st.HTMLSpan = ansi.StyleBlock{StylePrimitive: ansi.StylePrimitive{Color: str(p.Muted)}}
	st.ImageText = ansi.StylePrimitive{Color: str(p.Muted), Format: "[image: {{.text}}]"}
	st.Image = ansi.StylePrimitive{Color: str(p.Link), Underline: &yes}
	return st
}

func uintPtr(u uint) *uint { return &u }
