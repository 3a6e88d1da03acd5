package server

import (
	"net/textproto"
	"testing"
)

// TestRequestIDHeader_Canonical: the middleware writes the request id straight into the header map, so its key
// must be the canonical form Header.Get looks up (and net/http writes); "X-Request-ID" as written would be a
// second, unseen key.
func TestRequestIDHeader_Canonical(t *testing.T) {
	if got := textproto.CanonicalMIMEHeaderKey(requestIDHeader); got != requestIDHeader {
		t.Fatalf("requestIDHeader %q is not canonical (%q): Header.Get would not find it", requestIDHeader, got)
	}
}
