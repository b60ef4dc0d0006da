package session

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mimichat/proto"
)

// Attachments (content-08 external parts) are encrypted by the sender and
// stored as blobs on the user's relay: POST /v1/blobs beside the websocket
// endpoint, answered with the blob's URL. docs/relay.md describes the store.

// UploadError is a blob upload the relay refused.
type UploadError struct {
	Status     int        // HTTP status
	Code       proto.Code // auth_failed, content_too_large, rate_limited, bad_field or internal
	Reason     string
	RetryAfter time.Duration // rate_limited: when the quota allows the upload again
}

func (e *UploadError) Error() string {
	return fmt.Sprintf("relay refused the upload: %s (HTTP %d): %s", e.Code, e.Status, e.Reason)
}

// uploadTimeout bounds an upload whose context has no deadline.
const uploadTimeout = 5 * time.Minute

var uploadClient = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment,
	ResponseHeaderTimeout: uploadTimeout}}

// Upload stores an encrypted attachment on the relay with this session's
// token and returns the URL to put in the message (it has the signature of
// ui.Options.Upload). The filename is not sent: the relay stores opaque
// bytes, and the name travels in the message. A refusal is *UploadError. It
// needs no websocket connection.
func (s *Session) Upload(ctx context.Context, filename string, ciphertext []byte) (string, error) {
	return UploadBlob(ctx, s.opts.Relay, s.helloToken(), ciphertext)
}

// BlobsURL is the blob endpoint of the relay at websocket URL relay:
// ws://HOST/v1 gives http://HOST/v1/blobs, wss gives https.
func BlobsURL(relay string) (string, error) {
	u, err := url.Parse(relay)
	if err != nil {
		return "", fmt.Errorf("session: relay URL %q: %w", relay, err)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("session: relay URL %q: scheme must be ws or wss", relay)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/blobs"
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// UploadBlob stores data on the relay at websocket URL relay with token and
// returns the blob's URL. A refusal is *UploadError.
func UploadBlob(ctx context.Context, relay, token string, data []byte) (string, error) {
	endpoint, err := BlobsURL(relay)
	if err != nil {
		return "", err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, uploadTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("session: upload: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := uploadClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("session: upload to %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("session: upload to %s: reading the answer: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", uploadRefusal(resp, body)
	}
	var info struct {
		URL    string `json:"url"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("session: upload to %s: bad answer: %w", endpoint, err)
	}
	sum := sha256.Sum256(data)
	if info.Size != int64(len(data)) || info.SHA256 != hex.EncodeToString(sum[:]) {
		return "", fmt.Errorf("session: upload to %s: the relay stored %d bytes with SHA-256 %s, not what was sent", endpoint, info.Size, info.SHA256)
	}
	if u, err := url.Parse(info.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("session: upload to %s: the relay answered a bad URL %q", endpoint, info.URL)
	}
	return info.URL, nil
}

func uploadRefusal(resp *http.Response, body []byte) error {
	e := &UploadError{Status: resp.StatusCode}
	var b struct {
		Code   proto.Code `json:"code"`
		Reason string     `json:"reason"`
	}
	if json.Unmarshal(body, &b) == nil && b.Code != "" {
		e.Code, e.Reason = b.Code, b.Reason
	} else {
		e.Code, e.Reason = proto.CodeInternal, strings.TrimSpace(string(body))
		if e.Reason == "" {
			e.Reason = resp.Status
		}
	}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return e
}
