package server_test

import (
	"net/http"
	"slices"
	"testing"

	"digitpad/server"
	"digitpad/shared/protocol"
)

// wsOutcome sends one predict message and returns "ok" or the error code of the answer.
func wsOutcome(t *testing.T, ws *wsClient, id string) string {
	t.Helper()
	ws.send(t, protocol.TypePredict, id, protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10})
	env := ws.nextOf(t, protocol.TypePrediction)
	if env.Type == protocol.TypeError {
		return decodeData[protocol.Error](t, env).Code
	}
	return "ok"
}

// One bucket per client, whatever the number of connections, HTTP and websocket alike: with a burst of 4, two
// HTTP requests and two websocket connections of the same address get 4 answers in all, not 4 each.
func TestRateLimit_OneBucketPerClientAcrossHTTPAndWebsockets(t *testing.T) {
	ts := mustOpen(t, withFake(&fakeEngine{}), func(c *server.Config) { c.RateLimit = 0.001; c.RateBurst = 4 })
	body := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	ok := 0
	for range 2 {
		if postJSON(t, ts.URL+"/v1/predict", body).Status == http.StatusOK {
			ok++
		}
	}
	ws1, ws2 := dialWS(t, ts.URL, nil), dialWS(t, ts.URL, nil)
	for i, ws := range []*wsClient{ws1, ws2, ws1, ws2} {
		switch got := wsOutcome(t, ws, string(rune('a'+i))); got {
		case "ok":
			ok++
		case protocol.ERateLimited:
		default:
			t.Errorf("websocket message %d: %s", i, got)
		}
	}
	if ok != 4 {
		t.Errorf("%d answered of 6 requests over 3 connections, want the burst of 4", ok)
	}
	if r := postJSON(t, ts.URL+"/v1/predict", body); r.Status != http.StatusTooManyRequests {
		t.Errorf("HTTP after the websockets drained the bucket: %d, want 429", r.Status)
	}
}

// Behind a trusted proxy each clerk has a bucket; a header from an untrusted peer is ignored, so a client cannot
// escape its bucket by writing X-Forwarded-For itself.
func TestRateLimit_PerForwardedClientOnlyFromTrustedProxies(t *testing.T) {
	body := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	statuses := func(ts *testServer, xffs ...string) []int {
		var out []int
		for _, x := range xffs {
			out = append(out, postJSON(t, ts.URL+"/v1/predict", body, "X-Forwarded-For", x).Status)
		}
		return out
	}
	trusted := mustOpen(t, withFake(&fakeEngine{}), func(c *server.Config) {
		c.RateLimit, c.RateBurst, c.TrustedProxies = 0.001, 1, []string{"127.0.0.0/8"}
	})
	got := statuses(trusted, "198.51.100.1", "198.51.100.2", "198.51.100.1", "9.9.9.9, 198.51.100.2")
	if want := []int{200, 200, 429, 429}; !equalInts(got, want) {
		t.Errorf("behind a trusted proxy: %v, want %v (one bucket per forwarded client, spoofed left entries ignored)", got, want)
	}
	untrusted := mustOpen(t, withFake(&fakeEngine{}), func(c *server.Config) { c.RateLimit, c.RateBurst = 0.001, 1 })
	got = statuses(untrusted, "198.51.100.1", "198.51.100.2")
	if want := []int{200, 429}; !equalInts(got, want) {
		t.Errorf("no trusted proxies: %v, want %v (the header is the client's own claim)", got, want)
	}
}

// Token holders are limited per device (token + X-Client-ID), not all together.
func TestRateLimit_PerTokenAndClientID(t *testing.T) {
	ts := mustOpen(t, withFake(&fakeEngine{}), func(c *server.Config) { c.RateLimit, c.RateBurst = 0.001, 1 })
	body := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	send := func(id string) int {
		return postJSON(t, ts.URL+"/v1/predict", body, append(bearer(), "X-Client-ID", id)...).Status
	}
	got := []int{send("pad-1"), send("pad-2"), send("pad-1")}
	if want := []int{200, 200, 429}; !equalInts(got, want) {
		t.Errorf("two devices with the token: %v, want %v", got, want)
	}
	anon := func(id string) int {
		return postJSON(t, ts.URL+"/v1/predict", body, "X-Client-ID", id).Status
	}
	if got := []int{anon("a"), anon("b")}; !equalInts(got, []int{200, 429}) {
		t.Errorf("anonymous requests with fresh client ids: %v, want [200 429] (ids without a token are not identities)", got)
	}
}

func equalInts(a, b []int) bool { return slices.Equal(a, b) }
