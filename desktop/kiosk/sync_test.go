package kiosk_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"digitpad/desktop/kiosk"
	"digitpad/shared/protocol"
)

// fakeServer speaks the server's websocket protocol for feedback: it stores each record once per idempotency
// key and acknowledges it, and can misbehave on request.
type fakeServer struct {
	t *testing.T

	mu        sync.Mutex
	stored    map[string]protocol.Feedback
	received  int // feedback messages, resends included
	conns     int
	headers   []http.Header
	dropAfter int               // connections to cut after storing a record but before acking it
	refuse    map[string]string // key -> error code to answer once instead of storing
	announce  *protocol.ModelAnnouncement
	gate      chan struct{} // when set, acks wait for it to close
	arrived   chan struct{} // signalled after each received feedback message
}

func newFakeServer(t *testing.T) *fakeServer {
	return &fakeServer{t: t, stored: map[string]protocol.Feedback{}, refuse: map[string]string{},
		arrived: make(chan struct{}, 1000)}
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/ws" {
		http.NotFound(w, r)
		return
	}
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	f.mu.Lock()
	f.conns++
	f.headers = append(f.headers, r.Header.Clone())
	ann := f.announce
	f.mu.Unlock()
	if ann != nil {
		env, _ := protocol.NewEnvelope(protocol.TypeModel, "", ann)
		_ = c.WriteJSON(env)
	}
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		env, err := protocol.DecodeEnvelope(msg)
		if err != nil || env.Type != protocol.TypeFeedback {
			f.t.Errorf("fake server got %s (%v), want feedback", msg, err)
			return
		}
		var fb protocol.Feedback
		if err := json.Unmarshal(env.Data, &fb); err != nil {
			f.t.Errorf("fake server: bad feedback: %v", err)
			return
		}
		f.mu.Lock()
		f.received++
		code, refuse := f.refuse[fb.IdempotencyKey]
		delete(f.refuse, fb.IdempotencyKey)
		_, dup := f.stored[fb.IdempotencyKey]
		if !refuse && !dup {
			f.stored[fb.IdempotencyKey] = fb
		}
		drop := !refuse && f.dropAfter > 0
		if drop {
			f.dropAfter--
		}
		gate := f.gate
		f.mu.Unlock()
		f.arrived <- struct{}{}
		if refuse {
			reply, _ := protocol.NewEnvelope(protocol.TypeError, env.ID, protocol.Error{Code: code, Message: "refused by test"})
			_ = c.WriteJSON(reply)
			continue
		}
		if drop {
			return // committed, but the ack is lost with the connection
		}
		if gate != nil {
			<-gate
		}
		reply, _ := protocol.NewEnvelope(protocol.TypeAck, env.ID,
			protocol.Ack{IdempotencyKey: fb.IdempotencyKey, FeedbackID: "fb-" + fb.IdempotencyKey, Duplicate: dup})
		if err := c.WriteJSON(reply); err != nil {
			return
		}
	}
}

func (f *fakeServer) snapshot() (stored, received, conns int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.stored), f.received, f.conns
}

// syncRig runs a Syncer against a server URL with fast backoff and reports status changes.
type syncRig struct {
	outbox *kiosk.Outbox
	online chan bool
	cancel context.CancelFunc
	done   chan struct{}
}

