package server

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"digitpad/shared/protocol"
)

// capListener bounds open connections. Up to max are served normally; the next reserve are served only for
// health checks and metrics (anything else gets 503 and the connection closes), so an orchestrator can still
// see /readyz while clients hold every normal connection; beyond max+reserve, Accept waits for a connection to
// close (the kernel's backlog holds new ones), so a flood of idle connections or websockets can never use up the
// process's file descriptors.
type capListener struct {
	net.Listener
	max   int64
	slots chan struct{} // capacity max+reserve
	open  *atomic.Int64 // open connections (the server's gauge)
}

func newCapListener(l net.Listener, max, reserve int, open *atomic.Int64) *capListener {
	return &capListener{Listener: l, max: int64(max), slots: make(chan struct{}, max+reserve), open: open}
}

func (l *capListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	n := l.open.Add(1)
	return &capConn{Conn: c, l: l, reserve: n > l.max}, nil
}

// capConn gives its slot back once, when closed, and gives net/http's own plain-text error answers (written to
// the connection before any handler) the API's JSON error body.
type capConn struct {
	net.Conn
	l       *capListener
	reserve bool
	once    sync.Once
}

func (c *capConn) Close() error {
	c.once.Do(func() {
		c.l.open.Add(-1)
		<-c.l.slots
	})
	return c.Conn.Close()
}

// Write replaces net/http's pre-handler plain-text errors (431, 400, 501, 505) with JSON ones; net/http writes
// each as one call straight to the connection, so a whole write is recognised or not (see jsonPreHandlerError).
func (c *capConn) Write(b []byte) (int, error) {
	if j := jsonPreHandlerError(b); j != nil {
		if _, err := c.Conn.Write(j); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// CloseWrite half-closes a TCP connection, which net/http does after a 431 so the client reads the answer before
// the connection is reset; the wrapper would hide it otherwise.
func (c *capConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

type reserveConnKey struct{}

// connContext marks requests arriving on reserve connections (http.Server.ConnContext).
func connContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := c.(*capConn); ok && cc.reserve {
		return context.WithValue(ctx, reserveConnKey{}, true)
	}
	return ctx
}

// connCap answers requests on reserve connections with 503 unless they are health checks or metrics.
func (s *Server) connCap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(reserveConnKey{}) != nil {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
			default:
				w.Header().Set("Connection", "close")
				w.Header().Set("Retry-After", "1")
				writeJSONError(w, apiErr(protocol.EOverloaded, "too many open connections, retry later"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
