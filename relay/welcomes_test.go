package relay

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
	"mimichat/relay/store"
	"mimichat/relay/store/sqlite"
)

// pageFits checks a page is a frame within limit that a client decodes.
func pageFits(t *testing.T, f proto.Frame, limit int) {
	t.Helper()
	b, err := proto.Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > limit {
		t.Fatalf("a %s frame of %d bytes, over the limit of %d", f.FrameType(), len(b), limit)
	}
	if _, err := proto.Decode(b); err != nil {
		t.Fatalf("a %s frame the client refuses: %v", f.FrameType(), err)
	}
}

// compareWelcomes orders Welcomes by room, then seq: a page's order.
func compareWelcomes(a, b store.Welcome) int {
	return cmp.Or(strings.Compare(a.Room, b.Room), cmp.Compare(a.Seq, b.Seq))
}

// pageFromWelcomes is the page the relay answered before it planned pages
// from entries without bytes: measured with every Welcome's bytes and tree
// in hand. pageOf checks the planned page against it, byte for byte.
func pageFromWelcomes(f *proto.Welcomes, ws []store.Welcome, limit int) *proto.WelcomeList {
	ws = slices.SortedFunc(slices.Values(ws), compareWelcomes)
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

// pageOf is the page welcomePage plans from ws's entries, its bytes filled
// from ws as fillWelcomePage reads them; it fails t unless it encodes to
// exactly the bytes of the page measured with every Welcome in hand.
func pageOf(t *testing.T, f *proto.Welcomes, ws []store.Welcome, limit int) *proto.WelcomeList {
	t.Helper()
	es := make([]store.WelcomeEntry, 0, len(ws))
	byInvite := map[store.WelcomeEntry]store.Welcome{}
	for _, w := range ws {
		es = append(es, store.WelcomeEntry{Room: w.Room, Seq: w.Seq, Size: len(w.Data), TreeSize: len(w.RatchetTree)})
		byInvite[store.WelcomeEntry{Room: w.Room, Seq: w.Seq}] = w
	}
	page, listed := welcomePage(f, es, limit)
	if len(listed) != len(page.Welcomes) {
		t.Fatalf("a page of %d entries lists %d", len(page.Welcomes), len(listed))
	}
	for i, e := range listed {
		pw, w := &page.Welcomes[i], byInvite[store.WelcomeEntry{Room: e.Room, Seq: e.Seq}]
		if pw.Room != w.Room || pw.Seq != w.Seq {
			t.Fatalf("entry %d is %s #%d, listed as %s #%d", i, pw.Room, pw.Seq, w.Room, w.Seq)
		}
		if pw.WelcomeSize == 0 && e.Size > 0 {
			pw.Welcome = w.Data
		}
		if pw.TreeSize == 0 && e.TreeSize > 0 {
			pw.RatchetTree = w.RatchetTree
		}
	}
	got, err := proto.Encode(page)
	if err != nil {
		t.Fatal(err)
	}
	want, err := proto.Encode(pageFromWelcomes(f, ws, limit))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the planned page encodes to %d bytes, the page measured with the bytes to %d; they differ", len(got), len(want))
	}
	return page
}

// TestPendingSize: an entry's size measured from its lengths is its
// encoded size with the bytes, at each CBOR head length's edges.
func TestPendingSize(t *testing.T) {
	lengths := []int{0, 1, 23, 24, 255, 256, 65535, 65536, 100_000}
	for _, welcomeLen := range lengths {
		for _, treeLen := range lengths {
			for _, pw := range []proto.PendingWelcome{
				{Room: "mimi://example.com/r/a", Seq: 7},
				{Room: "mimi://example.com/r/" + strings.Repeat("b", 300), Seq: 1 << 40, WelcomeSize: 1 << 20, TreeSize: 70_000},
			} {
				want := pw
				want.Welcome, want.RatchetTree = make([]byte, welcomeLen), make([]byte, treeLen)
				if got, want := pendingSize(pw, welcomeLen, treeLen), encodedSize(want); got != want {
					t.Errorf("welcome %d, tree %d, sizes %d/%d: %d bytes measured, %d encoded", welcomeLen, treeLen, pw.WelcomeSize, pw.TreeSize, got, want)
				}
			}
		}
	}
}

