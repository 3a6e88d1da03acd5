package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"digitpad/shared/protocol"
)

// Bodies are read at a minimum byte rate: a sender gets bodyGrace, plus one second per minBodyRate bytes
// received, before the read deadline. A client trickling a byte a second is cut off after the grace; a pad on
// a slow link (16 KB/s) still gets its 100 KB image through.
const (
	bodyGrace   = 5 * time.Second
	minBodyRate = 16 << 10 // bytes per second
)

// readBody reads a prediction body in full, before admission, so a slow sender holds a connection and a small
// buffer but never a slot of the prediction limit; max bounds it (the route's body limit). The read deadline
// moves with the bytes received (bodyGrace + received/minBodyRate from the start).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, *APIError) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	s.reading.Add(1)
	defer s.reading.Add(-1)
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
		// Best effort: a writer without deadlines (httptest) keeps the server's ReadTimeout.
		_ = rc.SetReadDeadline(start.Add(bodyGrace + time.Duration(len(buf))*time.Second/minBodyRate))
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), 1<<20))
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, apiErr(protocol.ETooLarge, fmt.Sprintf("request body larger than %d bytes", max))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &mbe):
				return nil, apiErr(protocol.ETooLarge, fmt.Sprintf("request body larger than %d bytes", mbe.Limit))
			case errors.Is(err, os.ErrDeadlineExceeded):
				return nil, &APIError{Status: http.StatusRequestTimeout, Code: protocol.EInvalid,
					Message: fmt.Sprintf("request body arrived slower than %d bytes a second", minBodyRate)}
			default:
				return nil, errCancelled()
			}
		}
	}
	_ = rc.SetReadDeadline(time.Time{})
	return buf, nil
}
