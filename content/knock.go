package content

// Knock: a ping to get someone's attention. draft-ietf-mimi-content-08 has
// no knock (the CPIM-era "alert" disposition is not in its registry, and an
// unknown disposition is treated as render), so mimichat marks a normal
// text message with the private-use extension key -24 = true. Clients that
// do not know the key still show the human-readable line. See docs/knock.md.

import "strings"

// KeyKnock is the private-use extension key that marks a knock.
var KeyKnock = IntKey(-24)

// knockValueTrue is the CBOR simple value true, the only value that marks a knock.
const knockValueTrue = 0xf5

// KnockText is the line a knock shows, also to clients without knock support.
func KnockText(name string) string {
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, name))
	if name == "" {
		name = "Someone"
	}
	return "🔔 Knock knock! " + name + " is trying to get your attention."
}

// Knock builds a knock from the user shown as name: a text/plain render
// part with KnockText and extension -24 = true. To knock one member in a
// group, pass InReplyTo a message of theirs or mention them in name.
func (b *Builder) Knock(name string, opts ...Option) (*Message, error) {
	mark := func(_ *Builder, m *Message) error {
		m.Extensions.Set(KeyKnock, []byte{knockValueTrue})
		return nil
	}
	return b.Message(TextPart(KnockText(name)), append([]Option{mark}, opts...)...)
}

// IsKnock reports whether m carries the knock extension with value true.
func IsKnock(m *Message) bool {
	if m == nil {
		return false
	}
	v, ok := m.Extensions.Get(KeyKnock)
	return ok && len(v) == 1 && v[0] == knockValueTrue
}
