package relay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/mls"
	"mimichat/proto"
)

const helloTimeout = 10 * time.Second

// serveWS upgrades, authenticates with the hello frame, then runs the
// connection until it ends.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader already answered
	}
	ws.SetReadLimit(int64(4 * s.cfg.MaxFrame))
	user, v, device, named, tokenHash, err := s.hello(ws, bearer(r))
	if err != nil {
		s.log.Info("connection refused", "remote", r.RemoteAddr, "err", err)
		ws.Close()
		return
	}
	if v >= e2eeVersion {
		// MLS handshakes of large rooms (a Welcome and a GroupInfo with
		// the ratchet tree) exceed max_frame: see conn.maxFrame.
		ws.SetReadLimit(int64(max(4*s.cfg.MaxFrame, s.cfg.MaxHandshakeFrame+4<<10)))
	}
	c := &conn{srv: s, ws: ws, user: user, v: v, device: device, named: named, queue: make(chan outItem, s.cfg.SendQueue+s.cfg.MaxInflight+16+2*replayTokens),
		queueMax: s.cfg.SendQueue + s.cfg.MaxInflight + 16,
		inflight: make(chan struct{}, s.cfg.MaxInflight), replays: make(chan struct{}, replayTokens),
		done: make(chan struct{}), rooms: map[*room]struct{}{},
		errs: errBudget{max: s.cfg.ErrorBudget, window: s.cfg.ErrorWindow},
		log:  s.log.With("user", user, "remote", r.RemoteAddr)}
	c.cork, _ = ws.NetConn().(*corkConn)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		refuseHello(ws, proto.CodeShuttingDown, "the relay is stopping")
		return
	}
	if ref := s.connLimit(user); ref != nil {
		s.mu.Unlock()
		s.metrics.rateLimited.Add(1)
		c.log.Info("connection refused", "reason", ref.reason)
		ef := errFrame(0, "", ref)
		ef.Fatal = true
		if v >= 4 {
			ef.RetryMS = uint64(ref.retry.Milliseconds())
		}
		writeRefusal(ws, ef)
		return
	}
	s.conns[c] = struct{}{}
	s.connTokens[c] = tokenHash
	s.userConns[user]++
	s.connWG.Add(1)
	s.mu.Unlock()
	defer s.connWG.Done()
	s.hub.users.add(c)
	defer s.hub.users.remove(c)

	c.log.Info("connected")
	c.send(&proto.Welcome{V: v, User: user, Domain: s.hub.domain, MaxFrame: uint64(s.cfg.MaxFrame),
		MaxContent: uint64(s.cfg.MaxContent), RatePerSec: rateOf(s.cfg.RatePerSec)})
	writerDone := make(chan struct{})
	go func() { c.writeLoop(); close(writerDone) }()
	c.readLoop()
	c.kill(websocket.CloseNormalClosure, "reader stopped")
	<-writerDone
	c.mu.Lock()
	rooms := make([]*room, 0, len(c.rooms))
	for r := range c.rooms {
		rooms = append(rooms, r)
	}
	c.mu.Unlock()
	s.hub.dropConn(c, rooms)
	s.mu.Lock()
	delete(s.conns, c)
	delete(s.connTokens, c)
	if s.userConns[user]--; s.userConns[user] <= 0 {
		delete(s.userConns, user)
	}
	s.mu.Unlock()
	c.log.Info("disconnected")
}

func rateOf(r float64) uint64 {
	if r < 0 {
		return 0
	}
	return uint64(r)
}

