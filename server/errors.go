package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"digitpad/shared/protocol"
)

// APIError is every error response body: {"code","message"} with a protocol error code, plus optional details
// (huma's validation messages). Status is the HTTP status, not serialised.
type APIError struct {
	Status  int      `json:"-"`
	Code    string   `json:"code" doc:"Machine-readable error code" enum:"invalid,no_ink,too_large,unauthorized,forbidden,not_found,overloaded,rate_limited,internal,unavailable,cancelled"`
	Message string   `json:"message" doc:"Human-readable explanation"`
	Details []string `json:"details,omitempty" doc:"Individual validation problems, when there are several"`
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// GetStatus implements huma.StatusError.
func (e *APIError) GetStatus() int { return e.Status }

// statusOf maps protocol error codes to HTTP statuses, once.
func statusOf(code string) int {
	switch code {
	case protocol.EInvalid:
		return http.StatusBadRequest
	case protocol.ENoInk:
		return http.StatusUnprocessableEntity
	case protocol.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case protocol.EUnauthorized:
		return http.StatusUnauthorized
	case protocol.EForbidden:
		return http.StatusForbidden
	case protocol.ENotFound:
		return http.StatusNotFound
	case protocol.EOverloaded, protocol.EUnavailable:
		return http.StatusServiceUnavailable
	case protocol.ERateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// StatusClientClosed is the status (nginx's 499) recorded for a request whose client hung up before the
// answer: counted in the metrics as code "cancelled", logged at debug level, never as the server's failure.
const StatusClientClosed = 499

// codeCancelled labels client cancellations in metrics; the client never reads it.
const codeCancelled = "cancelled"

// errCancelled is the error for work abandoned because the client left.
func errCancelled() *APIError {
	return &APIError{Status: StatusClientClosed, Code: codeCancelled, Message: "request cancelled by the client"}
}

// codeOf is the inverse used for errors huma raises itself (bad parameters, oversized bodies...).
func codeOf(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType,
		http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusRequestTimeout:
		return protocol.EInvalid
	case http.StatusRequestEntityTooLarge:
		return protocol.ETooLarge
	case http.StatusUnauthorized:
		return protocol.EUnauthorized
	case http.StatusForbidden:
		return protocol.EForbidden
	case http.StatusNotFound:
		return protocol.ENotFound
	case http.StatusTooManyRequests:
		return protocol.ERateLimited
	case http.StatusServiceUnavailable:
		return protocol.EUnavailable
	case StatusClientClosed:
		return codeCancelled
	default:
		return protocol.EInternal
	}
}

// apiErr builds an APIError from a protocol code.
func apiErr(code, msg string) *APIError {
	return &APIError{Status: statusOf(code), Code: code, Message: msg}
}

// fromProtocol converts a *protocol.Error (validation) to an APIError; other errors become internal.
func fromProtocol(err error) *APIError {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return apiErr(pe.Code, pe.Message)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	return apiErr(protocol.EInternal, "internal error")
}

// withRetryAfter attaches a Retry-After header (whole seconds, at least 1) to an error huma writes.
func withRetryAfter(err error, d time.Duration) error {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return huma.ErrorWithHeaders(err, http.Header{"Retry-After": {strconv.Itoa(secs)}})
}

// writeJSONError writes an APIError outside huma (middleware, websocket upgrade, unmatched routes).
func writeJSONError(w http.ResponseWriter, e *APIError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

// hookHumaErrors makes huma's own errors (validation, body too large, unsupported media type) use APIError.
// huma only offers this as a package variable; every Server sets the same pure function, so sharing it is
// harmless. Huma reports schema validation failures as 422; digitpad keeps 422 for no_ink and answers invalid
// input with 400.
func hookHumaErrors() {
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		if status == http.StatusUnprocessableEntity {
			status = http.StatusBadRequest
		}
		e := &APIError{Status: status, Code: codeOf(status), Message: msg}
		for _, err := range errs {
			if err == nil {
				continue
			}
			var ae *APIError
			if errors.As(err, &ae) {
				return ae
			}
			e.Details = append(e.Details, err.Error())
		}
		if len(e.Details) == 1 {
			e.Message = msg + ": " + e.Details[0]
			e.Details = nil
		}
		return e
	}
}
