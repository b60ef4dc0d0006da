package cli

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"mimichat/config"
)

// A blob's URL names the relay node that took the upload (the Host its
// uploader used). In a relay cluster every node serves every blob
// (docs/cluster.md), so when that node cannot be reached the client asks
// the same path of the other nodes it is configured with (client.relays).

// blobFailover is an http.RoundTripper: a GET of /v1/blobs/ID on one of
// the relay's nodes that fails to connect (no answer at all, not an HTTP
// error status) is tried on the other nodes, in the configured order.
type blobFailover struct {
	base  http.RoundTripper
	nodes []*url.URL // the relay's nodes as http(s) origins
}

// blobClient is the HTTP client attachments are fetched with: with several
// relay URLs, one that fails over between the nodes; else nil (the
// caller's default).
func blobClient(r config.Resolved) *http.Client {
	if len(r.Relays) == 0 {
		return nil
	}
	f := &blobFailover{base: http.DefaultTransport}
	for _, u := range append([]string{r.Relay}, r.Relays...) {
		p, err := url.Parse(u)
		if err != nil {
			continue
		}
		switch p.Scheme {
		case "ws":
			p.Scheme = "http"
		case "wss":
			p.Scheme = "https"
		}
		f.nodes = append(f.nodes, &url.URL{Scheme: p.Scheme, Host: p.Host})
	}
	return &http.Client{Transport: f}
}

func (f *blobFailover) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.base.RoundTrip(req)
	if err == nil || req.Method != http.MethodGet || !strings.HasPrefix(req.URL.Path, "/v1/blobs/") || req.Context().Err() != nil {
		return resp, err
	}
	origin := func(u *url.URL) bool { return u.Scheme == req.URL.Scheme && u.Host == req.URL.Host }
	if !slices.ContainsFunc(f.nodes, origin) {
		return resp, err // not one of our relay's nodes
	}
	for _, n := range f.nodes {
		if origin(n) {
			continue
		}
		alt := req.Clone(req.Context())
		alt.URL.Scheme, alt.URL.Host, alt.Host = n.Scheme, n.Host, ""
		if r, aerr := f.base.RoundTrip(alt); aerr == nil {
			return r, nil
		}
	}
	return nil, err
}
