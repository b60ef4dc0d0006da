package content

// Body structure (§4): implied part indexes, cid: references between parts,
// and the processing order that turns a nested body into the list of parts a
// receiver actually handles.

import (
	"mime"
	"regexp"
	"strconv"
	"strings"
)

// PartInfo is one part of a body with its implied position.
type PartInfo struct {
	Index  int // 0-based, depth-first, root = 0
	Depth  int // root = 0
	Parent int // index of the enclosing MultiPart; -1 for the root
	Part   *NestedPart
}

// Walk flattens body depth-first: the result's i-th entry has Index i.
func Walk(body *NestedPart) []PartInfo {
	if body == nil {
		return nil
	}
	var out []PartInfo
	var visit func(p *NestedPart, depth, parent int)
	visit = func(p *NestedPart, depth, parent int) {
		idx := len(out)
		out = append(out, PartInfo{Index: idx, Depth: depth, Parent: parent, Part: p})
		if p.Cardinality == Multi {
			for i := range p.Parts {
				visit(&p.Parts[i], depth+1, idx)
			}
		}
	}
	visit(body, 0, -1)
	return out
}

// PartAt returns the part with the given implied index.
func PartAt(body *NestedPart, index int) (*NestedPart, bool) {
	parts := Walk(body)
	if index < 0 || index >= len(parts) {
		return nil, false
	}
	return parts[index].Part, true
}

// cidRef matches the MIMI content-ID form cid:<partIndex>@local.invalid
// (RFC 2392 is case-insensitive in the scheme).
var cidRef = regexp.MustCompile(`(?i)cid:([0-9]{1,9})@local\.invalid`)

// CIDRefs lists the part indexes referenced from content by cid: URIs, in
// order, without duplicates.
func CIDRefs(content []byte) []int {
	var out []int
	seen := map[int]bool{}
	for _, m := range cidRef.FindAllSubmatch(content, -1) {
		n, err := strconv.Atoi(string(m[1]))
		if err == nil && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// ParseCID returns the part index of one "cid:<n>@local.invalid" URI.
func ParseCID(uri string) (int, bool) {
	m := cidRef.FindStringSubmatch(strings.TrimSpace(uri))
	if m == nil || len(m[0]) != len(strings.TrimSpace(uri)) {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// MediaType returns the lowercase type/subtype of a contentType and its
// parameters (lowercase names). Malformed parameters are dropped rather
// than failing, so "text/markdown" with any or no parameters is accepted.
func MediaType(contentType string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		params = nil
	}
	return mt, params
}

// IsMarkdownType accepts text/markdown with any or no parameters: GFM-MIMI,
// CommonMark, and phnx-im's bare "text/markdown" all render the same here.
func IsMarkdownType(ct string) bool { mt, _ := MediaType(ct); return mt == "text/markdown" }

// IsPlainType accepts text/plain (charset other than utf-8 is the
// caller's concern).
func IsPlainType(ct string) bool { mt, _ := MediaType(ct); return mt == "text/plain" }

// IsHTMLType accepts text/html.
func IsHTMLType(ct string) bool { mt, _ := MediaType(ct); return mt == "text/html" }

// IsTextType reports whether a receiver can show ct as text: plain,
// Markdown or HTML.
func IsTextType(ct string) bool { return IsPlainType(ct) || IsMarkdownType(ct) || IsHTMLType(ct) }
