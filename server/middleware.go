package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"digitpad/shared/protocol"
)

// instrument is the outermost middleware: request ids, panic recovery, metrics and logs.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(requestIDHeader)
		if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			id = s.newRequestID()
		}
		w.Header()[requestIDHeader] = []string{id} // the key in canonical form: Set would canonicalise it per request
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "request_id", id, "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !sw.wrote {
					writeJSONError(sw, apiErr(protocol.EInternal, "internal error (request id "+id+")"))
				}
			}
			s.observe(r, sw, id, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}

func (s *Server) observe(r *http.Request, sw *statusWriter, id string, took time.Duration) {
	status := sw.status
	switch {
	case sw.hijacked:
		status = http.StatusSwitchingProtocols
	case status == 0:
		status = http.StatusOK
	}
	// The label is the mux pattern, never the path, so scanners cannot blow up the cardinality: unknown paths
	// fall under the catch-all "/". r.Pattern is set by the ServeMux on this same *http.Request; requests refused
	// before routing (rate limit, admission) are looked up.
	route := r.Pattern
	if route == "" && !sw.hijacked {
		_, route = s.mux.Handler(r)
	}
	if route == "" {
		route = "unmatched"
	}
	s.metrics.observeRequest(route, status, took)
	if status >= 400 {
		s.metrics.reject(rejectReason(status, sw.Header()))
	}
	level := slog.LevelDebug
	switch {
	case status == http.StatusServiceUnavailable && sw.Header().Get("Retry-After") != "" && isPrediction(r):
		// Load shedding is the server working as designed and is counted in the metrics: one warning a second
		// sums it up, instead of an error line per refused request (thousands a second in a burst, written
		// exactly when the CPU is short).
		s.shed.note(s.log, time.Now())
	case status >= 500:
		level = slog.LevelError
	}
	if s.log.Enabled(r.Context(), level) {
		s.log.LogAttrs(r.Context(), level, "request", slog.String("request_id", id),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
			slog.Duration("took", took), slog.String("remote", r.RemoteAddr))
	}
}

// rejectReason recovers the error code from a status: huma's own 422s are remapped to 400, so a 422 is no_ink,
// and a 503 with Retry-After is a full queue rather than an unavailable dependency.
func rejectReason(status int, h http.Header) string {
	switch {
	case status == http.StatusUnprocessableEntity:
		return protocol.ENoInk
	case status == http.StatusServiceUnavailable && h.Get("Retry-After") != "":
		return protocol.EOverloaded
	default:
		return codeOf(status)
	}
}

// rateLimit applies the per-client limit to API routes (not to health checks, metrics or docs). The websocket
// upgrade itself is exempt: its messages count against the same client's bucket (wsConn.predict).
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") || r.URL.Path == "/v1/ws" {
			next.ServeHTTP(w, r)
			return
		}
		key := s.clientIdentity(r, bearerToken(r, false))
		if ok, wait := s.limiter.allow(key, time.Now()); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(1, (wait+time.Second-1)/time.Second))))
			writeJSONError(w, apiErr(protocol.ERateLimited, "too many requests from this client, retry later"))
			return
		}
		if r.URL.Path == batchPath { // its other items are charged once counted (chargeItems)
			r = r.WithContext(context.WithValue(r.Context(), rateKey{}, key))
		}
		next.ServeHTTP(w, r)
	})
}

// flowKey carries a batch request's client identity to its items' admission (batchItem).
type flowKey struct{}

