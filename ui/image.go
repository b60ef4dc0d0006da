package ui

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
	"mimichat/render"
)

// Image attachments are shown inline. A row that shows one asks for it the
// first time it is rendered; the download, hash check, decryption and
// decode run in a tea.Cmd (at most two at a time) and come back as an
// imageMsg. Until then the row says it is loading; a refused image (a
// bomb, a bad hash) shows a card saying why.
//
// How images reach the terminal (images = auto): half blocks until the
// terminal answers a kitty graphics query (then kitty) or DA1 lists sixel
// (then sixel); inside tmux, half blocks, since whether tmux passes
// graphics through cannot be asked (images = kitty there wraps the
// sequences for tmux's passthrough).

// Image modes as the config and the flag name them.
const (
	ImagesAuto   = "auto"
	ImagesKitty  = "kitty"
	ImagesSixel  = "sixel"
	ImagesBlocks = "blocks"
	ImagesOff    = "off"
)

// maxImageItems bounds the images kept; past it the store starts over
// (rows on screen ask again).
const maxImageItems = 512

// imageStore is the state of every inline image the user has seen.
type imageStore struct {
	want       string           // the configured mode
	mode       render.ImageMode // the mode in effect
	tmux       bool
	asked      bool // the kitty query and DA1 were sent
	kittyReply bool // the terminal answered the kitty query
	cols, rows int  // thumbnail bounds
	ver        int  // changes when any image changes: part of the pane key

	items map[imageKey]*imageItem
	queue []imageJob    // images the last frame asked for
	slots chan struct{} // two downloads and decodes at a time

	// kitty: the IDs on screen in the last frame and the ones whose data
	// the terminal holds
	placed map[uint32]bool
	sent   map[uint32]bool
	pics   map[uint32]*render.Picture

	// sixel: where the images were drawn, the terminal's cell size (CSI
	// 16 t) and the generation a delayed draw belongs to
	drawn        []render.SixelSpot
	cellW, cellH int
	sixelGen     int
}

// sixelDrawMsg draws the sixel images of generation gen, one frame after
// the screen was repainted.
type sixelDrawMsg struct{ gen int }

type imageItem struct {
	state render.ImageState
	pic   *render.Picture
	note  string
}

// imageKey names one image attachment: the message version and the
// image's place among the message's images.
type imageKey struct {
	id content.MessageID
	n  int
}

type imageJob struct {
	id   imageKey
	part content.ExternalPart
}

// imageMsg is a finished download and decode.
type imageMsg struct {
	id  imageKey
	pic *render.Picture
	err error
}

