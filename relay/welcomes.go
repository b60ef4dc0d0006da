package relay

import (
	"cmp"
	"context"
	"errors"
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
	var out *proto.WelcomeList
	if c.v >= proto.WelcomePagesVersion {
		var ref *refusal
		if out, ref = c.readWelcomePage(f); ref != nil {
			return ref
		}
	} else {
		var ref *refusal
		if out, ref = c.readWholeWelcomeList(f); ref != nil {
			return ref
		}
	}
	c.srv.limits.readCharge(c.user, c.send(out))
	return nil
}

// welcomePageTries bounds the plans of a page whose Welcomes keep going
// (a membership's end, the age sweep) between its listing and its reads.
const welcomePageTries = 3

// readWelcomePage answers a version 9 welcome_list: the page is planned
// from the device's entries, which carry sizes but no bytes, and only the
// bytes it sends are read, one Welcome or tree at a time; the other
// Welcomes' bytes and trees, however many and large, are not.
func (c *conn) readWelcomePage(f *proto.Welcomes) (*proto.WelcomeList, *refusal) {
	if _, ref := c.ownDevice(f.Device); ref != nil {
		return nil, ref
	}
	ctx, cancel := storeCtx()
	defer cancel()
	for try := 1; ; try++ {
		es, err := c.srv.db.WelcomeEntries(ctx, f.Device)
		if err != nil {
			return nil, c.welcomeStoreFailed("read welcome entries", err)
		}
		page, listed := welcomePage(f, es, c.srv.cfg.MaxWelcomeFrame)
		err = c.fillWelcomePage(ctx, f.Device, page, listed)
		if err == nil {
			return page, nil
		}
		if !errors.Is(err, store.ErrNotFound) || try == welcomePageTries {
			return nil, c.welcomeStoreFailed("read welcomes", err)
		}
	}
}