// admission queues prediction requests for a slot, fairly across clients, while their wait fits the latency
// objective and refuses the rest with 503 overloaded (see admitter). The body is read first (at a minimum byte
// rate, see readBody), so slow senders cannot hold admission slots.
func (s *Server) admission(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPrediction(r) {
			next.ServeHTTP(w, r)
			return
		}
		body, release, aerr := s.readBody(w, r, int64(s.cfg.Limits.MaxMessageBytes))
		defer release()
		if aerr != nil {
			if aerr.Code == protocol.EOverloaded {
				w.Header().Set("Retry-After", s.shed.retryAfter[0])
			}
			writeJSONError(w, aerr)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		flow := s.clientIdentity(r, bearerToken(r, false)) // fair queuing across clients (see admitter)
		if r.URL.Path == batchPath {                       // admitted item by item (handleBatch)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), flowKey{}, flow)))
			return
		}
		done, ok := s.admit.acquire(r.Context(), flow)
		if !ok {
			s.shed.write(w)
			return
		}
		defer done()
		if s.servePredictImage(w, r, body) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientLimiter keeps one token bucket per client, forgetting clients idle for a few minutes.
type clientLimiter struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	clients   map[string]*clientEntry
	lastSweep time.Time
}

type clientEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newClientLimiter(perSecond float64, burst int) *clientLimiter {
	return &clientLimiter{limit: rate.Limit(perSecond), burst: burst, clients: make(map[string]*clientEntry)}
}

// allow takes one token for key; when none is left it reports how long until one is.
func (c *clientLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	return c.allowN(key, 1, now)
}

// allowN takes n tokens for key (at most the burst, which a full bucket always has).
func (c *clientLimiter) allowN(key string, n int, now time.Time) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastSweep) > time.Minute {
		for k, e := range c.clients {
			if now.Sub(e.seen) > 3*time.Minute {
				delete(c.clients, k)
			}
		}
		c.lastSweep = now
	}
	e, ok := c.clients[key]
	if !ok {
		e = &clientEntry{lim: rate.NewLimiter(c.limit, c.burst)}
		c.clients[key] = e
	}
	e.seen = now
	return reserve(e.lim, now, min(n, c.burst))
}

func reserve(lim *rate.Limiter, now time.Time, n int) (bool, time.Duration) {
	res := lim.ReserveN(now, n)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// statusWriter records the status for metrics and lets the websocket upgrade hijack the connection.
type statusWriter struct {
	http.ResponseWriter
	status   int
	wrote    bool
	hijacked bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status = http.StatusOK
		w.wrote = true
	}
	return w.ResponseWriter.Write(b)
}

// Flush supports streaming responses.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets gorilla/websocket take over the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack not supported")
	}
	c, rw, err := h.Hijack()
	if err == nil {
		w.hijacked = true
		w.wrote = true
	}
	return c, rw, err
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// shedder answers predictions refused by admission and reports load shedding in the log. The refusal is the
// hot path of an overload, so its body and headers are encoded once.
type shedder struct {
	body       []byte
	retryAfter []string

	refused atomic.Int64 // since the last report
	last    atomic.Int64 // unix nanoseconds of the last report
}

func newShedder(retryAfter time.Duration) *shedder {
	body, _ := json.Marshal(apiErr(protocol.EOverloaded, "server overloaded: too many predictions in flight, retry later"))
	return &shedder{
		body:       append(body, '\n'), // as json.Encoder writes it
		retryAfter: []string{strconv.Itoa(int(max(1, retryAfter/time.Second)))},
	}
}

// requestIDHeader is X-Request-ID as net/http keys it (textproto.CanonicalMIMEHeaderKey).
const requestIDHeader = "X-Request-Id"

var (
	jsonContentType = []string{"application/json"}
	noSniff         = []string{"nosniff"}
)

// write sends 503 overloaded with Retry-After, as writeJSONError would.
func (sh *shedder) write(w http.ResponseWriter) {
	h := w.Header()
	h["Retry-After"] = sh.retryAfter
	h["Content-Type"] = jsonContentType
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write(sh.body)
}

// note counts one shed request and logs a summary at most once a second.
func (sh *shedder) note(log *slog.Logger, now time.Time) {
	sh.refused.Add(1)
	last := sh.last.Load()
	if last != 0 && now.UnixNano()-last < int64(time.Second) || !sh.last.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	attrs := []slog.Attr{slog.Int64("refused", sh.refused.Swap(0))}
	if last != 0 {
		attrs = append(attrs, slog.Duration("in", now.Sub(time.Unix(0, last)).Round(time.Millisecond)))
	}
	log.LogAttrs(context.Background(), slog.LevelWarn, "overloaded: refusing predictions with 503 and Retry-After", attrs...)
}

// isPrediction reports whether r is a prediction request (the ones admission control may refuse).
func isPrediction(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/predict")
}
