package relay

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"mimichat/proto"
	"mimichat/relay/store"
)

// Welcome delivery within the frame limit (docs/protocol.md, "Version 9:
// Welcomes at scale"). welcome_list frames stay within
// Config.MaxWelcomeFrame: a version 9 connection gets them in pages, each
// entry too large for a frame on its own listed with its sizes, its bytes
// read with get_welcome_part; a version 5–8 connection gets every Welcome
// in one frame, or welcomes_too_large when they do not fit.

// minWelcomeFrame is the smallest Config.MaxWelcomeFrame: an entry without
// its bytes (a room URI, seq and two sizes) always fits, with room to spare
// for parts.
const minWelcomeFrame = 16 << 10

// maxWelcomePage caps a page's entries, well under the decoders' array cap.
const maxWelcomePage = 1000

// maxDecodedArray is the most elements a client's decoder takes in one
// array (proto's MaxArrayElements): the cap of a whole list.
const maxDecodedArray = 1 << 16

// sizeEnc measures encodings as proto.Encode makes them.
var sizeEnc, _ = cbor.CoreDetEncOptions().EncMode()

// encodedSize is v's encoded length; it cannot fail for the frames and
// entries given here (strings, byte strings, integers).
func encodedSize(v any) int {
	b, err := sizeEnc.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("relay: measure %T: %v", v, err))
	}
	return len(b)
}

// arrayHeadSlack is the most bytes a CBOR array head grows beyond the one
// byte of an empty array (up to 2³² elements).
const arrayHeadSlack = 4

// welcomes answers the Welcomes stored for one of the user's devices.
func (c *conn) welcomes(f *proto.Welcomes) *refusal {
	if c.v < e2eeVersion {
		return refuse(proto.CodeUnknownType, "welcomes needs protocol version 5")
	}
	if c.v < proto.WelcomePagesVersion && (f.Room != "" || f.AfterRoom != "") {
		return &refusal{code: proto.CodeBadField, field: "room", reason: "room and after_room need protocol version 9"}
	}
	ws, ref := c.deviceWelcomes(f.Device)
	if ref != nil {
		return ref
	}
	var out *proto.WelcomeList
	if c.v >= proto.WelcomePagesVersion {
		out = welcomePage(f, ws, c.srv.cfg.MaxWelcomeFrame)
	} else {
		var ref *refusal
		if out, ref = c.wholeWelcomeList(f, ws); ref != nil {
			return ref
		}
	}
	c.srv.limits.readCharge(c.user, c.send(out))
	return nil
}

// wholeWelcomeList is the list of every Welcome, for a version 5–8
// connection, which reads no pages: refused with welcomes_too_large when it
// does not fit one frame (its read would fail the connection).
func (c *conn) wholeWelcomeList(f *proto.Welcomes, ws []store.Welcome) (*proto.WelcomeList, *refusal) {
	out := &proto.WelcomeList{RID: f.RID, Device: f.Device, Welcomes: make([]proto.PendingWelcome, 0, len(ws))}
	out.T = proto.TWelcomeList
	for _, w := range ws {
		pw := proto.PendingWelcome{Room: w.Room, Seq: w.Seq, Welcome: w.Data}
		if c.v >= proto.WelcomeTreeVersion {
			pw.RatchetTree = w.RatchetTree
		}
		out.Welcomes = append(out.Welcomes, pw)
	}
	if n := encodedSize(out); n > c.srv.cfg.MaxWelcomeFrame || len(ws) > maxDecodedArray {
		return nil, refuse(proto.CodeWelcomesTooLarge, "the %d Welcomes stored for %s take %d bytes, over the %d bytes of a frame (or over %d entries); protocol version 9 pages them",
			len(ws), f.Device, n, c.srv.cfg.MaxWelcomeFrame, maxDecodedArray)
	}
	return out, nil
}

