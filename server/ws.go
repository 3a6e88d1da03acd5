package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"digitpad/shared/protocol"
)

const (
	wsWriteWait   = 10 * time.Second
	wsSendBuffer  = 256 // queued outgoing messages per connection
	wsMaxInFlight = 64  // messages one connection may have in processing at once (at most the admission floor)
)

// wsHub tracks open connections for announcements and shutdown.
type wsHub struct {
	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	reserved int // connections counted against Config.MaxWebsockets: open ones and upgrades under way
	closing  bool
	wg       sync.WaitGroup
}

func newWSHub() *wsHub { return &wsHub{conns: make(map[*wsConn]struct{})} }

func (h *wsHub) add(c *wsConn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	return true
}

// reserve counts a new connection against max before its upgrade; false means the cap is reached.
func (h *wsHub) reserve(max int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reserved >= max {
		return false
	}
	h.reserved++
	return true
}

// unreserve gives back a reservation whose connection never joined the hub.
func (h *wsHub) unreserve() {
	h.mu.Lock()
	h.reserved--
	h.mu.Unlock()
}

func (h *wsHub) remove(c *wsConn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.reserved--
	h.mu.Unlock()
	h.wg.Done()
}

// broadcastFor sends each connection the announcement of its model (production, or the candidate for canary
// clients); messages are encoded once per distinct announcement.
func (h *wsHub) broadcastFor(model func(c *wsConn) *protocol.ModelAnnouncement) {
	h.mu.Lock()
	defer h.mu.Unlock()
	encoded := map[protocol.ModelAnnouncement][]byte{}
	for c := range h.conns {
		a := model(c)
		if a == nil {
			continue
		}
		msg, ok := encoded[*a]
		if !ok {
			var err error
			if msg, err = marshalEnvelope(protocol.TypeModel, "", a); err != nil {
				continue
			}
			encoded[*a] = msg
		}
		c.trySend(msg)
	}
}

// count is how many open connections satisfy pred.
func (h *wsHub) count(pred func(c *wsConn) bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for c := range h.conns {
		if pred(c) {
			n++
		}
	}
	return n
}

// shutdown asks every connection to stop reading, finish its in-flight messages and close with 1001; when ctx
// ends first the remaining connections are closed at once.
func (h *wsHub) shutdown(ctx context.Context) {
	h.mu.Lock()
	h.closing = true
	for c := range h.conns {
		c.goAway()
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		h.mu.Lock()
		for c := range h.conns {
			_ = c.ws.Close()
		}
		h.mu.Unlock()
		<-done
	}
}

