package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"digitpad/server"
	"digitpad/shared/protocol"
)

func TestWS_AnnouncesModelOnConnect(t *testing.T) {
	ts := mustOpen(t)
	ws := dialWS(t, ts.URL, nil)
	env := ws.next(t)
	if env.V != protocol.Version || env.Type != protocol.TypeModel {
		t.Fatalf("first message v%d %s, want v%d model", env.V, env.Type, protocol.Version)
	}
	a := decodeData[protocol.ModelAnnouncement](t, env)
	if a.SHA256 != ts.ModelInfo().SHA256 || a.URL != "/v1/model.onnx" {
		t.Errorf("announcement %+v, want sha %s and the download url", a, ts.ModelInfo().SHA256)
	}
	if a.GraphURL != "/v1/model.graph" || len(a.GraphSHA256) != 64 {
		t.Errorf("announcement %+v, want the graph file's url and sha256 for the browser", a)
	}
}

func TestWS_PredictRepliesWithPrediction(t *testing.T) {
	ts := mustOpen(t)
	ws := dialWS(t, ts.URL, nil)
	ws.send(t, protocol.TypePredict, "req-1", protocol.Predict{Strokes: strokesJSON(writeCode(t, "123", 400, 120)), Width: 400, Height: 120})
	env := ws.nextOf(t, protocol.TypePrediction)
	if env.Type != protocol.TypePrediction || env.ID != "req-1" {
		t.Fatalf("reply %s id %q (%s), want prediction for req-1", env.Type, env.ID, env.Data)
	}
	p := decodeData[protocol.Prediction](t, env)
	if p.ID == "" || len(p.Digits) != 3 {
		t.Errorf("prediction %+v, want an id and 3 digits", p)
	}
}

func TestWS_ManyPipelinedPredictionsAllAnswered(t *testing.T) {
	ts := mustOpen(t, withFake(&fakeEngine{}))
	ws := dialWS(t, ts.URL, nil)
	const n = 200
	for i := range n {
		strokes := make([][][2]float64, i%10+1)
		for j := range strokes {
			strokes[j] = [][2]float64{{1, 1}}
		}
		ws.send(t, protocol.TypePredict, string(rune('a'+i%26))+strings.Repeat("x", i/26), protocol.Predict{Strokes: strokes, Width: 10, Height: 10})
	}
	seen := map[string]bool{}
	for len(seen) < n {
		env := ws.nextOf(t, protocol.TypePrediction)
		if env.Type != protocol.TypePrediction {
			t.Fatalf("got %s %s", env.Type, env.Data)
		}
		if seen[env.ID] {
			t.Fatalf("id %s answered twice", env.ID)
		}
		seen[env.ID] = true
	}
}

func TestWS_BadMessagesGetErrorCodes(t *testing.T) {
	ts := mustOpen(t)
	ws := dialWS(t, ts.URL, nil)
	cases := []struct {
		name string
		msg  string
		code string
	}{
		{"malformed json", `{"v":1,"type":`, protocol.EInvalid},
		{"wrong version", `{"v":99,"type":"predict","id":"a"}`, protocol.EInvalid},
		{"unknown type", `{"v":1,"type":"dance","id":"b"}`, protocol.EInvalid},
		{"bad base64", `{"v":1,"type":"predict","id":"c","data":{"image":"%%%"}}`, protocol.EInvalid},
		{"30000x30000 png", `{"v":1,"type":"predict","id":"d","data":{"image":"` + b64(hugePNG(30000, 30000)) + `"}}`, protocol.ETooLarge},
		{"empty canvas", `{"v":1,"type":"predict","id":"e","data":{"strokes":[],"width":100,"height":100}}`, protocol.ENoInk},
		{"feedback without token", `{"v":1,"type":"feedback","id":"f","data":{"idempotency_key":"k","client_id":"c","code":"1"}}`, protocol.EUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := ws.conn.WriteMessage(websocket.TextMessage, []byte(c.msg)); err != nil {
				t.Fatal(err)
			}
			env := ws.nextOf(t, protocol.TypeError)
			e := decodeData[protocol.Error](t, env)
			if env.Type != protocol.TypeError || e.Code != c.code {
				t.Errorf("reply %s %s, want error %s", env.Type, env.Data, c.code)
			}
		})
	}
}