// fillWelcomePage reads the bytes of page's entries (listed: the store's
// entries they come from, in order) that welcomePage gave no size for. A
// Welcome gone since the listing is ErrNotFound: the page is planned again.
func (c *conn) fillWelcomePage(ctx context.Context, device string, page *proto.WelcomeList, listed []store.WelcomeEntry) error {
	for i, e := range listed {
		pw := &page.Welcomes[i]
		var err error
		if pw.WelcomeSize == 0 && e.Size > 0 {
			pw.Welcome, err = listedBytes(ctx, device, "welcome", e, e.Size, c.srv.db.WelcomeData)
			if err != nil {
				return err
			}
		}
		if pw.TreeSize == 0 && e.TreeSize > 0 {
			pw.RatchetTree, err = listedBytes(ctx, device, "ratchet tree", e, e.TreeSize, c.srv.db.WelcomeTree)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// listedBytes reads a Welcome's bytes or tree for a page with read and
// checks them against the size its entry listed.
func listedBytes(ctx context.Context, device, what string, e store.WelcomeEntry, size int,
	read func(ctx context.Context, device, room string, seq uint64) ([]byte, error)) ([]byte, error) {
	b, err := read(ctx, device, e.Room, e.Seq)
	if err != nil {
		return nil, err
	}
	if len(b) != size {
		return nil, fmt.Errorf("%s of %s #%d: %d bytes, listed with %d", what, e.Room, e.Seq, len(b), size)
	}
	return b, nil
}

// welcomeStoreFailed logs a failed read of Welcomes and refuses the request.
func (c *conn) welcomeStoreFailed(what string, err error) *refusal {
	c.srv.metrics.storeErrors.Add(1)
	c.log.Error(what, "err", err)
	return refuse(proto.CodeInternal, "storage failed; retry")
}

// readWholeWelcomeList answers a version 5–8 welcomes: every Welcome of
// the device with its bytes and tree, read only once the entries' sizes
// show the list fits a frame (a list refused welcomes_too_large reads no
// Welcome's bytes or tree).
func (c *conn) readWholeWelcomeList(f *proto.Welcomes) (*proto.WelcomeList, *refusal) {
	if _, ref := c.ownDevice(f.Device); ref != nil {
		return nil, ref
	}
	ctx, cancel := storeCtx()
	es, err := c.srv.db.WelcomeEntries(ctx, f.Device)
	cancel()
	if err != nil {
		return nil, c.welcomeStoreFailed("read welcome entries", err)
	}
	if ref := c.wholeListTooLarge(f, len(es), wholeListSize(c.v, f, es)); ref != nil {
		return nil, ref
	}
	ws, ref := c.deviceWelcomes(f.Device)
	if ref != nil {
		return nil, ref
	}
	// Measured again: Welcomes stored since the entries were read count.
	return c.wholeWelcomeList(f, ws)
}

// wholeListSize is the encoded size of the whole list of es for a version
// v connection (trees from version 8), measured from their sizes.
func wholeListSize(v uint64, f *proto.Welcomes, es []store.WelcomeEntry) int {
	out := &proto.WelcomeList{RID: f.RID, Device: f.Device, Welcomes: []proto.PendingWelcome{}}
	out.T = proto.TWelcomeList
	n := encodedSize(out) - cborHeadSize(0) + cborHeadSize(len(es))
	for _, e := range es {
		treeLen := 0
		if v >= proto.WelcomeTreeVersion {
			treeLen = e.TreeSize
		}
		n += pendingSize(proto.PendingWelcome{Room: e.Room, Seq: e.Seq}, e.Size, treeLen)
	}
	return n
}

// wholeListTooLarge refuses a whole list of count Welcomes taking size
// bytes encoded when it does not fit one frame (its read would fail the
// connection) or one decoded array.
func (c *conn) wholeListTooLarge(f *proto.Welcomes, count, size int) *refusal {
	if size > c.srv.cfg.MaxWelcomeFrame || count > maxDecodedArray {
		return refuse(proto.CodeWelcomesTooLarge, "the %d Welcomes stored for %s take %d bytes, over the %d bytes of a frame (or over %d entries); protocol version 9 pages them",
			count, f.Device, size, c.srv.cfg.MaxWelcomeFrame, maxDecodedArray)
	}
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
	if ref := c.wholeListTooLarge(f, len(ws), encodedSize(out)); ref != nil {
		return nil, ref
	}
	return out, nil
}

// welcomePage plans the page of es f asks for, within limit bytes
// encoded: the entries of f.Room (all rooms when empty) after f.AfterRoom
// and f.AfterSeq, in order, while they fit. An entry too large for a frame
// on its own leaves its tree out (tree_size), then its Welcome
// (welcome_size); none is skipped. It measures from the sizes alone and
// returns the page without bytes, with the entries it lists, whose bytes
// not given by size fillWelcomePage reads.
func welcomePage(f *proto.Welcomes, es []store.WelcomeEntry, limit int) (*proto.WelcomeList, []store.WelcomeEntry) {
	// The cursor follows the list's order, whatever order the store
	// returned them in.
	slices.SortFunc(es, compareWelcomeEntries)
	out := &proto.WelcomeList{RID: f.RID, Device: f.Device, Welcomes: []proto.PendingWelcome{}, More: true}
	out.T = proto.TWelcomeList
	used := encodedSize(out) + arrayHeadSlack
	base := used
	out.More = false
	var listed []store.WelcomeEntry
	for _, e := range es {
		if f.Room != "" && e.Room != f.Room {
			continue
		}
		if f.AfterRoom != "" && compareWelcomeEntries(e, store.WelcomeEntry{Room: f.AfterRoom, Seq: f.AfterSeq}) <= 0 {
			continue
		}
		pw := proto.PendingWelcome{Room: e.Room, Seq: e.Seq}
		welcomeLen, treeLen := e.Size, e.TreeSize
		n := pendingSize(pw, welcomeLen, treeLen)
		if base+n > limit && treeLen > 0 {
			pw.TreeSize, treeLen = uint64(treeLen), 0
			n = pendingSize(pw, welcomeLen, treeLen)
		}
		if base+n > limit {
			pw.WelcomeSize, welcomeLen = uint64(welcomeLen), 0
			n = pendingSize(pw, welcomeLen, treeLen)
		}
		if used+n > limit || len(out.Welcomes) == maxWelcomePage {
			out.More = true
			break
		}
		out.Welcomes = append(out.Welcomes, pw)
		listed = append(listed, e)
		used += n
	}
	return out, listed
}

// pendingSize is pw's encoded size once it carries a Welcome of welcomeLen
// bytes and a tree of treeLen (0: none), measured without the bytes: a
// byte string's encoding differs from a one-byte string's only in its
// length and its head's.
func pendingSize(pw proto.PendingWelcome, welcomeLen, treeLen int) int {
	one := []byte{0}
	grow := 0
	if welcomeLen > 0 {
		pw.Welcome = one
		grow += byteStringSize(welcomeLen) - byteStringSize(1)
	}
	if treeLen > 0 {
		pw.RatchetTree = one
		grow += byteStringSize(treeLen) - byteStringSize(1)
	}
	return encodedSize(pw) + grow
}

// byteStringSize is the encoded length of a CBOR byte string of n bytes:
// its head and its bytes.
func byteStringSize(n int) int { return cborHeadSize(n) + n }

// cborHeadSize is the length of a CBOR data item's head whose argument is
// n (a byte string's length, an array's count; RFC 8949, section 3).
func cborHeadSize(n int) int {
	switch {
	case n < 24:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case uint64(n) <= 0xffffffff:
		return 5
	}
	return 9
}

// compareWelcomeEntries orders entries by room, then seq: a page's order.
func compareWelcomeEntries(a, b store.WelcomeEntry) int {
	return cmp.Or(strings.Compare(a.Room, b.Room), cmp.Compare(a.Seq, b.Seq))
}

// welcomePart answers bytes of a stored Welcome or of its tree, as many as
// fit a frame, for an entry that gave their size. It reads that one
// Welcome's bytes or tree, none of the device's others.
func (c *conn) welcomePart(f *proto.GetWelcomePart) *refusal {
	if c.v < proto.WelcomePagesVersion {
		return refuse(proto.CodeUnknownType, "get_welcome_part needs protocol version 9")
	}
	if _, ref := c.ownDevice(f.Device); ref != nil {
		return ref
	}
	read := c.srv.db.WelcomeData
	if f.Part == proto.PartRatchetTree {
		read = c.srv.db.WelcomeTree
	}
	ctx, cancel := storeCtx()
	part, err := read(ctx, f.Device, f.Room, f.Seq)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(proto.CodeInvalidOp, "no Welcome of %s #%d is stored for %s (it goes when the membership ends, and after 30 days)", f.Room, f.Seq, f.Device)
	case err != nil:
		return c.welcomeStoreFailed("read welcome part", err)
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

// deviceWelcomes reads every Welcome stored for device, one of the user's
// own, with its bytes and tree: the whole list a version 5–8 connection
// gets in one frame, once its entries showed it fits.
func (c *conn) deviceWelcomes(device string) ([]store.Welcome, *refusal) {
	if _, ref := c.ownDevice(device); ref != nil {
		return nil, ref
	}
	ctx, cancel := storeCtx()
	defer cancel()
	ws, err := c.srv.db.Welcomes(ctx, device)
	if err != nil {
		return nil, c.welcomeStoreFailed("read welcomes", err)
	}
	return ws, nil
}