// wsConn is one websocket client: a reader goroutine dispatching messages to per-message goroutines (at most
// wsConnInFlight), and a writer goroutine owning all writes (gorilla allows one concurrent writer).
type wsConn struct {
	s        *Server
	ws       *websocket.Conn
	log      *slog.Logger
	authed   bool
	device   string // an enrolled device's credential, re-checked per feedback record
	clientID string
	identity string // rate-limit and fair-queuing key, shared with the client's HTTP requests

	send     chan []byte
	dead     chan struct{} // closed when the writer can no longer write
	finish   chan struct{} // closed when the reader and all in-flight work are done
	sem      chan struct{}
	inflight sync.WaitGroup
	leaving  atomic.Bool // server shutdown: close with 1001
	ctx      context.Context
	cancel   context.CancelFunc
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		writeJSONError(w, apiErr(protocol.EUnavailable, "server is shutting down"))
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		writeJSONError(w, apiErr(protocol.EInvalid, "this endpoint speaks websocket only"))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !s.originAllowed(origin, r.Host) {
		s.metrics.reject(protocol.EForbidden)
		writeJSONError(w, apiErr(protocol.EForbidden, "origin "+origin+" is not allowed"))
		return
	}
	// Browsers cannot set headers on a websocket, so the token may also come as ?access_token=.
	authed := s.validToken(r.Header.Get("Authorization")) || s.validToken("Bearer "+r.URL.Query().Get("access_token"))
	// An enrolled device's credential: Authorization (kiosk) or the subprotocol digitpad.bearer.<c> (browser).
	devCred := wsSubprotocolCredential(r)
	if c, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && devCred == "" && !authed {
		devCred = strings.TrimSpace(c)
	}
	if !authed && devCred != "" && !s.validDevice(r.Context(), devCred) {
		devCred = "" // unknown or revoked: the connection may still predict, feedback is refused
	}
	if !s.cfg.OpenPredict && !s.cfg.OpenFeedback && !authed && devCred == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="digitpad"`)
		writeJSONError(w, apiErr(protocol.EUnauthorized, "missing or invalid bearer token"))
		return
	}
	up := websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 4096,
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      func(*http.Request) bool { return true }, // checked above, with a JSON error
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeJSONError(w, &APIError{Status: status, Code: codeOf(status), Message: reason.Error()})
		},
	}
	if !s.hub.reserve(s.cfg.MaxWebsockets) {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(1, s.cfg.RetryAfter/time.Second))))
		writeJSONError(w, apiErr(protocol.EOverloaded, fmt.Sprintf("too many websocket connections (%d), retry later",
			s.cfg.MaxWebsockets)))
		return
	}
	up.Subprotocols = []string{"digitpad"}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.hub.unreserve()
		return // Upgrade already answered
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &wsConn{
		s: s, ws: ws, authed: authed, device: devCred, clientID: wsClientID(r),
		log:  s.log.With("request_id", requestID(r.Context()), "remote", r.RemoteAddr),
		send: make(chan []byte, wsSendBuffer), dead: make(chan struct{}), finish: make(chan struct{}),
		sem: make(chan struct{}, wsConnInFlight(s.cfg.MaxInFlight)), ctx: ctx, cancel: cancel,
	}
	if len(c.clientID) > s.cfg.Limits.MaxIDLen {
		c.clientID = ""
	}
	c.identity = s.clientIdentity(r, bearerToken(r, true)) // rate limit and fair admission
	if !s.hub.add(c) {
		s.hub.unreserve()
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = ws.Close()
		cancel()
		return
	}
	s.metrics.wsConnections.Inc()
	ws.SetReadLimit(int64(s.cfg.Limits.MaxMessageBytes))
	if a := s.announcementFor(c.clientID); a != nil {
		if msg, err := marshalEnvelope(protocol.TypeModel, "", a); err == nil {
			c.trySend(msg)
		}
	}
	go c.writeLoop()
	go c.readLoop()
}

// wsClientID is the connection's client id: the X-Client-ID header (kiosks), else ?client_id= (browsers cannot
// set headers on a websocket).
func wsClientID(r *http.Request) string {
	if id := r.Header.Get("X-Client-ID"); id != "" {
		return id
	}
	return r.URL.Query().Get("client_id")
}

// wsConnInFlight is how many messages one connection may have in work or queued for admission: wsMaxInFlight,
// but no more than the admission slots, so that a lone client pipelining predictions is slowed by backpressure
// (the reader stops reading) rather than filling the admission queue by itself.
func wsConnInFlight(maxInFlight int) int {
	return max(1, min(wsMaxInFlight, maxInFlight))
}

// originAllowed accepts the server's own origin, listed origins, or any with "*".
func (s *Server) originAllowed(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

func (c *wsConn) readLoop() {
	defer func() {
		c.inflight.Wait()
		close(c.finish)
	}()
	pongWait := 2 * c.s.cfg.PingInterval
	extend := func() {
		if !c.leaving.Load() {
			_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		}
	}
	extend()
	c.ws.SetPongHandler(func(string) error { extend(); return nil })
	for {
		typ, msg, release, err := c.s.readMessage(c.ctx, c.ws)
		if errors.Is(err, errBodyBudget) { // the rest of the message was skipped; the connection goes on
			extend()
			c.sendError("", protocol.Errorf(protocol.EOverloaded, "server busy receiving other messages, retry later"))
			continue
		}
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.s.metrics.reject(protocol.ETooLarge)
			}
			if !c.leaving.Load() && !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) &&
				!errors.Is(err, net.ErrClosed) {
				c.log.Debug("websocket read ended", "err", err)
			}
			return
		}
		extend()
		if typ != websocket.TextMessage {
			release()
			c.sendError("", protocol.Errorf(protocol.EInvalid, "send JSON text messages"))
			continue
		}
		c.handle(msg, release)
	}
}

// handle dispatches one message; release gives its bytes back to the body budget once it is done with.
func (c *wsConn) handle(msg []byte, release func()) {
	async := false
	defer func() {
		if !async {
			release()
		}
	}()
	env, err := protocol.DecodeEnvelope(msg)
	if err != nil {
		id := ""
		if env != nil {
			id = env.ID
		}
		c.s.metrics.wsMessages.WithLabelValues("malformed").Inc()
		c.sendError(id, err)
		return
	}
	switch env.Type {
	case protocol.TypePredict, protocol.TypeFeedback:
		c.s.metrics.wsMessages.WithLabelValues(env.Type).Inc()
	default:
		c.s.metrics.wsMessages.WithLabelValues("unknown").Inc()
		c.sendError(env.ID, protocol.Errorf(protocol.EInvalid, "unknown message type %q", env.Type))
		return
	}
	if c.s.limiter != nil {
		if ok, _ := c.s.limiter.allow(c.identity, time.Now()); !ok {
			c.sendError(env.ID, protocol.Errorf(protocol.ERateLimited, "too many requests from this client, slow down"))
			return
		}
	}
	c.sem <- struct{}{} // backpressure: the reader stops reading while wsConnInFlight messages are in work
	c.inflight.Add(1)
	async = true
	go func() {
		defer release()
		defer func() {
			if p := recover(); p != nil {
				c.log.Error("panic handling websocket message", "type", env.Type, "panic", p)
				c.sendError(env.ID, protocol.Errorf(protocol.EInternal, "internal error"))
			}
			<-c.sem
			c.inflight.Done()
		}()
		switch env.Type {
		case protocol.TypePredict:
			c.predict(env)
		case protocol.TypeFeedback:
			c.feedback(env)
		}
	}()
}

func (c *wsConn) predict(env *protocol.Envelope) {
	if !c.s.cfg.OpenPredict && !c.authed {
		c.sendError(env.ID, protocol.Errorf(protocol.EUnauthorized, "prediction needs the bearer token"))
		return
	}
	done, ok := c.s.admit.acquire(c.ctx, c.identity)
	if !ok {
		c.sendError(env.ID, protocol.Errorf(protocol.EOverloaded, "server overloaded: too many predictions in flight, retry later"))
		return
	}
	defer done()
	var req protocol.Predict
	if err := json.Unmarshal(env.Data, &req); err != nil {
		c.sendError(env.ID, protocol.Errorf(protocol.EInvalid, "malformed predict data: %v", err))
		return
	}
	ctx := c.ctx
	if a := c.s.canaryModel(c.clientID); a != nil {
		ctx = withModel(ctx, a.activeModel) // a canary client: the candidate answers
	}
	p, err := c.s.predictRequest(ctx, &req, c.clientID)
	if err != nil {
		c.sendError(env.ID, err)
		return
	}
	c.reply(protocol.TypePrediction, env.ID, p)
}

func (c *wsConn) feedback(env *protocol.Envelope) {
	// A device's credential is checked again on every record, so a revocation takes effect at once.
	if !c.s.cfg.OpenFeedback && !c.authed && (c.device == "" || !c.s.validDevice(c.ctx, c.device)) {
		c.sendError(env.ID, protocol.Errorf(protocol.EUnauthorized, "feedback needs the bearer token"))
		return
	}
	var f protocol.Feedback
	if err := json.Unmarshal(env.Data, &f); err != nil {
		c.sendError(env.ID, protocol.Errorf(protocol.EInvalid, "malformed feedback data: %v", err))
		return
	}
	ack, err := c.s.saveFeedback(c.ctx, &f)
	if err != nil {
		c.sendError(env.ID, err)
		return
	}
	c.reply(protocol.TypeAck, env.ID, ack)
}

func (c *wsConn) reply(typ, id string, data any) {
	msg, err := marshalEnvelope(typ, id, data)
	if err != nil {
		c.sendError(id, err)
		return
	}
	c.enqueue(msg)
}

func (c *wsConn) sendError(id string, err error) {
	ae := fromProtocol(err)
	c.s.metrics.reject(ae.Code)
	msg, merr := marshalEnvelope(protocol.TypeError, id, protocol.Error{Code: ae.Code, Message: ae.Message})
	if merr != nil {
		return
	}
	c.enqueue(msg)
}

// enqueue waits for room in the send buffer (the reader is throttled meanwhile) unless the writer is gone.
func (c *wsConn) enqueue(msg []byte) {
	select {
	case c.send <- msg:
	case <-c.dead:
	}
}

// trySend never blocks: announcements to a stalled client are dropped rather than stalling the broadcaster.
func (c *wsConn) trySend(msg []byte) {
	select {
	case c.send <- msg:
	default:
		c.log.Warn("websocket send buffer full, message dropped")
	}
}

// goAway stops the reader; the writer then sends 1001 once in-flight replies are out.
func (c *wsConn) goAway() {
	c.leaving.Store(true)
	if tcp, ok := c.ws.NetConn().(*net.TCPConn); ok {
		_ = tcp.CloseRead()
	}
	_ = c.ws.SetReadDeadline(time.Now())
}

func (c *wsConn) writeLoop() {
	ping := time.NewTicker(c.s.cfg.PingInterval)
	defer func() {
		ping.Stop()
		_ = c.ws.Close()
		c.cancel()
		c.s.metrics.wsConnections.Dec()
		c.s.hub.remove(c)
	}()
	write := func(msg []byte) bool {
		_ = c.ws.SetWriteDeadline(time.Now().Add(wsWriteWait))
		if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
			close(c.dead)
			_ = c.ws.Close() // unblocks the reader
			return false
		}
		return true
	}
	for {
		select {
		case msg := <-c.send:
			if !write(msg) {
				<-c.finish
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				close(c.dead)
				_ = c.ws.Close()
				<-c.finish
				return
			}
		case <-c.finish:
			for {
				select {
				case msg := <-c.send:
					if !write(msg) {
						return
					}
					continue
				default:
				}
				break
			}
			code, text := websocket.CloseNormalClosure, ""
			if c.leaving.Load() {
				code, text = websocket.CloseGoingAway, "server shutting down"
			}
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
				time.Now().Add(time.Second))
			return
		}
	}
}

func marshalEnvelope(typ, id string, data any) ([]byte, error) {
	env, err := protocol.NewEnvelope(typ, id, data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(env)
}
