package server

import (
	"net/http"
	"sync/atomic"
	"time"
)

// httpDate is the Date header value of the current second, formatted once a second rather than by net/http on
// every response (~1 % of a small prediction's CPU). net/http sends a handler's own Date as it is; the value is
// what it would have written (http.TimeFormat truncates to the second).
type httpDate struct {
	cur atomic.Pointer[dateValue]
}

type dateValue struct {
	sec int64
	hdr []string // len == cap: a handler's Header().Add copies rather than writes into it
}

// header returns the Date header for now, shared between responses: callers must not modify it.
func (d *httpDate) header(now time.Time) []string {
	sec := now.Unix()
	if v := d.cur.Load(); v != nil && v.sec == sec {
		return v.hdr
	}
	v := &dateValue{sec: sec, hdr: []string{now.UTC().Format(http.TimeFormat)}}
	d.cur.Store(v)
	return v.hdr
}