func startSync(t *testing.T, server string, mod func(*kiosk.SyncConfig), recs ...protocol.Feedback) *syncRig {
	t.Helper()
	o := mustOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	for _, r := range recs {
		if err := o.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	rig := &syncRig{outbox: o, online: make(chan bool, 100), done: make(chan struct{})}
	cfg := kiosk.SyncConfig{
		Server: server, Token: "secret", ClientID: "kiosk-7", Outbox: o,
		Backoff:    kiosk.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		RetryAfter: 40 * time.Millisecond,
		OnStatus:   func(on bool) { rig.online <- on },
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := kiosk.NewSyncer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rig.cancel = cancel
	go func() { defer close(rig.done); s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-rig.done
		_ = o.Close()
	})
	return rig
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pending(t *testing.T, o *kiosk.Outbox) int {
	t.Helper()
	n, err := o.Len()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSync_DeletesARecordOnlyWhenAcknowledged(t *testing.T) {
	fs := newFakeServer(t)
	fs.gate = make(chan struct{})
	srv := httptest.NewServer(fs)
	defer srv.Close()
	rig := startSync(t, srv.URL, nil, record("a", "80331"), record("b", "10115"))

	<-fs.arrived // the first record is committed on the server, its ack held back
	time.Sleep(50 * time.Millisecond)
	if n := pending(t, rig.outbox); n != 2 {
		t.Errorf("pending = %d before any ack, want 2", n)
	}
	close(fs.gate)
	eventually(t, "an empty outbox", func() bool { return pending(t, rig.outbox) == 0 })
	if stored, _, _ := fs.snapshot(); stored != 2 {
		t.Errorf("server stored %d records, want 2", stored)
	}
	fs.mu.Lock()
	h := fs.headers[0]
	fs.mu.Unlock()
	if got := h.Get("Authorization"); got != "Bearer secret" {
		t.Errorf("Authorization = %q, want Bearer secret", got)
	}
	if got := h.Get("X-Client-ID"); got != "kiosk-7" {
		t.Errorf("X-Client-ID = %q, want kiosk-7", got)
	}
}

func TestSync_LostAckIsResentAndStoredOnce(t *testing.T) {
	fs := newFakeServer(t)
	fs.dropAfter = 2
	srv := httptest.NewServer(fs)
	defer srv.Close()
	rig := startSync(t, srv.URL, nil, record("a", "80331"), record("b", "10115"), record("c", "47110"))

	eventually(t, "an empty outbox", func() bool { return pending(t, rig.outbox) == 0 })
	stored, received, conns := fs.snapshot()
	if stored != 3 {
		t.Errorf("server stored %d records, want exactly 3", stored)
	}
	if received < 5 || conns < 3 {
		t.Errorf("server received %d messages on %d connections, want resends after 2 cut connections", received, conns)
	}
}

func TestSync_ServerBusyRecordIsRetried(t *testing.T) {
	fs := newFakeServer(t)
	fs.refuse["a"] = protocol.EOverloaded
	srv := httptest.NewServer(fs)
	defer srv.Close()
	rig := startSync(t, srv.URL, nil, record("a", "80331"))
	eventually(t, "an empty outbox", func() bool { return pending(t, rig.outbox) == 0 })
	if stored, received, _ := fs.snapshot(); stored != 1 || received != 2 {
		t.Errorf("stored %d after %d sends, want 1 after 2", stored, received)
	}
}

func TestSync_InvalidRecordIsSetAside(t *testing.T) {
	fs := newFakeServer(t)
	fs.refuse["bad"] = protocol.EInvalid
	srv := httptest.NewServer(fs)
	defer srv.Close()
	rig := startSync(t, srv.URL, nil, record("bad", "80331"), record("good", "10115"))
	eventually(t, "an empty outbox", func() bool { return pending(t, rig.outbox) == 0 })
	rej, err := rig.outbox.RejectedRecords()
	if err != nil || len(rej) != 1 || rej[0].Feedback.IdempotencyKey != "bad" {
		t.Errorf("rejected = %+v, %v; want the bad record kept aside", rej, err)
	}
	if stored, _, _ := fs.snapshot(); stored != 1 {
		t.Errorf("server stored %d, want 1", stored)
	}
}

func TestSync_ReconnectsWithBackoffUntilTheServerIsUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: dials are refused

	var mu sync.Mutex
	var dials []time.Time
	dialer := &websocket.Dialer{
		HandshakeTimeout: time.Second,
		NetDialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			mu.Lock()
			dials = append(dials, time.Now())
			mu.Unlock()
			return (&net.Dialer{}).DialContext(ctx, network, a)
		},
	}
	rig := startSync(t, "http://"+addr, func(c *kiosk.SyncConfig) { c.Dialer = dialer }, record("a", "80331"))
	eventually(t, "four refused dials", func() bool { mu.Lock(); defer mu.Unlock(); return len(dials) >= 4 })
	select {
	case <-rig.online:
		t.Fatal("went online with no server")
	default:
	}
	mu.Lock()
	first, last := dials[1].Sub(dials[0]), dials[3].Sub(dials[2])
	mu.Unlock()
	if first < 10*time.Millisecond {
		t.Errorf("first retry after %v, want the backoff minimum's half (10ms) or more", first)
	}
	if last < 40*time.Millisecond {
		t.Errorf("third retry after %v, want >= 40ms: the backoff does not grow", last)
	}

	fs := newFakeServer(t)
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("cannot listen on %s again: %v", addr, err)
	}
	srv := &http.Server{Handler: fs}
	go srv.Serve(ln)
	defer srv.Close()
	select {
	case on := <-rig.online:
		if !on {
			t.Fatal("status went offline, want online")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not reconnect once the server was up")
	}
	eventually(t, "the record delivered", func() bool { return pending(t, rig.outbox) == 0 })
}

func TestWebsocketURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://10.0.0.5:8080", "ws://10.0.0.5:8080/v1/ws"},
		{"https://pads.example.org/", "wss://pads.example.org/v1/ws"},
		{"http://host/digitpad", "ws://host/digitpad/v1/ws"},
	}
	for _, tc := range tests {
		if got, err := kiosk.WebsocketURL(tc.in); err != nil || got != tc.want {
			t.Errorf("WebsocketURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := kiosk.WebsocketURL(bad); err == nil {
			t.Errorf("WebsocketURL(%q) gave no error", bad)
		}
	}
}
