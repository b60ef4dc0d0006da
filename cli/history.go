package cli

// mimichat export / import: a room's cached history to and from vCon (MIMI
// messages extension), CPIM (IMMI) and, import only, the first MIMI JSON
// format. Offline: both work on the local history cache.

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"mimichat/content"
	"mimichat/history"
	"mimichat/history/cache"
)

// parseSince accepts RFC 3339 or a duration back from now ("48h").
func parseSince(s string, now time.Time) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UnixMilli(), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UnixMilli(), nil
	}
	return 0, fmt.Errorf("%w: --since %q: want RFC 3339 (2026-03-01T12:00:00Z) or a duration (48h)", errUsage, s)
}

// parseThread takes the topic as text, or "b64:" + base64url for binary IDs.
func parseThread(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	if b, ok := strings.CutPrefix(s, "b64:"); ok {
		t, err := base64.RawURLEncoding.DecodeString(b)
		if err != nil {
			return nil, fmt.Errorf("%w: --thread %q: %v", errUsage, s, err)
		}
		return t, nil
	}
	return []byte(s), nil
}

// exportCommand is `mimichat export`.
func exportCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	room := fs.String("room", "", "room URI or local name")
	since := fs.String("since", "", "only history from this time (RFC 3339) or this long ago (48h)")
	thread := fs.String("thread", "", "only this thread (topic ID as text, or b64:BASE64URL)")
	format := fs.String("format", "", "vcon or cpim")
	embed := fs.Bool("embed-attachments", false, "download and embed attachments (vCon attachments with dialog_object_ref)")
	return func(c *call) error {
		if *room == "" || len(c.args) != 1 || (*format != "vcon" && *format != "cpim") {
			return fmt.Errorf("%w: need --room, --format vcon|cpim and one FILE", errUsage)
		}
		bulkGC()
		now := time.Now()
		sinceMs, err := parseSince(*since, now)
		if err != nil {
			return err
		}
		topic, err := parseThread(*thread)
		if err != nil {
			return err
		}
		st, r, err := cf.openCache()
		if err != nil {
			return err
		}
		defer st.Close()
		// The id exactly as an import printed it first (a foreign history's
		// room may be urn:uuid:…, tel:…), then a local name on the user's
		// domain.
		rid := *room
		_, ok, err := st.Room(rid)
		if err != nil {
			return err
		}
		if !ok {
			if rid, err = roomURI(*room, r.User); err != nil {
				return err
			}
			if _, ok, err = st.Room(rid); err != nil {
				return err
			}
		}
		if !ok {
			return fmt.Errorf("export: room %s is not in the history cache (open it with tail or the UI first)", rid)
		}
		// The room as the cache holds it, with what imports said of it and
		// its members (description, display names, roles).
		hroom, members, _, err := cache.Room(st, rid)
		if err != nil {
			return err
		}
		opts := history.ExportOptions{Format: history.Format(*format), Now: now.UnixMilli(), Since: sinceMs, Thread: topic, Members: members}
		if *embed {
			// Through the other relay nodes when the one a URL names is
			// down (client.relays; blobhosts.go), as the UI fetches.
			opts.Fetch = fetchAttachment(cf.timeout, blobClient(r))
		}
		out := c.out.data() // the file asked for, byte for byte (unless shown on a terminal)
		var f *os.File
		if name := c.args[0]; name != "-" {
			if f, err = os.CreateTemp(dirOf(name), ".mimichat-export-*"); err != nil {
				return err
			}
			defer os.Remove(f.Name())
			out = f
		}
		// The store is read once; the plan's second pass reads a spill
		// beside the output.
		spillDir := ""
		if f != nil {
			spillDir = dirOf(c.args[0])
		}
		src := cache.NewOnceSource(st, rid, spillDir)
		defer src.Close()
		rep, err := history.Export(out, hroom, src.Source(), opts)
		if err != nil {
			if f != nil {
				f.Close()
			}
			return err
		}
		if f != nil {
			if err := f.Close(); err != nil {
				return err
			}
			if err := os.Rename(f.Name(), c.args[0]); err != nil {
				return err
			}
		}
		// The report quotes the cache's text (reasons, kinds): sanitized.
		_, err = fmt.Fprint(c.err, rep)
		return err
	}
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// fetchAttachment downloads, verifies and decrypts an external part, with
// client (nil: a plain one).
func fetchAttachment(timeout time.Duration, client *http.Client) func(content.MessageID, int, *content.NestedPart) ([]byte, bool, error) {
	const maxBytes = 256 << 20
	if client == nil {
		client = &http.Client{}
	}
	client = &http.Client{Transport: client.Transport, Timeout: timeout}
	return func(_ content.MessageID, _ int, p *content.NestedPart) ([]byte, bool, error) {
		if p.Disposition == content.Session || !strings.HasPrefix(p.External.URL, "http") {
			return nil, false, nil // call links and non-HTTP URLs are not content
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.External.URL, nil)
		if err != nil {
			return nil, false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, false, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, false, fmt.Errorf("GET %s: %s", p.External.URL, resp.Status)
		}
		data, err := content.ReadAndDecrypt(p.External, resp.Body, maxBytes)
		return data, err == nil, err
	}
}

// importCommand is `mimichat import`.
func importCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	room := fs.String("room", "", "import into this room (default: the room the file names)")
	return func(c *call) error {
		if len(c.args) != 1 {
			return fmt.Errorf("%w: need one FILE", errUsage)
		}
		bulkGC()
		f, err := os.Open(c.args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		st, r, release, err := cf.lockCache()
		if err != nil {
			return err
		}
		defer release()
		rid := *room
		if rid != "" {
			if rid, err = roomURI(rid, r.User); err != nil {
				return err
			}
		}
		var in interface{ Read([]byte) (int, error) } = f
		if st, err := f.Stat(); err == nil && st.Size() > 1<<20 && isTerminal(c.err.raw()) {
			// The bar redraws its line with "\r": our own text, written raw.
			in = &history.ProgressReader{R: f, Total: st.Size(), Interval: 100 * time.Millisecond,
				Report: func(done, total int64) { drawProgress(c.err.raw(), done, total) }}
		}
		format, rep, res, err := cache.ImportFile(st, in, rid)
		if _, ok := in.(*history.ProgressReader); ok {
			fmt.Fprintln(c.err)
		}
		if err != nil {
			return fmt.Errorf("import %s (nothing was changed): %w", c.args[0], err)
		}
		// The room and the report come from the file: sanitized.
		newRoom := ""
		if res.NewRoom {
			newRoom = " (new local room)"
		}
		if err := c.out.printf("imported %s as %s into %s: %d entries added, %d already cached%s\n",
			c.args[0], format, res.Room, res.Imported, res.Duplicates, newRoom); err != nil {
			return err
		}
		_, err = fmt.Fprint(c.out, rep)
		return err
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func drawProgress(w io.Writer, done, total int64) {
	const width = 30
	n := int(done * width / max(total, 1))
	fmt.Fprintf(w, "\r[%s%s] %3d%% %.1f/%.1f MB", strings.Repeat("#", n), strings.Repeat(".", width-n),
		done*100/max(total, 1), float64(done)/1e6, float64(total)/1e6)
}