func TestWS_FeedbackAckedAfterCommitAndIdempotent(t *testing.T) {
	ts := mustOpen(t)
	ws := dialWS(t, ts.URL, http.Header{"Authorization": {"Bearer " + testToken}})
	f := sampleFeedback("ws-k1", "80331")
	ws.send(t, protocol.TypeFeedback, "m1", f)
	env := ws.nextOf(t, protocol.TypeAck)
	ack := decodeData[protocol.Ack](t, env)
	if env.Type != protocol.TypeAck || env.ID != "m1" || ack.IdempotencyKey != "ws-k1" || ack.Duplicate {
		t.Fatalf("reply %s %s, want a fresh ack for ws-k1", env.Type, env.Data)
	}
	// The ack means the record is in the store.
	all, err := ts.Store.Feedback(t.Context(), "", 10)
	if err != nil || len(all) != 1 || all[0].ID != ack.FeedbackID {
		t.Fatalf("store holds %+v (err %v), want the acked record %s", all, err, ack.FeedbackID)
	}
	ws.send(t, protocol.TypeFeedback, "m2", f)
	again := decodeData[protocol.Ack](t, ws.nextOf(t, protocol.TypeAck))
	if !again.Duplicate || again.FeedbackID != ack.FeedbackID {
		t.Errorf("resend ack %+v, want duplicate of %s", again, ack.FeedbackID)
	}

	bad := sampleFeedback("ws-k2", "1")
	bad.Labels = []int{12}
	bad.Code = ""
	ws.send(t, protocol.TypeFeedback, "m3", bad)
	if e := decodeData[protocol.Error](t, ws.nextOf(t, protocol.TypeError)); e.Code != protocol.EInvalid {
		t.Errorf("label 12: error %+v, want invalid", e)
	}
}

func TestWS_TokenInQueryAuthorisesFeedback(t *testing.T) {
	ts := mustOpen(t)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/v1/ws?access_token=" + testToken
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	env, _ := protocol.NewEnvelope(protocol.TypeFeedback, "q", sampleFeedback("q-k", "5"))
	if err := conn.WriteJSON(env); err != nil {
		t.Fatal(err)
	}
	for {
		var got protocol.Envelope
		if err := conn.ReadJSON(&got); err != nil {
			t.Fatal(err)
		}
		if got.Type == protocol.TypeModel {
			continue
		}
		if got.Type != protocol.TypeAck {
			t.Fatalf("got %s %s, want ack", got.Type, got.Data)
		}
		break
	}
}

func TestWS_OriginAllowList(t *testing.T) {
	ts := mustOpen(t, func(c *server.Config) { c.AllowedOrigins = []string{"https://pad.example.org"} })
	cases := []struct {
		name   string
		origin string
		status int
	}{
		{"same origin", ts.URL, 101},
		{"listed origin", "https://pad.example.org", 101},
		{"no origin (not a browser)", "", 101},
		{"wrong origin", "https://evil.example.com", 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.origin != "" {
				h.Set("Origin", c.origin)
			}
			cl, err := tryDialWS(ts.URL, h)
			if c.status == 101 {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				cl.conn.Close()
				return
			}
			var de *dialError
			if !errors.As(err, &de) || de.status != c.status {
				t.Fatalf("dial error %v, want HTTP %d", err, c.status)
			}
			r := &response{Status: de.status, Body: de.body}
			if e := r.apiError(t); e.Code != protocol.EForbidden {
				t.Errorf("code %q, want forbidden", e.Code)
			}
		})
	}
}

func TestWS_GuardedPredictNeedsToken(t *testing.T) {
	ts := mustOpen(t, func(c *server.Config) { c.OpenPredict = false })
	_, err := tryDialWS(ts.URL, nil)
	var de *dialError
	if !errors.As(err, &de) || de.status != 401 {
		t.Fatalf("dial without token: %v, want HTTP 401", err)
	}
	r := postJSON(t, ts.URL+"/v1/predict", protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10})
	if r.Status != 401 || r.apiError(t).Code != protocol.EUnauthorized {
		t.Errorf("HTTP predict without token: %d %s, want 401 unauthorized", r.Status, r.Body)
	}
	dialWS(t, ts.URL, http.Header{"Authorization": {"Bearer " + testToken}})
}

