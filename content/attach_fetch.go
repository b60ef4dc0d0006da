package content

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// FetchAttachment downloads part's ciphertext with client (nil:
// http.DefaultClient) and returns the plaintext: the URL must pass
// DownloadURL at now, at most min(part.Size, maxBytes) bytes are read, and
// the hash is checked before decrypting. Errors wrap ErrURL, ErrExpired,
// ErrTooLarge, ErrSizeMismatch, ErrHashMismatch or ErrDecrypt where those
// apply, so callers can explain them.
func FetchAttachment(ctx context.Context, client *http.Client, part *ExternalPart, now time.Time, maxBytes int64) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	u, err := DownloadURL(part, now.Unix())
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download from %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download from %s: %s", u.Host, resp.Status)
	}
	return ReadAndDecrypt(part, resp.Body, maxBytes)
}
