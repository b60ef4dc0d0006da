package history

// vCon import of attachments: cached copies of external parts, tied to
// their message by dialog_object_ref and checked against content_hash.

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

func (vr *vconReader) attachment(a *vAttachmentIn, path string) error {
	bad := func(field, rule string, err error) error {
		return &ImportError{Format: FormatVCon, Path: path + field, Rule: rule, Err: err}
	}
	ref := a.DialogObjectRef
	if ref == "" {
		ref = a.DialogObjectRefc
	}
	if ref == "" {
		vr.report.Drop(attachmentsWithoutRef, 1)
		return nil
	}
	s, ok := strings.CutPrefix(ref, "mid:")
	if ok {
		s, ok = strings.CutSuffix(s, "@anon.invalid")
		if !ok {
			s, ok = strings.CutSuffix(s, "@anonymous.invalid")
		}
	}
	idS, idxS, ok2 := strings.Cut(s, ":")
	id, err := decodeID(idS)
	idx, err2 := strconv.Atoi(idxS)
	if !ok || !ok2 || err != nil || err2 != nil || idx < 0 {
		return bad(".dialog_object_ref", "want mid:<message_id>:<part_index>@anon.invalid", err)
	}
	mt := a.MediaType
	if mt == "" {
		mt = a.MimeType
	}
	body, err := bodyBytes(a.Encoding, json.RawMessage(strconv.Quote(a.Body)), mt)
	if err != nil {
		return bad(".body", "cannot decode", err)
	}
	if len(a.ContentHashes) == 0 {
		return bad(".content_hash", "missing", nil)
	}
	checked := ""
	for i, tok := range a.ContentHashes {
		err := checkContentHash(tok, body)
		if errors.Is(err, errUnsupportedHash) && len(a.ContentHashes) > 1 {
			continue // another token checks the body
		}
		if err != nil {
			return bad(fmt.Sprintf(".content_hash[%d]", i), "does not match the body", err)
		}
		if checked == "" {
			checked = tok
		}
	}
	if checked == "" {
		return bad(".content_hash", "no token of a supported hash algorithm (sha256, sha512)", nil)
	}
	a.ContentHash = checked
	ms, _ := parseTime(a.Start, vr.report)
	vr.h.Attachments = append(vr.h.Attachments, Attachment{MessageID: id, PartIndex: idx, Time: ms, MediaType: mt,
		Filename: a.Filename, ContentHash: a.ContentHash, Body: body})
	vr.report.Note("embedded attachments", 1)
	return nil
}

var errUnsupportedHash = errors.New("unsupported hash")

func checkContentHash(h string, body []byte) error {
	alg, sum, ok := splitHash(h) // also core's "sha512-..." form
	if !ok {
		return errors.New("want alg:base64url")
	}
	want, err := decodeB64(sum)
	if err != nil {
		return err
	}
	var got []byte
	switch alg {
	case "sha256":
		s := sha256.Sum256(body)
		got = s[:]
	case "sha512":
		s := sha512.Sum512(body)
		got = s[:]
	default:
		return fmt.Errorf("%w %q", errUnsupportedHash, alg)
	}
	if !bytes.Equal(got, want) {
		return errors.New("hash mismatch")
	}
	return nil
}

// attachmentsWithoutRef is the report line of core attachments that name no
// message part: a file beside a dialog (core's `dialog` index), not a part
// of the message, which the model has no place for.
const attachmentsWithoutRef = "$.attachments[]: attachments without a dialog_object_ref (a file beside a dialog, not a part of a message)"
