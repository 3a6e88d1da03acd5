package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"digitpad/shared/protocol"
)

// SyncConfig configures a Syncer. Zero durations take the defaults noted.
type SyncConfig struct {
	// Server is the server's base URL (http://host:port or https://...); the websocket is Server + /v1/ws.
	Server string
	// Token is sent as "Authorization: Bearer" (feedback needs it unless the server runs with open feedback).
	Token string
	// ClientID names this kiosk to the server (X-Client-ID).
	ClientID string
	// Outbox holds the records to send (required).
	Outbox *Outbox
	// Backoff spaces reconnection attempts (default DefaultBackoff).
	Backoff Backoff
	// RetryAfter is how long a record the server could not store right now waits before it is resent
	// (default 2 s).
	RetryAfter time.Duration
	// AckTimeout: a record neither acknowledged nor refused this long after sending is sent again (default 30 s).
	AckTimeout time.Duration
	// ReadTimeout: a connection that brings no message and no ping for this long is given up (default 75 s,
	// 2.5 server ping intervals).
	ReadTimeout time.Duration
	// Logger receives sync events (default: discard).
	Logger *slog.Logger
	// OnStatus is called when the connection comes up or goes down.
	OnStatus func(online bool)
	// OnRefused is called with true when the server refuses records for the kiosk's credential (not enrolled,
	// revoked) and with false when it acknowledges one again.
	OnRefused func(refused bool)
	// OnOutbox is called after sync removed records from the outbox (acknowledged or rejected).
	OnOutbox func()
	// OnModel is called from the reading goroutine for each model announcement; it must not block.
	OnModel func(protocol.ModelAnnouncement)
	// Dialer opens websockets (default: websocket.DefaultDialer).
	Dialer *websocket.Dialer

	// sendHook, for tests, is called with "list" after the outbox was read and with "claimed" after a record
	// was claimed, before it is written to the server.
	sendHook func(stage, key string)
}

// Syncer sends the outbox to the server over the websocket and deletes each record only when the server
// acknowledges it (which the server does only after commit). Records carry idempotency keys, so resending
// after a lost ack never makes a duplicate: delivery is at-least-once on the wire, exactly-once in the store.
type Syncer struct {
	cfg    SyncConfig
	ws     string
	kick   chan struct{}
	reauth chan struct{} // a new credential: end the session and dial again at once

	mu    sync.Mutex
	token string
}

// NewSyncer checks the configuration.
func NewSyncer(cfg SyncConfig) (*Syncer, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("sync: no outbox")
	}
	ws, err := WebsocketURL(cfg.Server)
	if err != nil {
		return nil, err
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff = DefaultBackoff()
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 2 * time.Second
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 30 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 75 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dialer == nil {
		cfg.Dialer = websocket.DefaultDialer
	}
	return &Syncer{cfg: cfg, ws: ws, kick: make(chan struct{}, 1), reauth: make(chan struct{}, 1), token: cfg.Token}, nil
}

// SetToken replaces the credential (after enrolment): the connection is opened again with it at once.
func (s *Syncer) SetToken(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
	select {
	case s.reauth <- struct{}{}:
	default:
	}
}

func (s *Syncer) header() http.Header {
	hdr := http.Header{}
	s.mu.Lock()
	if s.token != "" {
		hdr.Set("Authorization", "Bearer "+s.token)
	}
	s.mu.Unlock()
	if s.cfg.ClientID != "" {
		hdr.Set("X-Client-ID", s.cfg.ClientID)
	}
	return hdr
}

// errReauth ends a session whose credential was replaced.
var errReauth = errors.New("new credential")