// welcomePage is the page of ws f asks for, within limit bytes encoded: the entries of f.Room (all rooms when empty) after
// f.AfterRoom and f.AfterSeq, in order, while they fit. An entry too large
// for a frame on its own leaves its tree out (tree_size), then its Welcome
// (welcome_size); none is skipped.
func welcomePage(f *proto.Welcomes, ws []store.Welcome, limit int) *proto.WelcomeList {
	// The cursor follows the list's order, whatever order the store
	// returned them in.
	slices.SortFunc(ws, compareWelcomes)
	out := &proto.WelcomeList{RID: f.RID, Device: f.Device, Welcomes: []proto.PendingWelcome{}, More: true}
	out.T = proto.TWelcomeList
	used := encodedSize(out) + arrayHeadSlack
	base := used
	out.More = false
	for _, w := range ws {
		if f.Room != "" && w.Room != f.Room {
			continue
		}
		if f.AfterRoom != "" && compareWelcomes(w, store.Welcome{Room: f.AfterRoom, Seq: f.AfterSeq}) <= 0 {
			continue
		}
		pw := proto.PendingWelcome{Room: w.Room, Seq: w.Seq, Welcome: w.Data, RatchetTree: w.RatchetTree}
		n := encodedSize(pw)
		if base+n > limit && len(pw.RatchetTree) > 0 {
			pw.TreeSize, pw.RatchetTree = uint64(len(pw.RatchetTree)), nil
			n = encodedSize(pw)
		}
		if base+n > limit {
			pw.WelcomeSize, pw.Welcome = uint64(len(pw.Welcome)), nil
			n = encodedSize(pw)
		}
		if used+n > limit || len(out.Welcomes) == maxWelcomePage {
			out.More = true
			break
		}
		out.Welcomes = append(out.Welcomes, pw)
		used += n
	}
	return out
}

// compareWelcomes orders Welcomes by room, then seq: a page's order.
func compareWelcomes(a, b store.Welcome) int {
	return cmp.Or(strings.Compare(a.Room, b.Room), cmp.Compare(a.Seq, b.Seq))
}

// welcomePart answers bytes of a stored Welcome or of its tree, as many as
// fit a frame, for an entry that gave their size.
func (c *conn) welcomePart(f *proto.GetWelcomePart) *refusal {
	if c.v < proto.WelcomePagesVersion {
		return refuse(proto.CodeUnknownType, "get_welcome_part needs protocol version 9")
	}
	ws, ref := c.deviceWelcomes(f.Device)
	if ref != nil {
		return ref
	}
	var part []byte
	found := false
	for _, w := range ws {
		if w.Room == f.Room && w.Seq == f.Seq {
			found, part = true, w.Data
			if f.Part == proto.PartRatchetTree {
				part = w.RatchetTree
			}
			break
		}
	}
	switch {
	case !found:
		return refuse(proto.CodeInvalidOp, "no Welcome of %s #%d is stored for %s (it goes when the membership ends, and after 30 days)", f.Room, f.Seq, f.Device)
	case len(part) == 0:
		return refuse(proto.CodeInvalidOp, "the Welcome of %s #%d keeps no ratchet tree: it carries its own", f.Room, f.Seq)
	case f.Offset >= uint64(len(part)):
		return &refusal{code: proto.CodeBadField, field: "offset", reason: fmt.Sprintf("%d is not before the part's %d bytes", f.Offset, len(part))}
	}
	out := &proto.WelcomePart{RID: f.RID, Device: f.Device, Room: f.Room, Seq: f.Seq, Part: f.Part, Offset: f.Offset, Size: uint64(len(part)), Data: []byte{}}
	out.T = proto.TWelcomePart
	room := c.srv.cfg.MaxWelcomeFrame - encodedSize(out) - 8 // the byte string's head grows up to 8 bytes
	out.Data = part[f.Offset:min(uint64(len(part)), f.Offset+uint64(room))]
	c.srv.limits.readCharge(c.user, c.send(out))
	return nil
}

// deviceWelcomes reads the Welcomes stored for device, one of the user's
// own (welcome_list and welcome_part both answer from them).
func (c *conn) deviceWelcomes(device string) ([]store.Welcome, *refusal) {
	if _, ref := c.ownDevice(device); ref != nil {
		return nil, ref
	}
	ctx, cancel := storeCtx()
	defer cancel()
	ws, err := c.srv.db.Welcomes(ctx, device)
	if err != nil {
		c.srv.metrics.storeErrors.Add(1)
		c.log.Error("read welcomes", "err", err)
		return nil, refuse(proto.CodeInternal, "storage failed; retry")
	}
	return ws, nil
}
