package server

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"digitpad/server/internal/resultjson"
	"digitpad/shared/recognize"
)

// predictPath is the predict operation's path; predictPattern the ServeMux pattern huma registers it under (the
// metrics' route label).
const (
	predictPath    = "/v1/predict"
	predictPattern = http.MethodPost + " " + predictPath
)

// maxParamLen is the maxLength of the predict operation's format query parameter and X-Client-ID header.
const maxParamLen = 128

// servePredictImage answers POST /v1/predict with a raw image/png or image/jpeg body without huma, from the body
// admission has already read: the upload a pad sends on every request, where huma's reflection-driven parameter
// binding, body copy and response negotiation cost more than the answer. It answers exactly as the huma
// operation (documented in the OpenAPI description, see routes) does: the same handler code (recognizeImage),
// status, headers and JSON. Everything that would make huma answer otherwise — another route or media type, an
// empty body, a missing token, a parameter over its maxLength, an Accept header other than JSON — is left to
// huma (ok false, nothing written).
func (s *Server) servePredictImage(w http.ResponseWriter, r *http.Request, body []byte) (ok bool) {
	if !s.rawFast || r.URL.Path != predictPath || len(body) == 0 {
		return false
	}
	h := r.Header
	mt := h.Get("Content-Type")
	if mt != "image/png" && mt != "image/jpeg" { // what pads send; anything else is parsed (case, parameters)
		mt, _, _ = mime.ParseMediaType(mt)
	}
	if mt != "image/png" && mt != "image/jpeg" {
		return false
	}
	if a := h.Get("Accept"); a != "" && a != "*/*" && a != "application/json" {
		return false
	}
	if !s.cfg.OpenPredict && !s.validToken(h.Get("Authorization")) {
		return false
	}
	clientID := h.Get("X-Client-ID")
	var format string
	if r.URL.RawQuery != "" {
		format = r.URL.Query().Get("format")
	}
	if !fitsParam(clientID) || !fitsParam(format) {
		return false
	}
	r.Pattern = predictPattern
	p, result, err := s.recognizeImage(r.Context(), body, recognize.Options{Format: format}, clientID)
	if err != nil {
		writeHumaError(w, err)
		return true
	}
	hdr := w.Header()
	hdr["Content-Type"] = jsonContentType
	hdr["Date"] = s.date.header(time.Now())
	w.WriteHeader(http.StatusOK)
	if b, ok := resultjson.AppendPredictionResult(make([]byte, 0, 1024), p.ID, result); ok { // p.Inputs: never asked here
		_, _ = w.Write(b)
	} else if b, ok := resultjson.AppendPrediction(make([]byte, 0, 1024), p); ok {
		_, _ = w.Write(b)
	} else {
		_ = encodeJSON(w, p)
	}
	return true
}

// fitsParam reports whether v is within maxParamLen characters, as huma's maxLength counts them.
func fitsParam(v string) bool {
	return len(v) <= maxParamLen || utf8.RuneCountInString(v) <= maxParamLen
}

// encodeJSON writes v as huma's JSON format does (no HTML escaping, a newline after).
func encodeJSON(w http.ResponseWriter, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeHumaError writes a handler's error as huma writes one an operation returns: headers an error carries
// (Retry-After), the status of its APIError, and the APIError as JSON; any other error is a 500 (through
// huma.NewError, which hookHumaErrors maps to APIError).
func writeHumaError(w http.ResponseWriter, err error) {
	var he huma.HeadersError
	if errors.As(err, &he) {
		for k, vs := range he.GetHeaders() {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	var se huma.StatusError
	if !errors.As(err, &se) {
		se = huma.NewError(http.StatusInternalServerError, "unexpected error occurred", err)
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(se.GetStatus())
	_ = encodeJSON(w, se)
}