// TestWelcomePage: welcome_list pages (version 9) stay within the frame
// limit, hold every Welcome asked for exactly once and in order across the
// pages (room filter, after cursor), and an entry too large for a frame on
// its own gives its tree's size, then its Welcome's, instead of its bytes.
func TestWelcomePage(t *testing.T) {
	const limit = minWelcomeFrame
	const ra, rb = "mimi://example.com/r/a", "mimi://example.com/r/b"
	w := func(room string, seq uint64, data, tree int) store.Welcome {
		return store.Welcome{Room: room, Seq: seq, Data: bytes.Repeat([]byte{byte(seq)}, data), RatchetTree: bytes.Repeat([]byte{0xee}, tree)}
	}
	many := func(n, data int) []store.Welcome {
		var ws []store.Welcome
		for i := range n {
			ws = append(ws, w(fmt.Sprintf("mimi://example.com/r/%04d", i), uint64(i+1), data, 0))
		}
		return ws
	}
	for _, tc := range []struct {
		name     string
		ws       []store.Welcome
		room     string
		limit    int
		want     int // entries delivered over all pages
		pages    int
		treeSize int // entries listed with tree_size
		welSize  int // entries listed with welcome_size
	}{
		{name: "all in one page", ws: []store.Welcome{w(ra, 2, 1000, 2000), w(ra, 5, 1000, 0), w(rb, 3, 500, 500)}, limit: limit, want: 3, pages: 1},
		{name: "pages of 3 KB Welcomes", ws: many(20, 3000), limit: limit, want: 20, pages: 4}, // 5 a page
		{name: "one room of several", ws: []store.Welcome{w(ra, 2, 6000, 0), w(ra, 5, 6000, 0), w(rb, 3, 6000, 0)}, room: rb, limit: limit, want: 1, pages: 1},
		{name: "a tree over the limit", ws: []store.Welcome{w(ra, 2, 1000, 60000), w(rb, 3, 1000, 1000)}, limit: limit, want: 2, pages: 1, treeSize: 1},
		{name: "a Welcome over the limit", ws: []store.Welcome{w(ra, 2, 60000, 0), w(ra, 4, 20000, 60000), w(rb, 3, 1000, 0)}, limit: limit, want: 3, pages: 1, welSize: 2, treeSize: 1},
		{name: "a tree that fits alone", ws: []store.Welcome{w(ra, 2, 1000, 10000), w(ra, 3, 1000, 10000)}, limit: limit, want: 2, pages: 2},
		{name: "entries capped per page", ws: many(maxWelcomePage+500, 10), limit: proto.MaxRelayFrame, want: maxWelcomePage + 500, pages: 2},
		{name: "none", limit: limit, pages: 1},
		{name: "any store order", ws: []store.Welcome{w(rb, 3, 6000, 0), w(ra, 5, 6000, 0), w(ra, 2, 6000, 0)}, limit: limit, want: 3, pages: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &proto.Welcomes{RID: 7, Device: "mimi://example.com/d/bob/phone", Room: tc.room}
			var got []proto.PendingWelcome
			pages := 0
			for {
				page := pageOf(t, f, tc.ws, tc.limit)
				pages++
				pageFits(t, page, tc.limit)
				if page.RID != 7 || (page.More && len(page.Welcomes) == 0) {
					t.Fatalf("page %d: rid %d, %d entries, more %v", pages, page.RID, len(page.Welcomes), page.More)
				}
				got = append(got, page.Welcomes...)
				if !page.More {
					break
				}
				last := page.Welcomes[len(page.Welcomes)-1]
				f.AfterRoom, f.AfterSeq = last.Room, last.Seq
			}
			if len(got) != tc.want || pages != tc.pages {
				t.Fatalf("%d entries in %d pages, want %d in %d", len(got), pages, tc.want, tc.pages)
			}
			treeSize, welSize, j := 0, 0, 0
			for _, sw := range slices.SortedFunc(slices.Values(tc.ws), compareWelcomes) {
				if tc.room != "" && sw.Room != tc.room {
					continue
				}
				pw := got[j]
				j++
				if pw.Room != sw.Room || pw.Seq != sw.Seq {
					t.Fatalf("entry %d is %s #%d, want %s #%d", j-1, pw.Room, pw.Seq, sw.Room, sw.Seq)
				}
				switch {
				case pw.WelcomeSize > 0:
					welSize++
					if pw.WelcomeSize != uint64(len(sw.Data)) || pw.Welcome != nil {
						t.Fatalf("%s #%d: welcome_size %d with %d bytes, want %d without", pw.Room, pw.Seq, pw.WelcomeSize, len(pw.Welcome), len(sw.Data))
					}
				case !bytes.Equal(pw.Welcome, sw.Data):
					t.Fatalf("%s #%d: a Welcome of %d bytes, want %d", pw.Room, pw.Seq, len(pw.Welcome), len(sw.Data))
				}
				switch {
				case pw.TreeSize > 0:
					treeSize++
					if pw.TreeSize != uint64(len(sw.RatchetTree)) || pw.RatchetTree != nil {
						t.Fatalf("%s #%d: tree_size %d with %d bytes", pw.Room, pw.Seq, pw.TreeSize, len(pw.RatchetTree))
					}
				case !bytes.Equal(pw.RatchetTree, sw.RatchetTree) && len(sw.RatchetTree) > 0:
					t.Fatalf("%s #%d: a tree of %d bytes, want %d", pw.Room, pw.Seq, len(pw.RatchetTree), len(sw.RatchetTree))
				}
			}
			if treeSize != tc.treeSize || welSize != tc.welSize {
				t.Fatalf("%d entries with tree_size and %d with welcome_size, want %d and %d", treeSize, welSize, tc.treeSize, tc.welSize)
			}
		})
	}
}