// hello reads the first frame and returns the authenticated user URI, the
// protocol version the connection speaks, the device the connection acts
// as (the one the token is bound to, or the hello named: version 5, checked
// to be the user's), the device the hello named and the token's hash (rechecked
// while the connection lives: watchTokens). On failure it has already
// sent a fatal error frame.
func (s *Server) hello(ws *websocket.Conn, headerToken string) (user string, v uint64, device, named string, tokenHash []byte, err error) {
	ws.SetReadDeadline(time.Now().Add(helloTimeout))
	mt, rd, err := ws.NextReader()
	if err != nil {
		return "", 0, "", "", nil, fmt.Errorf("no hello: %w", err)
	}
	data, tooBig, err := readFrame(rd, s.cfg.MaxFrame)
	if err != nil {
		return "", 0, "", "", nil, fmt.Errorf("no hello: %w", err)
	}
	var f proto.Frame
	if !tooBig && mt == websocket.BinaryMessage {
		f, err = proto.Decode(data)
	}
	h, ok := f.(*proto.Hello)
	switch {
	case !ok:
		var pe *proto.Error
		reason := "the first frame must be hello"
		if errors.As(err, &pe) {
			reason += " (" + pe.Error() + ")"
		}
		return "", 0, "", "", nil, refuseHello(ws, proto.CodeAuthRequired, reason)
	case h.V < proto.MinVersion || h.V > s.cfg.MaxVersion:
		return "", 0, "", "", nil, refuseHello(ws, proto.CodeUnsupportedVersion, fmt.Sprintf("relay speaks versions %d to %d, not %d", proto.MinVersion, s.cfg.MaxVersion, h.V))
	}
	token := h.Token
	if token == "" {
		token = headerToken
	}
	ctx, cancel := context.WithTimeout(context.Background(), helloTimeout)
	defer cancel()
	id, known, err := authenticate(ctx, s.db, token)
	if err != nil {
		return "", 0, "", "", nil, refuseHello(ws, proto.CodeInternal, "cannot check the token now")
	}
	if !known {
		return "", 0, "", "", nil, refuseHello(ws, proto.CodeAuthFailed, "unknown or missing token")
	}
	user = id.user
	if h.Device != "" {
		d, err := mls.ParseDeviceURI(h.Device)
		switch {
		case err != nil:
			return "", 0, "", "", nil, refuseHello(ws, proto.CodeBadField, fmt.Sprintf("device: %v", err))
		case d.UserURI() != user:
			return "", 0, "", "", nil, refuseHello(ws, proto.CodeForbidden, fmt.Sprintf("device %s is not a device of %s", h.Device, user))
		}
	}
	// A token stands for one device (per-device tokens, devicetokens.go).
	device, code, reason := bindDevice(ctx, s.db, hashToken(token), id, h.Device)
	if code != "" {
		return "", 0, "", "", nil, refuseHello(ws, code, reason)
	}
	ws.SetReadDeadline(time.Time{})
	return user, h.V, device, h.Device, hashToken(token), nil
}

// refuseHello writes a fatal error frame and a close message directly (the
// connection has no writer goroutine yet) and returns the refusal.
func refuseHello(ws *websocket.Conn, code proto.Code, reason string) error {
	writeRefusal(ws, &proto.ErrorFrame{Code: code, Reason: reason, Fatal: true})
	return fmt.Errorf("%s: %s", code, reason)
}

// writeRefusal writes a fatal error frame and a close message and closes.
func writeRefusal(ws *websocket.Conn, ef *proto.ErrorFrame) {
	data, _ := proto.Encode(ef)
	ws.SetWriteDeadline(time.Now().Add(time.Second))
	ws.WriteMessage(websocket.BinaryMessage, data)
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, string(ef.Code)))
	ws.Close()
}

// connRetry is what a client refused for too many connections is told to
// wait: a slot frees when a connection ends, which the relay cannot date.
const connRetry = 5 * time.Second

// connLimit refuses a connection over the per-user or total cap. Called
// with s.mu held.
func (s *Server) connLimit(user string) *refusal {
	switch {
	case s.cfg.MaxConns > 0 && len(s.conns) >= s.cfg.MaxConns:
		return rateLimited(connRetry, "the relay has its maximum of %d connections", s.cfg.MaxConns)
	case s.cfg.MaxConnsPerUser > 0 && s.userConns[user] >= s.cfg.MaxConnsPerUser:
		return rateLimited(connRetry, "at most %d connections per user", s.cfg.MaxConnsPerUser)
	}
	return nil
}
