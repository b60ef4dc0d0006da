package ui

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strconv"
	"strings"
	"testing"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi/kitty"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"mimichat/content"
	"mimichat/demo"
	"mimichat/render"
	"mimichat/session"
)

func testPicture(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 4), uint8(y * 4), 200, 255})
		}
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bombPNG is a valid 1×1 PNG whose header claims 100000×100000 pixels.
func bombPNG(t testing.TB) []byte {
	b := pngBytes(t, testPicture(1, 1))
	binary.BigEndian.PutUint32(b[16:], 100000)
	binary.BigEndian.PutUint32(b[20:], 100000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// sendImage has peer p seal data, upload it to the demo relay's blob store
// and send it to room as an attachment of type ct; tamper changes the
// hash the message announces, so the download no longer matches it.
func sendImage(t *testing.T, d *demo.Demo, p *session.Session, room, name, ct string, data []byte, tamper bool) {
	t.Helper()
	part, blob, err := content.SealAttachment(nil, data, content.AttachmentSpec{Filename: name})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if part.URL, err = d.Upload(ctx, name, blob); err != nil {
		t.Fatal(err)
	}
	if tamper {
		part.ContentHash = bytes.Clone(part.ContentHash)
		part.ContentHash[0] ^= 1
	}
	msg, err := p.Builder(room).Attachment(ct, part)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Send(room, msg); err != nil {
		t.Fatal(err)
	}
}

// TestInlineImages: image attachments from a peer, through the demo's
// relay and blob store, show inline as half blocks with their size, and
// the ones that must not be shown say why in a card: an image bomb, a
// download whose hash does not match, bytes that are no image.
func TestInlineImages(t *testing.T) {
	d, s := startDemo(t)
	bob := d.Peer("Bob")
	room := d.Rooms[2]
	_, _, scr := startUI(t, s, 120, 40, Options{Room: room, Names: d.Names, Images: ImagesBlocks})
	scr.waitText(t, "You joined")
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, testPicture(64, 48), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ct string
		data     []byte
		tamper   bool
		want     []string
	}{
		{"pic.png", "image/png", pngBytes(t, testPicture(80, 40)), false, []string{"80×40 png", "▀▀▀▀"}},
		{"photo.jpg", "image/jpeg", jb.Bytes(), false, []string{"64×48 jpeg"}},
		{"bomb.png", "image/png", bombPNG(t), false, []string{"image not shown", "100000×100000 is 10000.0 M pixels", "24.0 M limit"}},
		{"tampered.png", "image/png", pngBytes(t, testPicture(8, 8)), true, []string{"image not shown", "different bytes than the sender hashed"}},
		{"fake.png", "image/png;name=fake.png", []byte("not an image at all"), false, []string{"image not shown", "not a PNG, JPEG, GIF or WebP image"}},
	}
	for _, tc := range tests {
		sendImage(t, d, bob, room, tc.name, tc.ct, tc.data, tc.tamper)
		scr.waitText(t, append([]string{tc.name}, tc.want...)...)
	}
}

// TestInlineImagesKitty: with images = kitty the thumbnail is kitty
// placeholders, the image is transmitted once with a virtual placement of
// the same size, and its placement is deleted when it leaves the screen
// (General) and made again when it comes back, without sending the
// data again; quitting deletes it with its data.
func TestInlineImagesKitty(t *testing.T) {
	d, s := startDemo(t)
	room := d.Rooms[2]
	tm, _, scr := startUI(t, s, 120, 40, Options{Room: room, Names: d.Names, Images: ImagesKitty})
	scr.waitText(t, "You joined")
	sendImage(t, d, d.Peer("Bob"), room, "pic.png", "image/png", pngBytes(t, testPicture(80, 40)), false)
	scr.waitText(t, "80×40 png", string(kitty.Placeholder))
	out := tm.Output()
	var seen bytes.Buffer
	waitOut := func(what string, cond func([]byte) bool) {
		t.Helper()
		teatest.WaitFor(t, out, func(b []byte) bool {
			seen.Write(b)
			return cond(seen.Bytes())
		}, teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	waitOut("transmit", func(b []byte) bool { return bytes.Contains(b, []byte("a=T")) && bytes.Contains(b, []byte("U=1")) })
	seen.Reset()
	imageRoom := openRoomName(t, scr)
	key(tm, roomKey(t, scr, "General")) // another room (no images): the image leaves the screen
	waitOut("hide", func(b []byte) bool { return bytes.Contains(b, []byte("d=i")) })
	seen.Reset()
	key(tm, roomKey(t, scr, imageRoom))
	waitOut("place again", func(b []byte) bool { return bytes.Contains(b, []byte("a=p")) })
	if bytes.Contains(seen.Bytes(), []byte("a=T")) {
		t.Error("the image data was sent again")
	}
	seen.Reset()
	key(tm, "ctrl+c") // quitting frees the image and its data
	waitOut("free", func(b []byte) bool { return bytes.Contains(b, []byte("d=I")) })
}

// TestImageDetection: images = auto draws half blocks until the terminal
// answers the kitty graphics query; an OK answer switches to kitty.
func TestImageDetection(t *testing.T) {
	d, s := startDemo(t)
	room := d.Rooms[2]
	tm, _, scr := startUI(t, s, 120, 40, Options{Room: room, Names: d.Names})
	scr.waitText(t, "You joined")
	sendImage(t, d, d.Peer("Bob"), room, "pic.png", "image/png", pngBytes(t, testPicture(80, 40)), false)
	scr.waitText(t, "80×40 png", "▀▀▀▀")
	tm.Send(uv.KittyGraphicsEvent{Options: kitty.Options{ID: render.KittyQueryID}, Payload: []byte("OK")})
	scr.waitFor(t, "kitty placeholders", func(s string) bool {
		return strings.Contains(s, string(kitty.Placeholder)) && !strings.Contains(s, "▀▀▀▀")
	})
}

// TestImageDetectionNoKitty: DA1's answer first means no kitty (a kitty
// answer after it changes nothing); with attribute 4 it is sixel,
// without it half blocks.
func TestImageDetectionNoKitty(t *testing.T) {
	for _, tc := range []struct {
		name string
		da1  uv.PrimaryDeviceAttributesEvent
		want string
	}{
		{"sixel", uv.PrimaryDeviceAttributesEvent{62, 4, 22}, "\u2800\u2800\u2800"},
		{"neither", uv.PrimaryDeviceAttributesEvent{62, 22}, "▀▀▀▀"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, s := startDemo(t)
			room := d.Rooms[2]
			tm, _, scr := startUI(t, s, 120, 40, Options{Room: room, Names: d.Names})
			scr.waitText(t, "You joined")
			tm.Send(tc.da1)
			tm.Send(uv.KittyGraphicsEvent{Options: kitty.Options{ID: render.KittyQueryID}, Payload: []byte("OK")})
			sendImage(t, d, d.Peer("Bob"), room, "pic.png", "image/png", pngBytes(t, testPicture(80, 40)), false)
			scr.waitText(t, "80×40 png", tc.want)
			if strings.Contains(scr.settle(300*time.Millisecond), string(kitty.Placeholder)) {
				t.Fatal("kitty placeholders after DA1 answered first")
			}
		})
	}
}

// TestKittyDiff: each frame's kitty images are compared with the last
// frame's: new ones are transmitted once, ones that left are hidden, ones
// that come back are placed again without their data.
func TestKittyDiff(t *testing.T) {
	s := newImageStore(Options{Images: ImagesKitty})
	pic := func() (*render.Picture, []string, uint32) {
		p := render.NewPicture(render.DecodedImage{Image: testPicture(40, 20), Format: "png", W: 40, H: 20}, 20, 6)
		lines, id := p.Lines(render.ImageKitty, 40)
		s.items[imageKey{content.MessageID{byte(id)}, 0}] = &imageItem{state: render.ImageReady, pic: p}
		return p, lines, id
	}
	_, a, ida := pic()
	_, b, idb := pic()
	frameA, frameAB, frameB := strings.Join(a, "\n"), strings.Join(a, "\n")+"\n"+strings.Join(b, "\n"), strings.Join(b, "\n")
	steps := []struct {
		frame         string
		want, notWant []string
	}{
		{frameA, []string{"a=T", "i=" + itoa(int(ida))}, []string{"i=" + itoa(int(idb))}},
		{frameAB, []string{"a=T", "i=" + itoa(int(idb)) + ","}, []string{"i=" + itoa(int(ida)) + ","}},
		{frameAB, nil, []string{"\x1b_G"}},
		{frameB, []string{"d=i", "i=" + itoa(int(ida)) + ","}, []string{"a=T", "a=p"}},
		{frameAB, []string{"a=p", "i=" + itoa(int(ida)) + ","}, []string{"a=T", "d=i"}},
		{"", []string{"d=i"}, []string{"a=T", "a=p"}},
	}
	for i, st := range steps {
		seq := s.kittyDiff(st.frame)
		for _, w := range st.want {
			if !strings.Contains(seq, w) {
				t.Errorf("step %d: %q lacks %q", i, seq, w)
			}
		}
		for _, w := range st.notWant {
			if strings.Contains(seq, w) {
				t.Errorf("step %d: %q has %q", i, seq, w)
			}
		}
	}
}

// TestInlineImagesSixel: with images = sixel the thumbnail's cells are
// reserved and the image is drawn there after the frame (cursor saved,
// moved, DCS sixel, restored); when it leaves the screen the screen is
// repainted (no pixels left behind), and it is drawn again when it comes
// back.
func TestInlineImagesSixel(t *testing.T) {
	d, s := startDemo(t)
	room := d.Rooms[2]
	tm, _, scr := startUI(t, s, 120, 40, Options{Room: room, Names: d.Names, Images: ImagesSixel})
	scr.waitText(t, "You joined")
	sendImage(t, d, d.Peer("Bob"), room, "pic.png", "image/png", pngBytes(t, testPicture(80, 40)), false)
	scr.waitText(t, "80×40 png", "\u2800\u2800\u2800")
	out := tm.Output()
	var seen bytes.Buffer
	waitOut := func(what string, cond func([]byte) bool) {
		t.Helper()
		teatest.WaitFor(t, out, func(b []byte) bool {
			seen.Write(b)
			return cond(seen.Bytes())
		}, teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	drawn := func(b []byte) bool {
		i := bytes.Index(b, []byte("\x1b7\x1b["))
		return i >= 0 && bytes.Contains(b[i:], []byte("\x1bP0;1;0q")) && bytes.Contains(b[i:], []byte("\x1b\\\x1b8"))
	}
	waitOut("drawn", drawn)
	seen.Reset()
	imageRoom := openRoomName(t, scr)
	key(tm, roomKey(t, scr, "General")) // the image leaves the screen
	waitOut("repaint", func(b []byte) bool { return bytes.Contains(b, []byte("\x1b[2J")) })
	if bytes.Contains(seen.Bytes(), []byte("\x1bP0;1;0q")) {
		t.Error("a sixel was drawn with no image on screen")
	}
	seen.Reset()
	key(tm, roomKey(t, scr, imageRoom))
	waitOut("drawn again", drawn)
}

// openRoomName is the name of the room on screen, from the header.
func openRoomName(t *testing.T, scr *screen) string {
	t.Helper()
	first, _, _ := strings.Cut(scr.text(), "\n")
	parts := strings.Split(first, "│")
	if len(parts) < 2 {
		t.Fatalf("no room header in %q", first)
	}
	name, _, _ := strings.Cut(parts[1], " — ")
	return strings.TrimSpace(strings.TrimRight(strings.TrimSpace(name), "🔒🔓⚠"))
}

// roomKey is the alt+N key of the room named name in the room list on
// screen. Room numbers are given when rooms are first listed, which depends
// on the order the demo's rooms arrive in, so tests look them up.
func roomKey(t *testing.T, scr *screen, name string) string {
	t.Helper()
	for _, l := range strings.Split(scr.text(), "\n") {
		left, _, ok := strings.Cut(l, "│")
		if !ok {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSpace(left), " ")
		if !ok || len(num) != 1 || num[0] < '1' || num[0] > '9' {
			continue
		}
		if strings.TrimSpace(strings.TrimRight(strings.TrimSpace(rest), "0123456789@ ")) == name {
			return "alt+" + num
		}
	}
	t.Fatalf("no room %q in the room list:\n%s", name, scr.text())
	return ""
}

// TestInlineImagesSeveral: a message with six image attachments (a
// processAll body, as another client may send) draws the first
// render.MaxInlineImages of them, in order, each with its size, and
// counts the rest.
func TestInlineImagesSeveral(t *testing.T) {
	d, s := startDemo(t)
	bob := d.Peer("Bob")
	room := d.Rooms[2]
	_, _, scr := startUI(t, s, 120, 60, Options{Room: room, Names: d.Names, Images: ImagesBlocks, ImageCols: 8, ImageRows: 2})
	scr.waitText(t, "You joined")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	parts := []content.NestedPart{content.TextPart("holiday photos")}
	for i := range 6 {
		name := "p" + strconv.Itoa(i) + ".png"
		part, blob, err := content.SealAttachment(nil, pngBytes(t, testPicture(10+i, 4)), content.AttachmentSpec{Filename: name})
		if err != nil {
			t.Fatal(err)
		}
		if part.URL, err = d.Upload(ctx, name, blob); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, content.ExternalBody(content.Attachment, "image/png", part))
	}
	body, err := content.MultiBody(content.ProcessAll, parts...)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := bob.Builder(room).Message(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(room, msg); err != nil {
		t.Fatal(err)
	}
	txt := scr.waitText(t, "holiday photos", "10×4 png", "11×4 png", "12×4 png", "13×4 png", "+ 2 more images")
	for _, absent := range []string{"14×4 png", "15×4 png"} {
		if strings.Contains(txt, absent) {
			t.Errorf("%s drawn past the limit of %d", absent, render.MaxInlineImages)
		}
	}
	if a, b := strings.Index(txt, "10×4 png"), strings.Index(txt, "13×4 png"); a > b {
		t.Error("images out of order")
	}
}