// readPart reads one part of an entry through get_welcome_part, checking
// every welcome_part frame is within limit; it returns the bytes and the
// number of frames.
func readPart(t *testing.T, c *client, device string, w proto.PendingWelcome, part string, size uint64, limit int) ([]byte, int) {
	t.Helper()
	var buf []byte
	frames := 0
	for uint64(len(buf)) < size {
		c.send(&proto.GetWelcomePart{RID: c.nextRID(), Device: device, Room: w.Room, Seq: w.Seq, Part: part, Offset: uint64(len(buf))})
		p, ef := answerOrError[*proto.WelcomePart](c)
		if ef != nil {
			t.Fatalf("%s from %d: %s: %s", part, len(buf), ef.Code, ef.Reason)
		}
		pageFits(t, p, limit)
		if p.Size != size || p.Offset != uint64(len(buf)) {
			t.Fatalf("%s part at %d of %d, want %d of %d", part, p.Offset, p.Size, len(buf), size)
		}
		buf = append(buf, p.Data...)
		frames++
	}
	return buf, frames
}

// TestE2EEWelcomesOverTheFrameLimit: through a real relay whose welcome
// frames are limited to 16 KiB, invites into a room of 300 members (a
// ratchet tree of about 63 KB) reach their devices: a version 9 connection
// gets the entry with tree_size (the tree kept apart, protocol 8) or
// welcome_size (a version 7 inviter's Welcome with the tree inside) and
// reads the bytes in welcome_part frames, each within the limit, and joins
// at the inviter's epoch; a version 8 connection, which reads no pages, is
// refused with welcomes_too_large rather than sent a frame over the limit.
func TestE2EEWelcomesOverTheFrameLimit(t *testing.T) {
	const limit = minWelcomeFrame
	dir := t.TempDir()
	ir := seedInviteRoom(t, dir, 300)
	db, err := sqlite.Open(dir, sqlite.SyncFull)
	if err != nil {
		t.Fatal(err)
	}
	counted := &welcomesCountingStore{Store: db}
	s := startRelay(t, benchLimits(Config{Data: dir, MaxWelcomeFrame: limit, Store: counted}))
	owner := dialDevice(t, s.Addr(), ir.ownerTok, ir.owner.uri)
	invite := func(c *client, name string, v uint64) (testDevice, *mls.KeyPackageBundle, *client, string) {
		t.Helper()
		tok := addUser(t, s.Store(), name)
		d := newTestDevice(t, proto.UserURI("example.com", name), "d", mls.CipherSuite(1))
		kp, err := mls.NewKeyPackage(d.id)
		if err != nil {
			t.Fatal(err)
		}
		dc := dialDevice(t, s.Addr(), tok, d.uri)
		if _, ef := dc.upload(d.uri, [][]byte{kp.KeyPackage}); ef != nil {
			t.Fatal(ef.Reason)
		}
		km := c.claim(proto.UserURI("example.com", name), mls.CipherSuite(1))
		res, err := ir.ownerG.Commit(mls.CommitOptions{Add: [][]byte{km.Devices[0].KeyPackage}, GroupInfoWithoutTree: true, WelcomeTreeApart: v >= proto.WelcomeTreeVersion})
		if err != nil {
			t.Fatal(err)
		}
		if _, ef := c.op(ir.room, proto.KindInvite, proto.UserURI("example.com", name), func(f *proto.RoomOp) {
			f.MLS, f.GroupInfo, f.Welcome = res.Commit, res.GroupInfo, res.Welcome
		}); ef != nil {
			t.Fatalf("invite %s: %s: %s", name, ef.Code, ef.Reason)
		}
		if err := ir.ownerG.MergePendingCommit(); err != nil {
			t.Fatal(err)
		}
		return d, kp, dc, tok
	}
	list := func(c *client, device string) proto.PendingWelcome {
		t.Helper()
		c.send(&proto.Welcomes{RID: c.nextRID(), Device: device, Room: ir.room})
		wl, ef := answerOrError[*proto.WelcomeList](c)
		if ef != nil {
			t.Fatalf("welcomes: %s: %s", ef.Code, ef.Reason)
		}
		pageFits(t, wl, limit)
		if len(wl.Welcomes) != 1 || wl.More {
			t.Fatalf("%d welcomes, more %v; want 1", len(wl.Welcomes), wl.More)
		}
		return wl.Welcomes[0]
	}
	join := func(w proto.PendingWelcome, kp *mls.KeyPackageBundle, tree []byte) {
		t.Helper()
		g, err := mls.JoinFromWelcome(w.Welcome, kp, mls.JoinOptions{RatchetTree: tree})
		if err != nil {
			t.Fatalf("join: %v", err)
		}
		if !bytes.Equal(g.EpochAuthenticator(), ir.ownerG.EpochAuthenticator()) {
			t.Fatal("the joiner and the inviter disagree on the epoch")
		}
	}

	// The tree kept apart (protocol 8 inviter) is over the limit.
	jd, jkp, jc, jtok := invite(owner, "j", proto.Version)
	w := list(jc, jd.uri)
	if w.TreeSize == 0 || w.RatchetTree != nil || len(w.Welcome) == 0 {
		t.Fatalf("entry: tree_size %d, %d tree bytes, %d Welcome bytes; want the tree's size only", w.TreeSize, len(w.RatchetTree), len(w.Welcome))
	}
	tree, frames := readPart(t, jc, jd.uri, w, proto.PartRatchetTree, w.TreeSize, limit)
	t.Logf("a tree of %d bytes in %d welcome_part frames of at most %d bytes", len(tree), frames, limit)
	if frames < 4 || !bytes.Equal(tree, ir.ownerG.RatchetTree()) {
		t.Fatalf("%d frames, a tree of %d bytes; want the inviter's (%d bytes) in 4 or more", frames, len(tree), len(ir.ownerG.RatchetTree()))
	}
	join(w, jkp, tree)
	// A version 8 connection reads no pages: a typed refusal, not a frame
	// over the limit.
	j8 := dialVersionDevice(t, s.Addr(), jtok, jd.uri, 8)
	j8.send(&proto.Welcomes{RID: j8.nextRID(), Device: jd.uri})
	if ef := j8.expectError(proto.CodeWelcomesTooLarge); !bytes.Contains([]byte(ef.Reason), []byte("version 9")) {
		t.Fatalf("welcomes_too_large says %q", ef.Reason)
	}
	// A part past the end and a tree the Welcome did not keep are refused.
	jc.send(&proto.GetWelcomePart{RID: jc.nextRID(), Device: jd.uri, Room: ir.room, Seq: w.Seq, Part: proto.PartRatchetTree, Offset: w.TreeSize})
	jc.expectError(proto.CodeBadField)

	// A version 7 inviter's Welcome carries the tree: over the limit itself.
	owner7 := dialVersionDevice(t, s.Addr(), ir.ownerTok, ir.owner.uri, 7)
	kd, kkp, kc, _ := invite(owner7, "k", 7)
	w = list(kc, kd.uri)
	if w.WelcomeSize == 0 || w.Welcome != nil || w.TreeSize != 0 {
		t.Fatalf("entry: welcome_size %d, %d Welcome bytes, tree_size %d; want the Welcome's size only", w.WelcomeSize, len(w.Welcome), w.TreeSize)
	}
	w.Welcome, frames = readPart(t, kc, kd.uri, w, proto.PartWelcome, w.WelcomeSize, limit)
	if frames < 4 {
		t.Fatalf("a Welcome of %d bytes with the tree inside in %d frames of at most %d bytes", w.WelcomeSize, frames, limit)
	}
	join(w, kkp, nil)
	kc.send(&proto.GetWelcomePart{RID: kc.nextRID(), Device: kd.uri, Room: ir.room, Seq: w.Seq, Part: proto.PartRatchetTree})
	kc.expectError(proto.CodeInvalidOp)

	// Pages and parts read only the Welcomes they answer from, and the
	// version 8 list, refused from its entries' sizes, reads none: every
	// Welcome of a device with its tree is never read here.
	if n := counted.welcomes.Load(); n != 0 {
		t.Fatalf("every Welcome of a device read %d times; want none", n)
	}
}

