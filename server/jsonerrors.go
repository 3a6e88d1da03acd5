package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"

	"digitpad/shared/protocol"
)

// maxHeaderBytes bounds a request's header lines (names and values); beyond it the answer is a JSON 431. The
// http.Server's own limit is set well above it (a plain-text 431 from net/http only for headers over 1 MB).
const maxHeaderBytes = 64 << 10

// jsonErrors makes every error answer JSON {"code","message"}, including those written by handlers that know
// nothing of the API: the ServeMux's 405 and redirects, the web pad's file server 404s. It also refuses
// oversized headers (431) and non-canonical paths (//v1/predict, /v1/../x: 404 naming the canonical path, where
// the ServeMux would redirect with a plain-text 301/307).
func (s *Server) jsonErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > maxHeaderBytes {
			writeJSONError(w, &APIError{Status: http.StatusRequestHeaderFieldsTooLarge, Code: protocol.ETooLarge,
				Message: "request headers larger than 64 KB"})
			return
		}
		if p := r.URL.Path; p != "" && p != "/" && r.Method != http.MethodConnect {
			if c := path.Clean(p); c != p && c+"/" != p {
				writeJSONError(w, apiErr(protocol.ENotFound, "no route "+r.Method+" "+p+"; the canonical path is "+c))
				return
			}
		}
		next.ServeHTTP(&jsonErrorWriter{ResponseWriter: w, method: r.Method, path: r.URL.Path}, r)
	})
}

// jsonErrorWriter replaces a plain-text error body (http.Error's) with the API's JSON error.
type jsonErrorWriter struct {
	http.ResponseWriter
	method, path string
	swallow      bool
}

func (w *jsonErrorWriter) WriteHeader(code int) {
	h := w.Header()
	if code >= 400 && strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		msg := http.StatusText(code)
		switch code {
		case http.StatusMethodNotAllowed:
			msg = "method " + w.method + " not allowed on " + w.path + "; allowed: " + h.Get("Allow")
		case http.StatusNotFound:
			msg = "no route " + w.method + " " + w.path
		}
		h.Del("Content-Length")
		w.swallow = true
		writeJSONError(w.ResponseWriter, &APIError{Status: code, Code: codeOf(code), Message: msg})
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonErrorWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil // the plain-text body replaced by the JSON one
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap exposes the underlying writer to http.ResponseController (deadlines, hijacking for websockets).
func (w *jsonErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets gorilla/websocket take over the connection.
func (w *jsonErrorWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Flush supports streaming responses.
func (w *jsonErrorWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// netHTTPErrorHeaders is what net/http puts between the status line and the body of the answers it writes itself,
// straight to the connection, before any handler runs (conn.serve: headers over MaxHeaderBytes, a malformed
// request line or header, an unsupported transfer encoding or protocol version).
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// jsonPreHandlerError recognises one of net/http's own plain-text error answers — a whole write of exactly
// "HTTP/1.1 NNN reason" + netHTTPErrorHeaders + a one-line body, the only shape net/http writes without a handler
// — and returns the same answer with the API's JSON error body. Anything else returns nil and is written as is.
func jsonPreHandlerError(b []byte) []byte {
	const proto = "HTTP/1.1 "
	if len(b) > 1024 || !bytes.HasPrefix(b, []byte(proto)) {
		return nil
	}
	line, body, ok := bytes.Cut(b, []byte(netHTTPErrorHeaders))
	if !ok || bytes.ContainsAny(line, "\r\n") || bytes.ContainsAny(body, "\r\n") {
		return nil
	}
	status, reason, _ := strings.Cut(string(line[len(proto):]), " ")
	code, err := strconv.Atoi(status)
	if err != nil || len(status) != 3 || code < 400 {
		return nil
	}
	e := &APIError{Status: code, Code: codeOf(code), Message: "malformed request"}
	switch {
	case code == http.StatusRequestHeaderFieldsTooLarge:
		e.Code, e.Message = protocol.ETooLarge, "request headers larger than 64 KB"
	case code >= 500: // 501 unsupported transfer encoding, 505 unsupported protocol version: the client's fault
		e.Code = protocol.EInvalid
	}
	if _, detail, ok := strings.Cut(reason, ": "); ok {
		e.Message += ": " + detail // e.g. "missing required Host header"
	} else if code == http.StatusNotImplemented {
		e.Message += ": " + string(body)
	}
	j, err := json.Marshal(e)
	if err != nil {
		return nil
	}
	j = append(j, '\n')
	return fmt.Appendf(nil, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"+
		"Connection: close\r\nContent-Length: %d\r\n\r\n%s", line[len(proto):], len(j), j)
}
