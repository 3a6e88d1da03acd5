package server

import (
	"net/http"
	"testing"
	"time"
)

func TestHTTPDate_AsNetHTTPWritesIt(t *testing.T) {
	var d httpDate
	t0 := time.Date(2026, 12, 3, 19, 4, 5, 900_000_000, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{t0, "Thu, 03 Dec 2026 18:04:05 GMT"},
		{t0.Add(50 * time.Millisecond), "Thu, 03 Dec 2026 18:04:05 GMT"}, // same second: the cached value
		{t0.Add(100 * time.Millisecond), "Thu, 03 Dec 2026 18:04:06 GMT"},
		{t0.Add(-time.Hour), "Thu, 03 Dec 2026 17:04:05 GMT"}, // a clock set back
	} {
		got := d.header(c.at)
		if len(got) != 1 || got[0] != c.want || got[0] != c.at.UTC().Format(http.TimeFormat) {
			t.Errorf("at %v: Date %q, want %q", c.at, got, c.want)
		}
		if cap(got) != 1 {
			t.Errorf("shared header value with capacity %d: an Add would write into it", cap(got))
		}
	}
}
