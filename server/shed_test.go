package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"digitpad/shared/protocol"
)

func TestShedder_WritesOverloadedAndSummarisesTheLog(t *testing.T) {
	sh := newShedder(2500 * time.Millisecond)
	w := httptest.NewRecorder()
	sh.write(w)
	var e APIError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code != protocol.EOverloaded {
		t.Fatalf("body %q (%v), want an overloaded error", w.Body, err)
	}
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "2" ||
		w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("status %d headers %v, want 503, Retry-After 2, JSON", w.Code, w.Header())
	}

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		sh.note(log, t0.Add(time.Duration(i)*time.Millisecond/2)) // 1000 refusals in half a second
	}
	sh.note(log, t0.Add(1500*time.Millisecond))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "refused=1") || !strings.Contains(lines[1], "refused=1000 ") {
		t.Errorf("log:\n%s\nwant a line at the first refusal and one summing up the next second's 1000", logs.String())
	}
}