func TestWS_HugeMessageClosesWith1009(t *testing.T) {
	ts := mustOpen(t, func(c *server.Config) { c.Limits = protocol.DefaultLimits(); c.Limits.MaxMessageBytes = 64 << 10 })
	ws := dialWS(t, ts.URL, nil)
	ws.next(t) // announcement
	huge := `{"v":1,"type":"predict","data":{"image":"` + string(bytes.Repeat([]byte("A"), 100<<10)) + `"}}`
	_ = ws.conn.WriteMessage(websocket.TextMessage, []byte(huge))
	select {
	case <-ws.msgs:
	case <-time.After(10 * time.Second):
		t.Fatal("connection not closed")
	}
	if err := <-ws.err; !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("read error %v, want close 1009 (message too big)", err)
	}
}

func TestWS_RateLimitedMessagesGetErrors(t *testing.T) {
	ts := mustOpen(t, withFake(&fakeEngine{}), func(c *server.Config) { c.RateLimit = 0.1; c.RateBurst = 3 })
	ws := dialWS(t, ts.URL, nil)
	for i := range 5 {
		ws.send(t, protocol.TypePredict, string(rune('0'+i)), protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10})
	}
	codes := map[string]int{}
	for range 5 {
		env := ws.nextOf(t, protocol.TypePrediction)
		if env.Type == protocol.TypeError {
			codes[decodeData[protocol.Error](t, env).Code]++
		} else {
			codes["ok"]++
		}
	}
	if codes["ok"] != 3 || codes[protocol.ERateLimited] != 2 {
		t.Errorf("outcomes %v, want 3 ok and 2 rate_limited", codes)
	}
}

func TestWS_OverloadedIsAnErrorMessage(t *testing.T) {
	eng := &fakeEngine{gate: make(chan struct{}), entered: make(chan int, 10)}
	ts := mustOpen(t, withFake(eng), func(c *server.Config) { c.Workers = 1; c.Queue = 1; c.BatchMax = 1 })
	ws := dialWS(t, ts.URL, nil)
	req := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	ws.send(t, protocol.TypePredict, "a", req)
	<-eng.entered
	ws.send(t, protocol.TypePredict, "b", req)
	waitFor(t, "queued", func() bool { return queueDepth(t, ts.URL) == 1 })
	ws.send(t, protocol.TypePredict, "c", req)
	env := ws.nextOf(t, protocol.TypePrediction)
	if e := decodeData[protocol.Error](t, env); env.ID != "c" || e.Code != protocol.EOverloaded {
		t.Errorf("reply to c: %s %s, want error overloaded", env.Type, env.Data)
	}
	close(eng.gate)
	for range 2 {
		if env := ws.nextOf(t, protocol.TypePrediction); env.Type != protocol.TypePrediction {
			t.Errorf("queued request: %s %s, want prediction", env.Type, env.Data)
		}
	}
}

func TestShutdown_DrainsInFlightAndClosesWebsocketsWith1001(t *testing.T) {
	eng := &fakeEngine{gate: make(chan struct{}), entered: make(chan int, 10)}
	ts := mustOpen(t, withFake(eng), func(c *server.Config) { c.Workers = 1; c.BatchMax = 1 })
	ws := dialWS(t, ts.URL, nil)
	ws.next(t) // announcement

	req := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	httpDone := make(chan *response, 1)
	go func() { httpDone <- postJSON(t, ts.URL+"/v1/predict", req) }()
	<-eng.entered // the HTTP request holds the worker
	ws.send(t, protocol.TypePredict, "in-flight", req)
	waitFor(t, "ws request queued", func() bool { return queueDepth(t, ts.URL) == 1 })

	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdown <- ts.Shutdown(ctx)
	}()
	waitFor(t, "listener closed", func() bool {
		_, err := http.Get(ts.URL + "/healthz")
		return err != nil
	})
	close(eng.gate)

	if r := <-httpDone; r.Status != 200 {
		t.Errorf("in-flight HTTP request: %d %s, want 200", r.Status, r.Body)
	}
	env := ws.nextOf(t, protocol.TypePrediction)
	if env.Type != protocol.TypePrediction || env.ID != "in-flight" {
		t.Errorf("in-flight ws request: %s %s, want its prediction", env.Type, env.Data)
	}
	select {
	case <-ws.msgs:
	case <-time.After(10 * time.Second):
		t.Fatal("websocket not closed")
	}
	if err := <-ws.err; !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("websocket ended with %v, want close 1001 (going away)", err)
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