// welcomesCountingStore is the real store counting its reads of every
// Welcome of a device with its bytes and tree (Welcomes).
type welcomesCountingStore struct {
	store.Store
	welcomes atomic.Int64
}

func (w *welcomesCountingStore) Welcomes(ctx context.Context, device string) ([]store.Welcome, error) {
	w.welcomes.Add(1)
	return w.Store.Welcomes(ctx, device)
}

// TestSessionJoinsOverTheFrameLimit: a mimichat session invited into a
// room of 300 members through a relay whose welcome frames are limited to
// 16 KiB and whose read budget is 64 KiB a second (32 KiB at once) joins it: it reads its
// Welcome's page, then the tree in parts, waiting out the rate_limited
// refusals the parts earn, and agrees with the inviter on the epoch.
func TestSessionJoinsOverTheFrameLimit(t *testing.T) {
	dir := t.TempDir()
	ir := seedInviteRoom(t, dir, 300)
	cfg := benchLimits(Config{Data: dir, MaxWelcomeFrame: minWelcomeFrame})
	cfg.ReadBytesPerSec, cfg.ReadBurst = 64<<10, 32<<10
	s := startRelay(t, cfg)
	owner := dialDevice(t, s.Addr(), ir.ownerTok, ir.owner.uri)
	ts := openTSSession(t, s, "sam")
	km := waitClaim(t, owner, proto.UserURI("example.com", "sam"))
	res, err := ir.ownerG.Commit(mls.CommitOptions{Add: [][]byte{km.Devices[0].KeyPackage}, GroupInfoWithoutTree: true, WelcomeTreeApart: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ef := owner.op(ir.room, proto.KindInvite, proto.UserURI("example.com", "sam"), func(f *proto.RoomOp) {
		f.MLS, f.GroupInfo, f.Welcome = res.Commit, res.GroupInfo, res.Welcome
	}); ef != nil {
		t.Fatalf("invite sam: %s: %s", ef.Code, ef.Reason)
	}
	if err := ir.ownerG.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	limited := s.metrics.rateLimited.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := ts.s.Join(ctx, ir.room); err != nil {
		t.Fatalf("the session joins: %v", err)
	}
	auth, epoch, ok := ts.s.EpochAuthenticator(ir.room)
	if !ok || epoch != ir.ownerG.Epoch() || !bytes.Equal(auth, ir.ownerG.EpochAuthenticator()) {
		t.Fatalf("the session is at epoch %d (%v), the inviter at %d", epoch, ok, ir.ownerG.Epoch())
	}
	if n := s.metrics.rateLimited.Load() - limited; n == 0 {
		t.Fatal("no read was refused rate_limited: the tree's parts did not test waiting out the budget")
	}
}

// waitClaim claims one KeyPackage of user, waiting for a session to upload
// its KeyPackages after it connects.
func waitClaim(t *testing.T, c *client, user string) *proto.KeyMaterial {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.send(&proto.ClaimKeyPackages{RID: c.nextRID(), User: user, Suite: 1})
		km, ef := answerOrError[*proto.KeyMaterial](c)
		if ef == nil && len(km.Devices) == 1 {
			return km
		}
		if time.Now().After(deadline) {
			t.Fatalf("no KeyPackage of %s to claim: %+v", user, ef)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWholeWelcomeList: a version 5–8 connection gets every Welcome in one
// frame while it fits the limit, however many (its decoder takes 65,536
// elements), the tree only from version 8; over the limit, a
// welcomes_too_large refusal naming the bytes and version 9.
func TestWholeWelcomeList(t *testing.T) {
	many := func(n, data, tree int) []store.Welcome {
		var ws []store.Welcome
		for i := range n {
			ws = append(ws, store.Welcome{Room: fmt.Sprintf("mimi://example.com/r/%05d", i), Seq: uint64(i + 1),
				Data: bytes.Repeat([]byte{1}, data), RatchetTree: bytes.Repeat([]byte{2}, tree)})
		}
		return ws
	}
	const limit = 1 << 20
	for _, tc := range []struct {
		name    string
		v       uint64
		ws      []store.Welcome
		entries int  // in the list, when it is sent
		trees   bool // the entries carry their trees
	}{
		{name: "1,500 small at version 8", v: 8, ws: many(1500, 100, 200), entries: 1500, trees: true},
		{name: "trees only from version 8", v: 7, ws: many(3, 100, 200), entries: 3},
		{name: "over the limit", v: 8, ws: many(3, 100, limit/2)},
		{name: "over the limit with the trees at version 7", v: 7, ws: many(3, 100, limit/2), entries: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &conn{v: tc.v, srv: &Server{cfg: Config{MaxWelcomeFrame: limit}}}
			f := &proto.Welcomes{RID: 3, Device: "mimi://example.com/d/bob/phone"}
			out, ref := c.wholeWelcomeList(f, tc.ws)
			// The size measured from the entries, before any Welcome is
			// read, is the list's, and refuses exactly as the list does.
			es := make([]store.WelcomeEntry, 0, len(tc.ws))
			whole := &proto.WelcomeList{RID: f.RID, Device: f.Device, Welcomes: []proto.PendingWelcome{}}
			whole.T = proto.TWelcomeList
			for _, w := range tc.ws {
				es = append(es, store.WelcomeEntry{Room: w.Room, Seq: w.Seq, Size: len(w.Data), TreeSize: len(w.RatchetTree)})
				pw := proto.PendingWelcome{Room: w.Room, Seq: w.Seq, Welcome: w.Data}
				if tc.v >= proto.WelcomeTreeVersion {
					pw.RatchetTree = w.RatchetTree
				}
				whole.Welcomes = append(whole.Welcomes, pw)
			}
			size := wholeListSize(tc.v, f, es)
			if want := encodedSize(whole); size != want {
				t.Fatalf("the whole list measured from its entries: %d bytes, encoded %d", size, want)
			}
			if early := c.wholeListTooLarge(f, len(es), size); (early == nil) != (ref == nil) || (early != nil && *early != *ref) {
				t.Fatalf("refused from the entries: %+v; from the Welcomes: %+v", early, ref)
			}
			if tc.entries == 0 {
				if ref == nil || ref.code != proto.CodeWelcomesTooLarge || !strings.Contains(ref.reason, "version 9") {
					t.Fatalf("refusal %+v, want welcomes_too_large naming version 9", ref)
				}
				return
			}
			if ref != nil {
				t.Fatalf("refused: %v", ref)
			}
			pageFits(t, out, limit)
			if len(out.Welcomes) != tc.entries || out.More || (out.Welcomes[0].RatchetTree != nil) != tc.trees {
				t.Fatalf("%d entries, more %v, a tree %v; want %d, no more, a tree %v", len(out.Welcomes), out.More, out.Welcomes[0].RatchetTree != nil, tc.entries, tc.trees)
			}
		})
	}
}
