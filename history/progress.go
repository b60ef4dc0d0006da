package history

import (
	"io"
	"time"
)

// ProgressReader reports how far a large import has read, at most every
// Interval, so a CLI or UI can draw a progress bar.
type ProgressReader struct {
	R        io.Reader
	Total    int64 // bytes; 0 = unknown
	Interval time.Duration
	Report   func(done, total int64)
	done     int64
	last     time.Time
}

func (p *ProgressReader) Read(b []byte) (int, error) {
	n, err := p.R.Read(b)
	p.done += int64(n)
	if now := time.Now(); now.Sub(p.last) >= p.Interval || err == io.EOF {
		p.last = now
		p.Report(p.done, p.Total)
	}
	return n, err
}
