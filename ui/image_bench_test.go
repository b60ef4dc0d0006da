package ui

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/render"
	"mimichat/session"
)

// imageRoom is a cached session whose room has 100 messages and then three
// image attachments from a peer; the model built on it has the three
// images decoded already (as after their downloads), bounded to 24 × 6
// cells so all three fit a 160×48 screen.
func imageRoom(b *testing.B, mode string) *Model {
	es := synthRoom(b, 100, false)
	pngData := pngBytes(b, testPicture(96, 64))
	dec, err := render.DecodeImage(pngData, render.DefaultImageLimits)
	if err != nil {
		b.Fatal(err)
	}
	var ids []content.MessageID
	last := es[len(es)-1]
	for i := range 3 {
		part, _, err := content.SealAttachment(nil, pngData, content.AttachmentSpec{Filename: "pic" + itoa(i) + ".png"})
		if err != nil {
			b.Fatal(err)
		}
		part.URL = "http://127.0.0.1:1/blob" + itoa(i)
		sender := benchUsers[1+i]
		msg, err := (&content.Builder{Sender: sender, Room: benchRoom}).Attachment("image/png", part)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := msg.Encode()
		if err != nil {
			b.Fatal(err)
		}
		id, err := content.ComputeID(sender, benchRoom, raw)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
		es = append(es, session.Entry{Room: benchRoom, Seq: last.Seq + uint64(i) + 1, Time: last.Time.Add(time.Duration(i+1) * time.Minute),
			Sender: sender, Kind: proto.KindMessage, ID: id, Raw: raw})
	}
	dir := b.TempDir()
	opt := session.Options{Relay: "ws://127.0.0.1:1/v1", User: benchUsers[0], Token: "x", DataDir: dir}
	s, err := session.Open(opt)
	if err != nil {
		b.Fatal(err)
	}
	room := session.Room{ID: benchRoom, Name: "Big room", Topic: "images", Role: proto.RoleMember, State: "joined"}
	if _, err := s.Store().Commit(room, es); err != nil {
		b.Fatal(err)
	}
	s.Close() // opened again, it lists the room
	if s, err = session.Open(opt); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	m, err := New(Options{Session: s, Theme: "dark", History: 200, NoTick: true, Notify: "off", Images: mode, ImageCols: 24, ImageRows: 6,
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		b.Fatal(err)
	}
	m.w, m.h = 160, 48
	for _, id := range ids {
		m.img.items[imageKey{id, 0}] = &imageItem{state: render.ImageReady, pic: render.NewPicture(dec, 24, 6)}
	}
	return m
}

// tickle is a message the model ignores: Update then only composes the
// frame and runs afterFrame, as for any message.
type tickle struct{}

func benchImageFrame(b *testing.B, mode string, redraw bool) {
	m := imageRoom(b, mode)
	m.Update(tickle{}) // warm the caches: every row and each image's width
	if mode == ImagesKitty {
		if n := len(render.VisibleKittyIDs(m.frame)); n != 3 {
			b.Fatalf("%d kitty images on screen, want 3", n)
		}
	} else if got := strings.Count(m.frame, " png"); got != 3 {
		b.Fatalf("%d image captions on screen, want 3", got)
	}
	runtime.GC()
	b.ReportAllocs()
	cpu0, _ := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if redraw {
			m.pane.ok = false // the timeline pane is composed again, from the row cache
		}
		m.Update(tickle{})
	}
	reportCPU(b, cpu0)
}

// reportCPU adds the process CPU time per op since cpu0: on a shared
// machine a steadier figure than wall time.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu1, ok := processCPU(); ok {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
	}
}

// BenchmarkFrame160x48ThreeImages: a steady frame (Update of a message
// that changes nothing) with three images on screen.
func BenchmarkFrame160x48ThreeImages(b *testing.B) { benchImageFrame(b, ImagesBlocks, false) }

// BenchmarkFrame160x48ThreeImagesRedraw: the timeline pane composed again
// every frame (as when scrolling or a message arrives), its rows and the
// images' cells from the caches.
func BenchmarkFrame160x48ThreeImagesRedraw(b *testing.B) { benchImageFrame(b, ImagesBlocks, true) }

// BenchmarkFrame160x48ThreeImagesKittyRedraw: the same with kitty
// placeholders, including the scan of the frame for the images on screen.
func BenchmarkFrame160x48ThreeImagesKittyRedraw(b *testing.B) {
	benchImageFrame(b, ImagesKitty, true)
}
