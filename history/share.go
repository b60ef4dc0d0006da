package history

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mimichat/content"
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

// Media type parameters of an offer part: who it is for, and what it holds
// (so a client can describe the offer before fetching it).
const (
	paramFor      = "for"
	paramSince    = "since"    // RFC 3339; absent = from the start
	paramMessages = "messages" // number of messages in the vCon
)

// BuildOffer exports the history of room from src (opts.Since onwards,
// format vCon) and wraps it in a message of b: a short text for people and
// the gzip'd vCon as an inline attachment part whose media type names the
// member it is for (forUser; "" = everyone). maxContent is the relay's
// content limit (0 = no limit); a larger offer is ErrOfferTooLarge.
func BuildOffer(b *content.Builder, room Room, src Source, opts ExportOptions, forUser string, maxContent int) (*content.Message, *Report, error) {
	return ShareOffer(context.Background(), b, room, src, opts, forUser, maxContent, nil)
}

// Upload stores an encrypted attachment and returns its URL (the signature
// of the session's Upload).
type Upload func(ctx context.Context, filename string, ciphertext []byte) (string, error)

// ShareOffer is BuildOffer that, when the offer does not fit in maxContent
// and upload is not nil, seals the gzip'd vCon (AES-GCM, content.SealAttachment)
// and uploads it, sending an external part instead.
func ShareOffer(ctx context.Context, b *content.Builder, room Room, src Source, opts ExportOptions, forUser string, maxContent int, upload Upload) (*content.Message, *Report, error) {
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
	params := map[string]string{paramMessages: strconv.Itoa(rep.Messages)}
	if forUser != "" {
		params[paramFor] = forUser
	}
	if opts.Since > 0 {
		params[paramSince] = time.UnixMilli(opts.Since).UTC().Format(time.RFC3339)
	}
	mediaType := mime.FormatMediaType(OfferMediaType, params)
	text := offerText(rep.Messages, forUser)
	inline := func() (*content.Message, error) {
		body, err := content.MultiBody(content.ProcessAll, content.TextPart(text),
			content.SinglePart(content.Attachment, mediaType, buf.Bytes()))
		if err != nil {
			return nil, err
		}
		return b.Message(body)
	}
	m, err := inline()
	if err != nil {
		return nil, rep, err
	}
	if maxContent <= 0 {
		return m, rep, nil
	}
	raw, err := m.Encode()
	if err != nil {
		return nil, rep, err
	}
	if len(raw) <= maxContent {
		return m, rep, nil
	}
	if upload == nil {
		return nil, rep, fmt.Errorf("%w: %d bytes, the limit is %d", ErrOfferTooLarge, len(raw), maxContent)
	}
	part, sealed, err := content.SealAttachment(nil, buf.Bytes(), content.AttachmentSpec{
		Filename: "history.vcon.gz", Description: text})
	if err != nil {
		return nil, rep, err
	}
	if part.URL, err = upload(ctx, part.Filename, sealed); err != nil {
		return nil, rep, fmt.Errorf("history: upload the offer: %w", err)
	}
	body, err := content.MultiBody(content.ProcessAll, content.TextPart(text),
		content.ExternalBody(content.Attachment, mediaType, part))
	if err != nil {
		return nil, rep, err
	}
	m, err = b.Message(body)
	return m, rep, err
}

func offerText(messages int, forUser string) string {
	text := fmt.Sprintf("Shared history of this room: %d messages", messages)
	if forUser != "" {
		text += " for " + forUser
	}
	return text
}

// Offer is a history offer found in a message.
type Offer struct {
	For      string    // the member it is for; "" = anyone in the room
	Since    time.Time // zero: from the start (or not said)
	Messages int       // -1: not said
	VCon     []byte    // gzip'd vCon; nil until FetchOffer when External
	External *content.ExternalPart
}

// OfferOf reports whether m carries a history offer (a part of media type
// application/vcon+gzip or application/vcon at any depth).
func OfferOf(m *content.Message) (Offer, bool) {
	if m == nil {
		return Offer{}, false
	}
	return OfferOfBody(&m.Body)
}

// OfferOfBody is OfferOf on a message body. It is cheap on ordinary
// messages (a prefix test per part), so renderers may call it per row.
func OfferOfBody(body *content.NestedPart) (Offer, bool) {
	var found Offer
	var ok bool
	var walk func(p *content.NestedPart)
	walk = func(p *content.NestedPart) {
		if ok {
			return
		}
		if (p.Cardinality == content.Single || p.Cardinality == content.External && p.External != nil) &&
			strings.HasPrefix(p.ContentType, "application/vcon") {
			mt, params, err := mime.ParseMediaType(p.ContentType)
			if err == nil && (mt == OfferMediaType || mt == "application/vcon") {
				found, ok = Offer{For: params[paramFor], Messages: -1}, true
				if n, err := strconv.Atoi(params[paramMessages]); err == nil && n >= 0 {
					found.Messages = n
				}
				if t, err := time.Parse(time.RFC3339, params[paramSince]); err == nil {
					found.Since = t
				}
				switch {
				case p.Cardinality == content.External:
					ext := *p.External
					found.External = &ext
				case mt == "application/vcon":
					found.VCon = gzipBytes(p.Content)
				default:
					found.VCon = p.Content
				}
			}
		}
		for i := range p.Parts {
			walk(&p.Parts[i])
		}
	}
	walk(body)
	return found, ok
}

// FetchOffer downloads an external offer (content.DownloadURL: http(s) and
// not expired at now), checks its size and hash and decrypts it into o.VCon.
// An inline offer needs no fetch.
func FetchOffer(ctx context.Context, client *http.Client, o *Offer, now time.Time) error {
	if o.VCon != nil || o.External == nil {
		return nil
	}
	plain, err := content.FetchAttachment(ctx, client, o.External, now, MaxOfferBytes)
	if err != nil {
		return fmt.Errorf("history: offer: %w", err)
	}
	o.VCon = plain
	return nil
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// ReadOffer reads a fetched offer's vCon (gunzipped, at most MaxOfferBytes)
// and hands each item to sink, as ReadVCon does. room, when not "", is the
// room the offer must be the history of (an offer is a message in a room,
// but its vCon names its own room).
func ReadOffer(o Offer, room string, sink func(*Item) error) (*History, *Report, error) {
	if o.VCon == nil {
		return nil, nil, errors.New("history: the offer is not fetched yet (FetchOffer)")
	}
	zr, err := gzip.NewReader(bytes.NewReader(o.VCon))
	if err != nil {
		return nil, nil, fmt.Errorf("history: offered vCon: %w", err)
	}
	h, rep, err := ReadVCon(io.LimitReader(zr, MaxOfferBytes), sink)
	if err != nil {
		return h, rep, err
	}
	if room != "" && h.Room.ID != room {
		return h, rep, fmt.Errorf("history: the offer is the history of %s, not of %s", h.Room.ID, room)
	}
	return h, rep, nil
}
