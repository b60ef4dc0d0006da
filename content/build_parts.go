package content

// Part constructors: the NestedPart shapes the builders combine, exported so
// callers can compose replies, alternatives and rich bodies themselves.

import (
	"fmt"
	"strconv"
)

// MarkdownPart is a GFM-MIMI render part; raw HTML is neutralised (NoHTML).
func MarkdownPart(text string) NestedPart {
	return SinglePart(Render, TypeMarkdown, []byte(NoHTML(text)))
}

// TextPart is a plain-text render part.
func TextPart(text string) NestedPart { return SinglePart(Render, TypePlain, []byte(text)) }

// HTMLPart is an HTML render part.
func HTMLPart(html string) NestedPart { return SinglePart(Render, TypeHTML, []byte(html)) }

// SinglePart is an inline part of any media type.
func SinglePart(d Disposition, contentType string, content []byte) NestedPart {
	return NestedPart{Disposition: d, Cardinality: Single, ContentType: contentType,
		Content: append([]byte{}, content...)}
}

// ExternalBody is an external part; ext is copied.
func ExternalBody(d Disposition, contentType string, ext ExternalPart) NestedPart {
	e := ext
	e.Key = append([]byte{}, ext.Key...)
	e.Nonce = append([]byte{}, ext.Nonce...)
	e.AAD = append([]byte{}, ext.AAD...)
	e.ContentHash = append([]byte{}, ext.ContentHash...)
	return NestedPart{Disposition: d, Cardinality: External, ContentType: contentType, External: &e}
}

// LanguagePart returns p tagged with lang (RFC 5646, or a comma list).
func LanguagePart(lang string, p NestedPart) NestedPart {
	p.Language = lang
	return p
}

// MultiBody groups parts (at least 2) with the given semantics and
// disposition render.
func MultiBody(sem PartSemantics, parts ...NestedPart) (NestedPart, error) {
	if len(parts) < 2 {
		return NestedPart{}, &BuildError{Field: "parts", Rule: fmt.Sprintf("got %d", len(parts)), Err: errNoParts}
	}
	if sem > ProcessAll {
		return NestedPart{}, &BuildError{Field: "partSemantics", Rule: fmt.Sprintf("unknown value %d", sem)}
	}
	return NestedPart{Disposition: Render, Cardinality: Multi, Semantics: sem,
		Parts: append([]NestedPart(nil), parts...)}, nil
}

// CIDURI is the content-ID URI that points at the part with the given
// implied index from inside an HTML or Markdown part (RFC 2392, §4).
func CIDURI(partIndex int) string { return "cid:" + strconv.Itoa(partIndex) + "@local.invalid" }

// RichBody builds a body whose first part (HTML or Markdown, made by main
// from the cid: URIs of the inline parts) refers to inline parts such as
// images. With ProcessAll the inline parts are optional extras; with
// SingleUnit a receiver shows all or nothing. The root is index 0, main is
// index 1 and inline[k] gets index 2+k (main must be a SinglePart).
func RichBody(sem PartSemantics, main func(cids []string) NestedPart, inline ...NestedPart) (NestedPart, error) {
	if sem == ChooseOne {
		return NestedPart{}, &BuildError{Field: "partSemantics", Rule: "rich body is processAll or singleUnit"}
	}
	cids := make([]string, len(inline))
	for k := range inline {
		cids[k] = CIDURI(2 + k)
	}
	first := main(cids)
	if first.Cardinality != Single {
		return NestedPart{}, &BuildError{Field: "parts[0]", Rule: "rich body text must be a SinglePart"}
	}
	return MultiBody(sem, append([]NestedPart{first}, inline...)...)
}
