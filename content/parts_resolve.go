package content

// The §4 processing order: resolve chooseOne from the root by the user's
// languages and supported types, handle the remaining parts in order, and
// skip parts that an earlier handled part already embeds by cid: reference.

import "strings"

// Prefs are the receiving user's preferences.
type Prefs struct {
	// Languages in order of preference (RFC 5646 tags), may be empty.
	Languages []string
	// Supported reports whether the client can show a part of this
	// contentType; nil means every type is supported. External parts with
	// disposition attachment or session are always supported: they are
	// downloaded or joined, not rendered.
	Supported func(contentType string) bool
}

// ResolvedPart is one part the receiver handles.
type ResolvedPart struct {
	Index       int         // implied part index
	Part        *NestedPart // a SinglePart or ExternalPart
	Disposition Disposition // effective: inherited if unspecified, unknown -> render
	Language    string      // own language, or the nearest ancestor's
	Supported   bool        // false: show a placeholder, not the content
	Refs        []int       // parts this one embeds via cid: (skipped in the list)
}

// Resolve returns the parts of body to handle, in order. NullParts give
// nothing. A chooseOne yields the child best matching prefs: fully
// supported children first, then partly supported ones, then the rest;
// within a tier by language rank, then sender order. A
// singleUnit with any unsupported part yields only its unsupported parts,
// so nothing of it is shown but the UI can say why. Parts referenced by an
// earlier handled part are skipped.
func Resolve(body *NestedPart, prefs Prefs) []ResolvedPart {
	if body == nil {
		return nil
	}
	parts := Walk(body)
	r := resolver{prefs: prefs, index: make(map[*NestedPart]int, len(parts))}
	for _, pi := range parts {
		r.index[pi.Part] = pi.Index
	}
	chosen := r.resolve(body, Render, "")

	var out []ResolvedPart
	referenced := map[int]bool{}
	for _, rp := range chosen {
		if referenced[rp.Index] {
			continue
		}
		if rp.Part.Cardinality == Single && isContainerType(rp.Part.ContentType) {
			for _, ref := range CIDRefs(rp.Part.Content) {
				if ref >= len(parts) || ref == rp.Index {
					continue
				}
				if c := parts[ref].Part.Cardinality; c != Single && c != External {
					continue // §4: cid: may only name a Single or External part
				}
				rp.Refs = append(rp.Refs, ref)
				referenced[ref] = true
			}
		}
		out = append(out, rp)
	}
	return out
}

// isContainerType says whether a part can refer to others with cid: URIs:
// the text formats (HTML, Markdown, vCard, iCalendar, ...), never media.
func isContainerType(ct string) bool {
	mt, _ := MediaType(ct)
	return strings.HasPrefix(mt, "text/")
}

type resolver struct {
	prefs Prefs
	index map[*NestedPart]int
}

func (r *resolver) resolve(p *NestedPart, dispo Disposition, lang string) []ResolvedPart {
	if p.Disposition != Unspecified {
		dispo = p.Disposition.Effective()
	}
	if p.Language != "" {
		lang = p.Language
	}
	switch p.Cardinality {
	case NullPart:
		return nil
	case Single, External:
		return []ResolvedPart{{Index: r.index[p], Part: p, Disposition: dispo, Language: lang,
			Supported: r.supported(p, dispo)}}
	}
	kids := make([][]ResolvedPart, len(p.Parts))
	for i := range p.Parts {
		kids[i] = r.resolve(&p.Parts[i], dispo, lang)
	}
	switch p.Semantics {
	case ChooseOne:
		return r.choose(p.Parts, kids)
	case SingleUnit:
		var all, missing []ResolvedPart
		for _, k := range kids {
			all = append(all, k...)
			missing = append(missing, unsupported(k)...)
		}
		if len(missing) > 0 {
			return missing
		}
		return all
	default: // processAll; unknown semantics are rejected by the decoder
		var all []ResolvedPart
		for _, k := range kids {
			all = append(all, k...)
		}
		return all
	}
}

func (r *resolver) choose(parts []NestedPart, kids [][]ResolvedPart) []ResolvedPart {
	best := -1
	var bestTier, bestRank int
	for i, k := range kids {
		tier := supportTier(k)
		if tier == tierEmpty {
			continue
		}
		rank := languageRank(parts[i].Language, r.prefs.Languages)
		if best < 0 || tier < bestTier || tier == bestTier && rank < bestRank {
			best, bestTier, bestRank = i, tier, rank
		}
	}
	if best < 0 {
		return nil
	}
	return kids[best]
}

// Support tiers of a chooseOne candidate, best first.
const (
	tierFull    = iota // every part supported
	tierPartial        // some parts supported
	tierNone           // nothing supported: a placeholder at best
	tierEmpty          // yields no parts at all
)

func supportTier(parts []ResolvedPart) int {
	missing := len(unsupported(parts))
	switch {
	case len(parts) == 0:
		return tierEmpty
	case missing == 0:
		return tierFull
	case missing < len(parts):
		return tierPartial
	}
	return tierNone
}

func (r *resolver) supported(p *NestedPart, dispo Disposition) bool {
	if p.Cardinality == External && (dispo == Attachment || dispo == Session) {
		return true
	}
	return r.prefs.Supported == nil || r.prefs.Supported(p.ContentType)
}

func unsupported(parts []ResolvedPart) []ResolvedPart {
	var out []ResolvedPart
	for _, p := range parts {
		if !p.Supported {
			out = append(out, p)
		}
	}
	return out
}

// languageRank orders a part's language list against the user's: the
// position of the first preferred language it matches; untagged parts come
// after every match, parts in other languages last.
func languageRank(partLangs string, prefs []string) int {
	if strings.TrimSpace(partLangs) == "" {
		return len(prefs)
	}
	for i, want := range prefs {
		for _, have := range strings.Split(partLangs, ",") {
			if languageMatches(strings.TrimSpace(have), want) {
				return i
			}
		}
	}
	return len(prefs) + 1
}

// languageMatches compares two RFC 5646 tags case-insensitively; a tag also
// matches its own prefix ("en" and "en-GB").
func languageMatches(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == "" || b == "" {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == b || strings.HasPrefix(b, a+"-")
}