// WebsocketURL maps a server base URL to its /v1/ws websocket URL.
func WebsocketURL(server string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(server))
	if err != nil {
		return "", fmt.Errorf("server url %q: %w", server, err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("server url %q: want http:// or https://", server)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server url %q has no host", server)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/ws"
	return u.String(), nil
}

// Kick tells the syncer a new record is in the outbox.
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run keeps a connection to the server until ctx ends, reconnecting with backoff. It has no error to return:
// an unreachable server or a broken session is logged, reported through OnStatus and retried.
func (s *Syncer) Run(ctx context.Context) {
	attempt := 0
	for {
		select { // a credential set while disconnected is used by this dial
		case <-s.reauth:
		default:
		}
		conn, resp, err := s.cfg.Dialer.DialContext(ctx, s.ws, s.header())
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err == nil {
			attempt = 0
			s.status(true)
			s.cfg.Logger.Info("connected to server", "url", s.ws)
			err = s.session(ctx, conn)
			s.status(false)
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errReauth) {
			s.refused(false)
			continue
		}
		d := s.cfg.Backoff.Delay(attempt)
		attempt++
		s.cfg.Logger.Info("server unreachable, retrying", "err", err, "in", d.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-s.reauth:
			attempt = 0
		case <-time.After(d):
		}
	}
}

func (s *Syncer) status(online bool) {
	if s.cfg.OnStatus != nil {
		s.cfg.OnStatus(online)
	}
}

// session runs one connection: it sends every pending record, resends those whose ack is overdue or that the
// server asked to retry, and handles acks, errors and model announcements. It returns when the connection
// fails or ctx ends.
func (s *Syncer) session(ctx context.Context, c *websocket.Conn) error {
	defer c.Close()
	c.SetReadLimit(1 << 20)
	extend := func() { _ = c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout)) }
	extend()
	c.SetPingHandler(func(data string) error {
		extend()
		err := c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	done := make(chan struct{})
	defer close(done)
	incoming := make(chan *protocol.Envelope)
	readErr := make(chan error, 1)
	go func() {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				readErr <- err
				return
			}
			extend()
			env, err := protocol.DecodeEnvelope(msg)
			if err != nil {
				s.cfg.Logger.Warn("ignoring a malformed server message", "err", err)
				continue
			}
			select {
			case incoming <- env:
			case <-done:
				return
			}
		}
	}()

	sent := map[string]time.Time{}    // key -> when it was sent on this connection
	retryAt := map[string]time.Time{} // key -> when the server may take it again
	flush := func() error {
		recs, err := s.cfg.Outbox.List()
		if err != nil {
			return err
		}
		s.hook("list", "")
		now := time.Now()
		var due []int
		var keys []string
		for i := range recs {
			k := recs[i].IdempotencyKey
			if t, ok := retryAt[k]; ok && now.Before(t) {
				continue
			}
			if t, ok := sent[k]; ok && now.Sub(t) < s.cfg.AckTimeout {
				continue
			}
			due, keys = append(due, i), append(keys, k)
		}
		if len(due) == 0 {
			return nil
		}
		// Claimed before they are written: from here on the clerk can no longer withdraw them, and a record
		// withdrawn since List is not sent.
		ok, err := s.cfg.Outbox.ClaimAll(keys)
		if err != nil {
			return err
		}
		claimed := len(ok) > 0
		for _, i := range due {
			k := recs[i].IdempotencyKey
			if !ok[k] {
				continue
			}
			s.hook("claimed", k)
			env, err := protocol.NewEnvelope(protocol.TypeFeedback, k, &recs[i])
			if err != nil {
				return err
			}
			_ = c.SetWriteDeadline(now.Add(10 * time.Second))
			if err := c.WriteJSON(env); err != nil {
				return fmt.Errorf("send feedback: %w", err)
			}
			sent[k] = now
			delete(retryAt, k)
		}
		if claimed {
			s.outboxChanged()
		}
		return nil
	}
	if err := flush(); err != nil {
		return err
	}
	tick := time.NewTicker(s.cfg.RetryAfter / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return nil
		case err := <-readErr:
			return fmt.Errorf("connection lost: %w", err)
		case <-s.reauth:
			_ = c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return errReauth
		case <-s.kick:
			if err := flush(); err != nil {
				return err
			}
		case <-tick.C:
			if len(sent)+len(retryAt) == 0 {
				continue
			}
			if err := flush(); err != nil {
				return err
			}
		case env := <-incoming:
			if err := s.handle(env, sent, retryAt); err != nil {
				return err
			}
		}
	}
}

// handle processes one server message.
func (s *Syncer) handle(env *protocol.Envelope, sent, retryAt map[string]time.Time) error {
	switch env.Type {
	case protocol.TypeAck:
		var a protocol.Ack
		if err := json.Unmarshal(env.Data, &a); err != nil || a.IdempotencyKey == "" {
			s.cfg.Logger.Warn("ignoring a malformed ack", "id", env.ID)
			return nil
		}
		delete(sent, a.IdempotencyKey)
		if _, err := s.cfg.Outbox.Delete(a.IdempotencyKey); err != nil {
			return err
		}
		s.cfg.Logger.Debug("feedback acknowledged", "key", a.IdempotencyKey, "duplicate", a.Duplicate)
		s.refused(false)
		s.outboxChanged()
	case protocol.TypeError:
		var e protocol.Error
		_ = json.Unmarshal(env.Data, &e)
		if _, ok := sent[env.ID]; !ok {
			s.cfg.Logger.Warn("server error", "id", env.ID, "code", e.Code, "message", e.Message)
			return nil
		}
		delete(sent, env.ID)
		switch e.Code {
		case protocol.EInvalid, protocol.ETooLarge:
			// Resending cannot help; keep the record aside rather than blocking the queue forever.
			s.cfg.Logger.Error("server refused a feedback record", "key", env.ID, "code", e.Code, "message", e.Message)
			if _, err := s.cfg.Outbox.Reject(env.ID, e, time.Now().UTC()); err != nil {
				return err
			}
			s.outboxChanged()
		case protocol.EUnauthorized, protocol.EForbidden:
			s.cfg.Logger.Error("server refused the kiosk's credential; enrol it: type a code from `digitpad enroll` on its screen", "code", e.Code)
			s.refused(true)
			retryAt[env.ID] = time.Now().Add(max(30*time.Second, s.cfg.RetryAfter))
			// Refused before storing: this send is answered, and the clerk may withdraw the record again.
			if err := s.cfg.Outbox.Resolve(env.ID); err != nil {
				return err
			}
			s.outboxChanged()
		default:
			s.cfg.Logger.Info("server could not store feedback now, will resend", "key", env.ID, "code", e.Code)
			retryAt[env.ID] = time.Now().Add(s.cfg.RetryAfter)
		}
	case protocol.TypeModel:
		var a protocol.ModelAnnouncement
		if err := json.Unmarshal(env.Data, &a); err != nil {
			s.cfg.Logger.Warn("ignoring a malformed model announcement", "err", err)
			return nil
		}
		if s.cfg.OnModel != nil {
			s.cfg.OnModel(a)
		}
	}
	return nil
}

func (s *Syncer) hook(stage, key string) {
	if s.cfg.sendHook != nil {
		s.cfg.sendHook(stage, key)
	}
}

func (s *Syncer) refused(r bool) {
	if s.cfg.OnRefused != nil {
		s.cfg.OnRefused(r)
	}
}

func (s *Syncer) outboxChanged() {
	if s.cfg.OnOutbox != nil {
		s.cfg.OnOutbox()
	}
}
