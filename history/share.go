package history

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"

	"mimichat/content"
	"mimichat/session"
)

// Sharing history inside a room (draft-ietf-vcon-mimi-messages-00 §1: a
// user's new device, or a member an admin catches up): the history is a
// gzip'd vCon sent as an attachment part of an ordinary message, and the
// receiving client offers to merge it into its cache and timeline.

// OfferMediaType is the vCon media type of core-03 for gzip'd vCons.
const OfferMediaType = "application/vcon+gzip"

// MaxOfferBytes bounds the unzipped size of an offered vCon.
const MaxOfferBytes = 256 << 20

// ErrOfferTooLarge means the offer does not fit in one message; send a
// shorter period (Since) or upload it as an external attachment.
var ErrOfferTooLarge = errors.New("history: the shared history does not fit in one message")

// BuildOffer exports the history of room from src (opts.Since onwards,
// format vCon) and wraps it in a message of b: a short text for people and
// the gzip'd vCon as an attachment part whose media type names the member
// it is for (forUser; "" = everyone). maxContent is the relay's content
// limit (0 = no limit).
func BuildOffer(b *content.Builder, room Room, src Source, opts ExportOptions, forUser string, maxContent int) (*content.Message, *Report, error) {
	opts.Format = FormatVCon
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	rep, err := Export(zw, room, src, opts)
	if err != nil {
		return nil, rep, err
	}
	if err := zw.Close(); err != nil {
		return nil, rep, err
	}
	params := map[string]string{}
	if forUser != "" {
		params["for"] = forUser
	}
	text := fmt.Sprintf("Shared history of this room: %d messages", rep.Messages)
	if forUser != "" {
		text += " for " + forUser
	}
	body, err := content.MultiBody(content.ProcessAll, content.TextPart(text),
		content.SinglePart(content.Attachment, mime.FormatMediaType(OfferMediaType, params), buf.Bytes()))
	if err != nil {
		return nil, rep, err
	}
	m, err := b.Message(body)
	if err != nil {
		return nil, rep, err
	}
	if maxContent > 0 {
		raw, err := m.Encode()
		if err != nil {
			return nil, rep, err
		}
		if len(raw) > maxContent {
			return nil, rep, fmt.Errorf("%w: %d bytes, the limit is %d", ErrOfferTooLarge, len(raw), maxContent)
		}
	}
	return m, rep, nil
}

// Offer is a history offer found in a message.
type Offer struct {
	For  string // the member it is for; "" = anyone in the room
	VCon []byte // gzip'd vCon
}

// OfferOf reports whether m carries a history offer (a part of media type
// application/vcon+gzip or application/vcon at any depth).
func OfferOf(m *content.Message) (Offer, bool) {
	if m == nil {
		return Offer{}, false
	}
	var found Offer
	var ok bool
	var walk func(p *content.NestedPart)
	walk = func(p *content.NestedPart) {
		if ok {
			return
		}
		if p.Cardinality == content.Single {
			mt, params, err := mime.ParseMediaType(p.ContentType)
			if err == nil && (mt == OfferMediaType || mt == "application/vcon") {
				found, ok = Offer{For: params["for"], VCon: p.Content}, true
				if mt == "application/vcon" {
					found.VCon = gzipBytes(p.Content)
				}
			}
		}
		for i := range p.Parts {
			walk(&p.Parts[i])
		}
	}
	walk(&m.Body)
	return found, ok
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// ImportOffer merges an offered history into the cache of room (one
// transaction; duplicates skipped). The result's Added entries are what the
// UI feeds to its timeline (session.Feed); they sit below the cached run.
func ImportOffer(st *session.Store, o Offer, room string) (*Report, *ImportResult, error) {
	zr, err := gzip.NewReader(bytes.NewReader(o.VCon))
	if err != nil {
		return nil, nil, fmt.Errorf("history: offered vCon: %w", err)
	}
	var items []Item
	h, rep, err := ReadVCon(io.LimitReader(zr, MaxOfferBytes), func(it *Item) error {
		items = append(items, *it)
		return nil
	})
	if err != nil {
		return rep, nil, err
	}
	if room != "" && h.Room.ID != room {
		return rep, nil, fmt.Errorf("history: the offer is the history of %s, not of %s", h.Room.ID, room)
	}
	res, err := ImportIntoStore(st, h, items, room)
	if res != nil {
		rep.Note("entries already in the cache (skipped)", res.Duplicates)
	}
	return rep, res, err
}
