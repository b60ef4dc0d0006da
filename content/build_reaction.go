package content

// Reactions (§5.3): one reaction is one grapheme cluster in its own part.
// Several emojis are never concatenated into one text part, because joining
// code points can change what they mean or how they render.

import (
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// MaxReactionBytes bounds one reaction; the longest emoji ZWJ sequences are
// well under this.
const MaxReactionBytes = 64

// ValidateReaction checks that s is exactly one visible grapheme cluster.
func ValidateReaction(s string) error {
	switch {
	case s == "":
		return &BuildError{Field: "reaction", Rule: "empty"}
	case !utf8.ValidString(s):
		return &BuildError{Field: "reaction", Rule: "not valid UTF-8"}
	case len(s) > MaxReactionBytes:
		return &BuildError{Field: "reaction", Rule: "longer than 64 bytes"}
	}
	if n := uniseg.GraphemeClusterCount(s); n != 1 {
		return &BuildError{Field: "reaction", Rule: "must be one grapheme cluster (send several reactions as separate parts)"}
	}
	r, _ := utf8.DecodeRuneInString(s)
	if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
		return &BuildError{Field: "reaction", Rule: "must be visible, not whitespace or a control character"}
	}
	return nil
}

// ReactionPart is one reaction as a text/plain part with disposition reaction.
func ReactionPart(emoji string) (NestedPart, error) {
	if err := ValidateReaction(emoji); err != nil {
		return NestedPart{}, err
	}
	return SinglePart(Reaction, TypePlain, []byte(emoji)), nil
}

// Reaction reacts to target with one emoji. A zero target leaves inReplyTo
// null (not useful on its own, but vector 13 does it).
func (b *Builder) Reaction(target MessageID, emoji string, opts ...Option) (*Message, error) {
	part, err := ReactionPart(emoji)
	if err != nil {
		return nil, err
	}
	return b.Message(part, append(targetOpt(target), opts...)...)
}

// ChangeReaction replaces the reaction whose first version is oldReactionID
// with a different emoji on the same target.
func (b *Builder) ChangeReaction(oldReactionID, target MessageID, emoji string, opts ...Option) (*Message, error) {
	if oldReactionID.IsZero() {
		return nil, &BuildError{Field: "replaces", Rule: "changing a reaction needs the old reaction's ID"}
	}
	return b.Reaction(target, emoji, append([]Option{replacesOpt(oldReactionID)}, opts...)...)
}

// Unlike withdraws the reaction reactionID (on target, zero if unknown): a
// NullPart with disposition reaction that replaces it.
func (b *Builder) Unlike(reactionID, target MessageID, opts ...Option) (*Message, error) {
	if reactionID.IsZero() {
		return nil, &BuildError{Field: "replaces", Rule: "unlike needs the reaction's message ID"}
	}
	body := NestedPart{Disposition: Reaction, Cardinality: NullPart}
	return b.Message(body, append(append(targetOpt(target), replacesOpt(reactionID)), opts...)...)
}

// Reactions sends several reactions at once: a processAll MultiPart (itself
// marked reaction) with one reaction part per emoji, as in vector 13. A
// single emoji gives a plain Reaction.
func (b *Builder) Reactions(target MessageID, emojis []string, opts ...Option) (*Message, error) {
	if len(emojis) == 1 {
		return b.Reaction(target, emojis[0], opts...)
	}
	parts := make([]NestedPart, 0, len(emojis))
	for _, e := range emojis {
		p, err := ReactionPart(e)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	body, err := MultiBody(ProcessAll, parts...)
	if err != nil {
		return nil, err
	}
	body.Disposition = Reaction
	return b.Message(body, append(targetOpt(target), opts...)...)
}

func targetOpt(target MessageID) []Option {
	if target.IsZero() {
		return nil
	}
	return []Option{InReplyTo(target)}
}

func replacesOpt(id MessageID) Option {
	return func(_ *Builder, m *Message) error { m.Replaces = refID(id); return nil }
}
