package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
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
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	for {
		// Best effort: a writer without deadlines (httptest) keeps the server's ReadTimeout.
		_ = rc.SetReadDeadline(start.Add(bodyGrace + time.Duration(buf.Len())*time.Second/minBodyRate))
		n, err := r.Body.Read(chunk)
		buf.Write(chunk[:n])
		if int64(buf.Len()) > max {
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
	return buf.Bytes(), nil
}
