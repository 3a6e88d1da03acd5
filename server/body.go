package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/gorilla/websocket"

	"digitpad/shared/protocol"
)

// Bodies are read at a minimum byte rate: a sender gets bodyGrace, plus one second per minBodyRate bytes
// received, before the read deadline. A client trickling a byte a second is cut off after the grace; a pad on
// a slow link (16 KB/s) still gets its 100 KB image through.
const (
	bodyGrace   = 5 * time.Second
	minBodyRate = 16 << 10 // bytes per second
)

// bodyCostFactor is what one received body byte is charged in the body budget: the body's buffer (with its
// growth slack), the copy the API framework reads from it, and the strings decoded from the JSON.
const bodyCostFactor = 4

// readBody reads a prediction body in full, before admission, so a slow sender holds a connection and a small
// buffer but never a slot of the prediction limit; max bounds it (the route's body limit). The read deadline
// moves with the bytes received (bodyGrace + received/minBodyRate from the start).
//
// The bytes are charged to the process's body budget (Config.BodyBudget) as they arrive, bodyCostFactor times,
// so that many large bodies at once cannot take the process past its memory bound; a slow sender holds only
// what it has sent. A chunk that finds no room within RetryAfter ends the read with 503 overloaded. release
// gives the bytes back once the request's work is done (never nil).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, max int64) (body []byte, release func(), aerr *APIError) {
	var charged int64
	release = func() {
		if charged > 0 {
			s.bodies.Release(charged)
			charged = 0
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, release, nil
	}
	s.reading.Add(1)
	defer s.reading.Add(-1)
	defer func() {
		if aerr != nil {
			release()
		}
	}()
	rc := http.NewResponseController(w)
	start := time.Now()
	// Read straight into the body's buffer, sized from Content-Length when the client sent one (one byte more,
	// so the read that sees EOF needs no room).
	size := 4 << 10
	if r.ContentLength > 0 && r.ContentLength < max {
		size = int(r.ContentLength) + 1
	}
	buf := make([]byte, 0, size)
	for {
		// Best effort: a writer without deadlines (httptest) keeps the server's ReadTimeout. Once Content-Length
		// bytes are in, the read that sees EOF does not touch the connection: no deadline to move (a timer
		// update per request).
		if int64(len(buf)) != r.ContentLength {
			_ = rc.SetReadDeadline(start.Add(bodyGrace + time.Duration(len(buf))*time.Second/minBodyRate))
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), 1<<20))
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			if cerr := s.chargeBody(r.Context(), int64(n)*bodyCostFactor); cerr != nil {
				return nil, release, cerr
			}
			charged += int64(n) * bodyCostFactor
		}
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, release, apiErr(protocol.ETooLarge, fmt.Sprintf("request body larger than %d bytes", max))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &mbe):
				return nil, release, apiErr(protocol.ETooLarge, fmt.Sprintf("request body larger than %d bytes", mbe.Limit))
			case errors.Is(err, os.ErrDeadlineExceeded):
				return nil, release, &APIError{Status: http.StatusRequestTimeout, Code: protocol.EInvalid,
					Message: fmt.Sprintf("request body arrived slower than %d bytes a second", minBodyRate)}
			default:
				return nil, release, errCancelled()
			}
		}
	}
	_ = rc.SetReadDeadline(time.Time{})
	return buf, release, nil
}

// chargeBody takes n bytes from the body budget, waiting at most RetryAfter for room.
func (s *Server) chargeBody(ctx context.Context, n int64) *APIError {
	if s.bodies.TryAcquire(n) {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.RetryAfter)
	defer cancel()
	if err := s.bodies.Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return errCancelled()
		}
		return apiErr(protocol.EOverloaded, "server busy receiving other requests' bodies, retry later")
	}
	return nil
}

// errBodyBudget is readMessage's error for a message refused for want of room in the body budget.
var errBodyBudget = errors.New("body budget full")

// readMessage reads the next websocket message as readBody reads a request body: its bytes are charged to the
// body budget as they arrive, so that many large messages at once cannot take the process past its memory
// bound. When the budget stays full for RetryAfter, the rest of the message is read and discarded (no memory)
// and the error is errBodyBudget; other errors end the connection. release is never nil.
func (s *Server) readMessage(ctx context.Context, ws *websocket.Conn) (typ int, msg []byte, release func(), err error) {
	var charged int64
	release = func() {
		if charged > 0 {
			s.bodies.Release(charged)
			charged = 0
		}
	}
	typ, r, err := ws.NextReader()
	if err != nil {
		return 0, nil, release, err
	}
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	for {
		n, rerr := r.Read(chunk)
		if n > 0 {
			if cerr := s.chargeBody(ctx, int64(n)*bodyCostFactor); cerr != nil {
				release()
				if _, derr := io.Copy(io.Discard, r); derr != nil {
					return 0, nil, release, derr
				}
				return typ, nil, release, errBodyBudget
			}
			charged += int64(n) * bodyCostFactor
			buf.Write(chunk[:n])
		}
		if errors.Is(rerr, io.EOF) {
			return typ, buf.Bytes(), release, nil
		}
		if rerr != nil {
			release()
			return 0, nil, release, rerr
		}
	}
}