func newImageStore(opt Options) imageStore {
	s := imageStore{want: opt.Images, cols: opt.ImageCols, rows: opt.ImageRows, tmux: os.Getenv("TMUX") != "" && !opt.Remote, // a booth visitor's terminal is not the host's tmux
		items: map[imageKey]*imageItem{}, slots: make(chan struct{}, 2),
		placed: map[uint32]bool{}, sent: map[uint32]bool{}, pics: map[uint32]*render.Picture{}}
	if s.cols <= 0 {
		s.cols = 40
	}
	if s.rows <= 0 {
		s.rows = 12
	}
	switch s.want {
	case ImagesOff:
		s.mode = render.ImageOff
	case ImagesKitty:
		s.mode = render.ImageKitty
	case ImagesSixel:
		s.mode = render.ImageSixel
	default: // auto starts with blocks
		s.want = cmpOr(s.want, ImagesAuto)
		s.mode = render.ImageBlocks
	}
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// detectImages asks the terminal what it can draw (images = auto, not in
// tmux): a kitty graphics query, then DA1. A terminal answers DA1 in order,
// so DA1's answer arriving without a kitty answer before it means no kitty.
func (m *Model) detectImages() tea.Cmd {
	s := &m.img
	if s.want != ImagesAuto || s.tmux || s.asked {
		return nil
	}
	s.asked = true
	return tea.Raw(render.KittyQuery + ansi.WindowOp(16) /* report the cell size in pixels */ + ansi.RequestPrimaryDeviceAttributes)
}

// onImageMsg handles a finished image and the terminal's answers to the
// detection queries.
func (m *Model) onImageMsg(msg tea.Msg) tea.Cmd {
	s := &m.img
	switch msg := msg.(type) {
	case imageMsg:
		it := s.items[msg.id]
		if it == nil {
			return nil // the store started over meanwhile
		}
		if msg.err != nil {
			it.state, it.note = render.ImageRefused, msg.err.Error()
		} else {
			it.state, it.pic = render.ImageReady, msg.pic
		}
		s.ver++
	case uv.KittyGraphicsEvent:
		if msg.Options.ID == render.KittyQueryID && s.want == ImagesAuto && !s.kittyReply {
			s.kittyReply = true
			if string(msg.Payload) == "OK" {
				s.mode = render.ImageKitty
				s.ver++
			}
		}
	case uv.PrimaryDeviceAttributesEvent:
		// no kitty answer came first: the terminal has no kitty graphics;
		// attribute 4 is sixel
		if s.want == ImagesAuto && !s.kittyReply && slices.Contains(msg, 4) {
			s.mode = render.ImageSixel
			s.ver++
		}
		s.kittyReply = true
	case uv.CellSizeEvent:
		if msg.Width > 0 && msg.Height > 0 && msg.Width <= 100 && msg.Height <= 200 {
			s.cellW, s.cellH = msg.Width, msg.Height
		}
	case sixelDrawMsg:
		if msg.gen == s.sixelGen {
			return s.sixelDraw()
		}
	}
	return nil
}

// inlineImages gives row rm the state of its image attachments (message
// version id, body), the first render.MaxInlineImages of them, asking for
// each image the first time.
func (m *Model) inlineImages(rm *render.Message, id content.MessageID, body *content.NestedPart) {
	s := &m.img
	if s.mode == render.ImageOff || (body.External == nil && len(body.Parts) == 0) {
		return
	}
	n := 0
	for _, rp := range content.Resolve(body, content.Prefs{Languages: m.opt.Languages}) {
		p := rp.Part
		if p.External == nil || rp.Disposition == content.Session || !render.IsImageType(p.ContentType) {
			continue
		}
		if n == render.MaxInlineImages {
			rm.ImagesMore++
			continue
		}
		k := imageKey{id, n}
		it := s.items[k]
		if it == nil {
			if len(s.items) >= maxImageItems {
				s.reset()
			}
			it = &imageItem{state: render.ImageLoading}
			s.items[k] = it
			s.queue = append(s.queue, imageJob{id: k, part: *p.External})
		}
		rm.Images[n] = render.InlineImage{State: it.state, Mode: s.mode, Pic: it.pic, Note: it.note}
		n++
	}
}

// reset forgets every image that is not loading.
func (s *imageStore) reset() {
	for id, it := range s.items {
		if it.state != render.ImageLoading {
			delete(s.items, id)
		}
	}
	s.ver++
}

// afterFrame is what the frame just composed needs: the downloads its
// rows asked for, and in kitty mode the images that came on screen
// (transmitted or placed again) and the ones that left it (placements
// deleted, so nothing stays behind).
func (m *Model) afterFrame() tea.Cmd {
	s := &m.img
	var cmds []tea.Cmd
	for _, j := range s.queue {
		cmds = append(cmds, fetchImage(m.opt.HTTP, s.slots, j, m.now(), s.cols, s.rows))
	}
	s.queue = s.queue[:0]
	if s.mode == render.ImageKitty || len(s.placed) > 0 {
		if seq := s.kittyDiff(m.frame); seq != "" {
			cmds = append(cmds, tea.Raw(seq))
		}
	}
	if s.mode == render.ImageSixel || len(s.drawn) > 0 {
		cmds = append(cmds, s.sixelDiff(m.frame))
	}
	return tea.Batch(cmds...)
}

// sixelDelay is how long after a frame its sixels are drawn: the renderer
// writes the frame on its own ticker (60 fps), and the images must come
// after the cells they cover.
const sixelDelay = 40 * time.Millisecond

// sixelDiff compares where the frame puts sixel images with where they
// were drawn. When they moved or left, the screen is repainted (sixel
// pixels are not cells: the renderer would leave them behind) and the
// images are drawn again after it; new ones are just drawn.
func (s *imageStore) sixelDiff(frame string) tea.Cmd {
	var spots []render.SixelSpot
	if s.mode == render.ImageSixel {
		spots = render.VisibleSixels(frame)
	}
	if slices.Equal(spots, s.drawn) {
		return nil
	}
	s.sixelGen++
	gen := s.sixelGen
	moved := false
	for _, d := range s.drawn {
		if !slices.Contains(spots, d) {
			moved = true
		}
	}
	s.drawn = spots
	var draw tea.Cmd
	if len(spots) > 0 {
		draw = tea.Tick(sixelDelay, func(time.Time) tea.Msg { return sixelDrawMsg{gen} })
	}
	if moved {
		return tea.Sequence(tea.ClearScreen, draw)
	}
	return draw
}

// sixelDraw draws every sixel image where the last frame put it, each
// between a cursor save and restore so the renderer's cursor stays.
func (s *imageStore) sixelDraw() tea.Cmd {
	var b strings.Builder
	for _, sp := range s.drawn {
		p := s.sixelPicture(sp.ID)
		if p == nil {
			continue
		}
		seq, ok := p.SixelSeq(sp.ID, sp.Row0, sp.Rows, s.cellW, s.cellH)
		if !ok {
			continue
		}
		b.WriteString(ansi.SaveCursor + ansi.CursorPosition(sp.X+1, sp.Y+1) + seq + ansi.RestoreCursor)
	}
	if b.Len() == 0 {
		return nil
	}
	return tea.Raw(b.String())
}

// sixelPicture finds the picture a sixel ID belongs to.
func (s *imageStore) sixelPicture(id uint32) *render.Picture {
	for _, it := range s.items {
		if it.pic != nil && it.pic.HasSixelID(id) {
			return it.pic
		}
	}
	return nil
}

// kittyDiff compares the kitty images in frame with the last frame's and
// returns the sequences that make the terminal match.
func (s *imageStore) kittyDiff(frame string) string {
	var seq string
	now := map[uint32]bool{}
	if s.mode == render.ImageKitty {
		for _, id := range render.VisibleKittyIDs(frame) {
			now[id] = true
		}
	}
	for id := range now {
		if s.placed[id] {
			continue
		}
		p := s.picture(id)
		if p == nil {
			continue
		}
		var part string
		var ok bool
		if s.sent[id] {
			part, ok = p.KittyPlace(id)
		} else {
			part, ok = p.KittyTransmit(id)
		}
		if ok {
			s.sent[id] = true
			seq += s.wrap(part)
		}
	}
	gone := make([]uint32, 0, len(s.placed))
	for id := range s.placed {
		if !now[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		seq += s.wrap(render.KittyHide(id))
	}
	s.placed = now
	return seq
}

// picture finds the picture a kitty ID belongs to.
func (s *imageStore) picture(id uint32) *render.Picture {
	if p, ok := s.pics[id]; ok {
		return p
	}
	for _, it := range s.items {
		if it.pic == nil {
			continue
		}
		for _, k := range it.pic.KittyIDs() {
			s.pics[k] = it.pic
		}
	}
	return s.pics[id]
}

// wrap passes a graphics sequence through tmux when inside it.
func (s *imageStore) wrap(seq string) string {
	if s.tmux {
		return ansi.TmuxPassthrough(seq)
	}
	return seq
}

// fetchImage downloads, checks and decrypts an image attachment
// (content.FetchAttachment: http(s) only, size, hash and AEAD tag), then
// decodes it within render.DefaultImageLimits and scales its preview.
func fetchImage(client *http.Client, slots chan struct{}, j imageJob, now time.Time, cols, rows int) tea.Cmd {
	return func() tea.Msg {
		slots <- struct{}{}
		defer func() { <-slots }()
		lim := render.DefaultImageLimits
		if j.part.Size > uint64(lim.MaxBytes) {
			return imageMsg{id: j.id, err: fmt.Errorf("%s is over the %d MiB image limit (o opens it)", sizeWords(j.part.Size), lim.MaxBytes>>20)}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		plain, err := content.FetchAttachment(ctx, client, &j.part, now, int64(lim.MaxBytes))
		if err != nil {
			return imageMsg{id: j.id, err: explainAttachError(err)}
		}
		pic, err := render.DecodePicture(plain, lim, cols, rows)
		if err != nil {
			return imageMsg{id: j.id, err: err}
		}
		return imageMsg{id: j.id, pic: pic}
	}
}

func sizeWords(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// freeAll is the sequence that deletes every kitty image sent, with its
// data (on quit; the terminal would otherwise keep it until it needs the
// memory).
func (s *imageStore) freeAll() string {
	ids := make([]uint32, 0, len(s.sent))
	for id := range s.sent {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(s.wrap(render.KittyFree(id)))
	}
	return b.String()
}
