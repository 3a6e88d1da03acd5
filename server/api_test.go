package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/server"
	"digitpad/server/internal/memstore"
	"digitpad/server/store"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/protocol"
)

func TestPredict_StrokesGiveOneDigitPerWrittenDigit(t *testing.T) {
	ts := mustOpen(t)
	res := postJSON(t, ts.URL+"/v1/predict", protocol.Predict{
		Strokes: strokesJSON(writeCode(t, "80331", 640, 160)), Width: 640, Height: 160,
	})
	if res.Status != http.StatusOK {
		t.Fatalf("status = %d, body %s", res.Status, res.Body)
	}
	var p protocol.Prediction
	res.decode(t, &p)
	if p.ID == "" {
		t.Error("prediction has no id")
	}
	if len(p.Digits) != 5 || len(p.Code) != 5 {
		t.Errorf("code %q with %d digits, want 5 digits", p.Code, len(p.Digits))
	}
	sum := sha256.Sum256(assets.Model())
	if want := hex.EncodeToString(sum[:]); p.Model.SHA256 != want {
		t.Errorf("model sha256 = %s, want %s", p.Model.SHA256, want)
	}
}

func TestPredict_InputsOnlyWhenAskedFor(t *testing.T) {
	ts := mustOpen(t)
	for _, want := range []bool{false, true} {
		res := postJSON(t, ts.URL+"/v1/predict", protocol.Predict{
			Strokes: strokesJSON(writeCode(t, "472", 400, 160)), Width: 400, Height: 160, Inputs: want,
		})
		var p protocol.Prediction
		res.decode(t, &p)
		if !want {
			if p.Inputs != nil {
				t.Errorf("inputs sent without being asked for")
			}
			continue
		}
		if len(p.Inputs) != len(p.Digits) || len(p.Digits) == 0 {
			t.Fatalf("%d inputs for %d digits", len(p.Inputs), len(p.Digits))
		}
		for i, in := range p.Inputs {
			ink := 0
			for _, b := range in {
				if b > 128 {
					ink++
				}
			}
			if len(in) != 784 || ink < 20 || ink > 400 {
				t.Errorf("input %d: %d bytes with %d inked pixels, want 784 bytes of a digit", i, len(in), ink)
			}
		}
	}
}

func TestPredict_ImageFormsAgree(t *testing.T) {
	ts := mustOpen(t)
	img := codePNG(t, "52")
	cases := []struct {
		name        string
		contentType string
		body        []byte
	}{
		{"raw png", "image/png", img},
		{"json base64", "application/json", []byte(`{"image":"` + b64(img) + `"}`)},
		{"json data url", "application/json", []byte(`{"image":"data:image/png;base64,` + b64(img) + `"}`)},
	}
	var codes []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := do(t, http.MethodPost, ts.URL+"/v1/predict", c.contentType, c.body)
			if res.Status != http.StatusOK {
				t.Fatalf("status = %d, body %s", res.Status, res.Body)
			}
			// One Date header, whichever path answered (the raw body's writes its own, net/http huma's).
			if d := res.Header["Date"]; len(d) != 1 {
				t.Errorf("Date headers %q, want one", d)
			} else if _, err := http.ParseTime(d[0]); err != nil {
				t.Errorf("Date %q: %v", d[0], err)
			}
			var p protocol.Prediction
			res.decode(t, &p)
			if len(p.Digits) != 2 {
				t.Errorf("%d digits, want 2", len(p.Digits))
			}
			codes = append(codes, p.Code)
		})
	}
	for _, c := range codes[1:] {
		if c != codes[0] {
			t.Errorf("codes differ between body forms: %v", codes)
		}
	}
}

func TestPredict_BadInputIsRejectedWithCode(t *testing.T) {
	ts := mustOpen(t, func(c *server.Config) {
		c.Limits = protocol.DefaultLimits()
		c.Limits.MaxMessageBytes = 1 << 20
		c.Limits.MaxImageBytes = 512 << 10
	})
	corrupt := codePNG(t, "1")
	corrupt = append(corrupt[:60:60], bytes.Repeat([]byte{0xff}, 200)...)
	manyStrokes := make([][][2]float64, 300)
	for i := range manyStrokes {
		manyStrokes[i] = [][2]float64{{1, 1}}
	}
	cases := []struct {
		name        string
		contentType string
		body        []byte
		status      int
		code        string
	}{
		{"malformed json", "application/json", []byte(`{"image": `), 400, protocol.EInvalid},
		{"empty body", "application/json", nil, 400, protocol.EInvalid},
		{"bad base64", "application/json", []byte(`{"image":"%%% not base64 %%%"}`), 400, protocol.EInvalid},
		{"corrupt png", "image/png", corrupt, 400, protocol.EInvalid},
		{"not an image", "image/png", []byte("hello, world"), 400, protocol.EInvalid},
		{"30000x30000 png", "image/png", hugePNG(30000, 30000), 413, protocol.ETooLarge},
		{"30000x30000 png in json", "application/json", []byte(`{"image":"` + b64(hugePNG(30000, 30000)) + `"}`), 413, protocol.ETooLarge},
		{"empty canvas png", "image/png", blankPNG(t), 422, protocol.ENoInk},
		{"empty strokes", "application/json", []byte(`{"strokes":[],"width":300,"height":100}`), 422, protocol.ENoInk},
		{"neither image nor strokes", "application/json", []byte(`{}`), 400, protocol.EInvalid},
		{"image and strokes", "application/json", []byte(`{"image":"aGk=","strokes":[],"width":1,"height":1}`), 400, protocol.EInvalid},
		{"strokes without size", "application/json", []byte(`{"strokes":[[[1,2]]]}`), 400, protocol.EInvalid},
		{"huge canvas", "application/json", []byte(`{"strokes":[[[1,2]]],"width":30000,"height":30000}`), 413, protocol.ETooLarge},
		{"too many strokes", "application/json", mustJSON(t, protocol.Predict{Strokes: manyStrokes, Width: 100, Height: 100}), 413, protocol.ETooLarge},
		{"huge body", "application/json", bytes.Repeat([]byte(" "), 2<<20), 413, protocol.ETooLarge},
		{"unsupported content type", "text/plain", []byte("12345"), 415, protocol.EInvalid},
		{"bad format regexp", "application/json", mustJSON(t, protocol.Predict{Strokes: strokesJSON(writeCode(t, "1", 100, 100)), Width: 100, Height: 100, Format: "(["}), 400, protocol.EInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := do(t, http.MethodPost, ts.URL+"/v1/predict", c.contentType, c.body)
			if res.Status != c.status {
				t.Fatalf("status = %d, want %d; body %s", res.Status, c.status, res.Body)
			}
			if e := res.apiError(t); e.Code != c.code {
				t.Errorf("code = %q, want %q (message %q)", e.Code, c.code, e.Message)
			}
		})
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestGetPrediction_ReturnsLoggedPredictionAndFeedback(t *testing.T) {
	ts := mustOpen(t)
	res := postJSON(t, ts.URL+"/v1/predict", protocol.Predict{Strokes: strokesJSON(writeCode(t, "4", 200, 200)), Width: 200, Height: 200})
	var p protocol.Prediction
	res.decode(t, &p)

	// Straight away: served from the log buffer or the store, whichever holds it.
	got := do(t, http.MethodGet, ts.URL+"/v1/predictions/"+p.ID, "", nil)
	if got.Status != http.StatusOK {
		t.Fatalf("GET right after predict: status %d, body %s", got.Status, got.Body)
	}
	f := sampleFeedback("k-get", "4")
	f.PredictionID = p.ID
	f.Predicted = p.Code
	if r := postJSON(t, ts.URL+"/v1/feedback", f, bearer()...); r.Status != http.StatusCreated {
		t.Fatalf("feedback: status %d, body %s", r.Status, r.Body)
	}
	waitFor(t, "prediction in the store", func() bool {
		_, _, err := ts.Store.Prediction(t.Context(), p.ID)
		return err == nil
	})
	got = do(t, http.MethodGet, ts.URL+"/v1/predictions/"+p.ID, "", nil)
	var rec server.PredictionRecord
	got.decode(t, &rec)
	if rec.Prediction == nil || rec.Prediction.ID != p.ID || rec.Prediction.Result.Code != p.Code {
		t.Errorf("prediction = %+v, want id %s code %s", rec.Prediction, p.ID, p.Code)
	}
	if len(rec.Feedback) != 1 || rec.Feedback[0].IdempotencyKey != "k-get" {
		t.Errorf("feedback = %+v, want the one record k-get", rec.Feedback)
	}
}

func TestGetPrediction_UnknownIDIs404(t *testing.T) {
	ts := mustOpen(t)
	res := do(t, http.MethodGet, ts.URL+"/v1/predictions/no-such-id", "", nil)
	if res.Status != http.StatusNotFound {
		t.Fatalf("status = %d, want 404; body %s", res.Status, res.Body)
	}
	if e := res.apiError(t); e.Code != protocol.ENotFound || !strings.Contains(e.Message, "no-such-id") {
		t.Errorf("error = %+v, want not_found naming the id", e)
	}
}

func TestFeedback_Rejections(t *testing.T) {
	ts := mustOpen(t)
	bad := sampleFeedback("k-bad", "12")
	bad.Labels = []int{1, 12}
	bad.Code = ""
	cases := []struct {
		name   string
		body   any
		header []string
		status int
		code   string
	}{
		{"missing token", sampleFeedback("k1", "12"), nil, 401, protocol.EUnauthorized},
		{"wrong token", sampleFeedback("k1", "12"), []string{"Authorization", "Bearer nope"}, 401, protocol.EUnauthorized},
		{"label 12", bad, bearer(), 400, protocol.EInvalid},
		{"code with letters", sampleFeedback("k2", "12a"), bearer(), 400, protocol.EInvalid},
		{"no idempotency key", sampleFeedback("", "12"), bearer(), 400, protocol.EInvalid},
		{"malformed json", "{", bearer(), 400, protocol.EInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := postJSON(t, ts.URL+"/v1/feedback", c.body, c.header...)
			if s, ok := c.body.(string); ok {
				res = do(t, http.MethodPost, ts.URL+"/v1/feedback", "application/json", []byte(s), c.header...)
			}
			if res.Status != c.status {
				t.Fatalf("status = %d, want %d; body %s", res.Status, c.status, res.Body)
			}
			if e := res.apiError(t); e.Code != c.code {
				t.Errorf("code = %q, want %q (%s)", e.Code, c.code, e.Message)
			}
		})
	}
	if all, _ := ts.Store.Feedback(t.Context(), "", 100); len(all) != 0 {
		t.Errorf("rejected feedback stored %d records", len(all))
	}
}

func TestFeedback_ResendReturnsFirstRecord(t *testing.T) {
	ts := mustOpen(t)
	f := sampleFeedback("k-idem", "80331")
	first := postJSON(t, ts.URL+"/v1/feedback", f, bearer()...)
	if first.Status != http.StatusCreated {
		t.Fatalf("first: status %d, want 201; body %s", first.Status, first.Body)
	}
	var a1 protocol.Ack
	first.decode(t, &a1)

	var wg sync.WaitGroup
	acks := make([]protocol.Ack, 8)
	statuses := make([]int, 8)
	for i := range acks {
		wg.Go(func() {
			r := postJSON(t, ts.URL+"/v1/feedback", f, bearer()...)
			statuses[i] = r.Status
			r.decode(t, &acks[i])
		})
	}
	wg.Wait()
	for i, a := range acks {
		if statuses[i] != http.StatusOK || a.FeedbackID != a1.FeedbackID || !a.Duplicate {
			t.Errorf("resend %d: status %d ack %+v, want 200 with id %s duplicate", i, statuses[i], a, a1.FeedbackID)
		}
	}
	all, err := ts.Store.Feedback(t.Context(), "", 100)
	if err != nil || len(all) != 1 {
		t.Errorf("stored %d records (err %v), want 1", len(all), err)
	}
}

func TestFeedback_LabelsAloneFillTheCode(t *testing.T) {
	ts := mustOpen(t)
	f := sampleFeedback("k-labels", "")
	f.Labels = []int{0, 7}
	f.Predicted = "07"
	res := postJSON(t, ts.URL+"/v1/feedback", f, bearer()...)
	if res.Status != http.StatusCreated {
		t.Fatalf("status %d, body %s", res.Status, res.Body)
	}
	all, _ := ts.Store.Feedback(t.Context(), "", 10)
	if len(all) != 1 || all[0].Code != "07" {
		t.Errorf("stored %+v, want one record with code 07", all)
	}
}

func TestFeedback_StoreDownIs503WithRetryAfter(t *testing.T) {
	ts := mustOpen(t)
	ts.Store.Fail(errors.New("disk gone"))
	res := postJSON(t, ts.URL+"/v1/feedback", sampleFeedback("k", "1"), bearer()...)
	if res.Status != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q, want 503 with Retry-After; body %s", res.Status,
			res.Header.Get("Retry-After"), res.Body)
	}
	if e := res.apiError(t); e.Code != protocol.EUnavailable || strings.Contains(e.Message, "disk gone") {
		t.Errorf("error = %+v, want unavailable without internal details", e)
	}
}

func TestModel_CardAndBytesMatch(t *testing.T) {
	ts := mustOpen(t)
	var card server.ModelCard
	do(t, http.MethodGet, ts.URL+"/v1/model", "", nil).decode(t, &card)
	res := do(t, http.MethodGet, ts.URL+card.URL, "", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s: status %d", card.URL, res.Status)
	}
	sum := sha256.Sum256(res.Body)
	got := hex.EncodeToString(sum[:])
	if got != card.SHA256 || res.Header.Get("X-Model-SHA256") != got || card.Bytes != len(res.Body) {
		t.Errorf("download sha %s (header %s, %d bytes), card says %s (%d bytes)", got,
			res.Header.Get("X-Model-SHA256"), len(res.Body), card.SHA256, card.Bytes)
	}
	if card.Name == "" || card.Card == nil {
		t.Errorf("card = %+v, want a name and the shipped card", card)
	}
}

// The browser gets the active model as a graph file: it must be the same model (identity, outputs) as the ONNX.
func TestModelGraph_IsTheActiveModelForClientsWithoutONNX(t *testing.T) {
	ts := mustOpen(t)
	var card server.ModelCard
	do(t, http.MethodGet, ts.URL+"/v1/model", "", nil).decode(t, &card)
	if card.GraphURL != "/v1/model.graph" {
		t.Fatalf("card graph_url = %q", card.GraphURL)
	}
	res := do(t, http.MethodGet, ts.URL+card.GraphURL, "", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("status %d body %s", res.Status, res.Body)
	}
	sum := sha256.Sum256(res.Body)
	if got := hex.EncodeToString(sum[:]); got != card.GraphSHA256 || res.Header.Get("X-Graph-SHA256") != got {
		t.Errorf("graph sha %s (header %s), card says %s", got, res.Header.Get("X-Graph-SHA256"), card.GraphSHA256)
	}
	m, err := model.LoadGraph(res.Body)
	if err != nil {
		t.Fatalf("LoadGraph: %v", err)
	}
	if m.SHA256() != card.SHA256 || res.Header.Get("X-Model-SHA256") != card.SHA256 {
		t.Errorf("graph of model %s (header %s), active model %s", m.SHA256(), res.Header.Get("X-Model-SHA256"), card.SHA256)
	}
	direct, err := onnxload.Load(do(t, http.MethodGet, ts.URL+"/v1/model.onnx", "", nil).Body)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, m.InputSize())
	for i := range in {
		in[i] = float32(i%29) / 29
	}
	a, b := make([]float32, m.OutputSize()), make([]float32, m.OutputSize())
	if err := m.Run(in, 1, a); err != nil {
		t.Fatal(err)
	}
	if err := direct.Run(in, 1, b); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Errorf("graph file outputs %v, ONNX outputs %v", a, b)
	}
}

func TestAdminModel_HotSwapIsAnnounced(t *testing.T) {
	ts := mustOpen(t)
	ws := dialWS(t, ts.URL, nil)
	if first := ws.next(t); first.Type != protocol.TypeModel {
		t.Fatalf("first message %s, want a model announcement", first.Type)
	}
	url := ts.URL + "/v1/admin/model?name=swapped&input_scale=255"

	if r := do(t, http.MethodPut, url, "application/octet-stream", assets.Model()); r.Status != 401 {
		t.Errorf("without token: status %d, want 401", r.Status)
	}
	r := do(t, http.MethodPut, url, "application/octet-stream", []byte("not onnx"), bearer()...)
	if r.Status != 400 || r.apiError(t).Code != protocol.EInvalid {
		t.Errorf("garbage model: status %d body %s, want 400 invalid", r.Status, r.Body)
	}
	if got := ts.ModelInfo().Name; got == "swapped" {
		t.Fatal("a rejected model became active")
	}
	r = do(t, http.MethodPut, url, "application/octet-stream", assets.Model(), bearer()...)
	if r.Status != http.StatusOK {
		t.Fatalf("swap: status %d body %s", r.Status, r.Body)
	}
	a := decodeData[protocol.ModelAnnouncement](t, ws.nextOf(t, protocol.TypeModel))
	if a.Name != "swapped" || a.URL != "/v1/model.onnx" || len(a.SHA256) != 64 {
		t.Errorf("announcement = %+v, want swapped with url and sha256", a)
	}
	var p protocol.Prediction
	postJSON(t, ts.URL+"/v1/predict", protocol.Predict{Strokes: strokesJSON(writeCode(t, "3", 100, 100)), Width: 100, Height: 100}).decode(t, &p)
	if p.Model.Name != "swapped" {
		t.Errorf("prediction by model %q, want swapped", p.Model.Name)
	}
}

func TestBatch_ResultsInOrderWithPerItemErrors(t *testing.T) {
	ts := mustOpen(t, func(c *server.Config) { c.Limits = protocol.DefaultLimits(); c.Limits.MaxBatchItems = 4 })
	items := []protocol.Predict{
		{Strokes: strokesJSON(writeCode(t, "12", 300, 100)), Width: 300, Height: 100},
		{Image: "!!bad"},
		{Image: b64(blankPNG(t))},
		{Image: b64(codePNG(t, "345"))},
	}
	res := postJSON(t, ts.URL+"/v1/predict/batch", server.BatchRequest{Items: items})
	if res.Status != http.StatusOK {
		t.Fatalf("status %d body %s", res.Status, res.Body)
	}
	var out struct{ Results []server.BatchResult }
	res.decode(t, &out)
	if len(out.Results) != 4 {
		t.Fatalf("%d results, want 4", len(out.Results))
	}
	want := []struct {
		digits int
		code   string
	}{{2, ""}, {0, protocol.EInvalid}, {0, protocol.ENoInk}, {3, ""}}
	for i, w := range want {
		r := out.Results[i]
		switch {
		case w.code != "" && (r.Error == nil || r.Error.Code != w.code):
			t.Errorf("item %d: %+v, want error %s", i, r, w.code)
		case w.code == "" && (r.Prediction == nil || len(r.Prediction.Digits) != w.digits):
			t.Errorf("item %d: %+v, want a prediction with %d digits", i, r, w.digits)
		}
	}

	over := postJSON(t, ts.URL+"/v1/predict/batch", server.BatchRequest{Items: append(items, items[0])})
	if over.Status != 413 || over.apiError(t).Code != protocol.ETooLarge {
		t.Errorf("5 items with limit 4: status %d body %s, want 413 too_large", over.Status, over.Body)
	}
}

func TestHealth_ReadyNeedsModelAndStore(t *testing.T) {
	ts := mustOpen(t)
	if r := do(t, http.MethodGet, ts.URL+"/healthz", "", nil); r.Status != 200 {
		t.Errorf("healthz: %d", r.Status)
	}
	if r := do(t, http.MethodGet, ts.URL+"/readyz", "", nil); r.Status != 200 {
		t.Errorf("readyz: %d %s", r.Status, r.Body)
	}
	ts.Store.Fail(errors.New("db down"))
	r := do(t, http.MethodGet, ts.URL+"/readyz", "", nil)
	if r.Status != 503 || r.apiError(t).Code != protocol.EUnavailable {
		t.Errorf("readyz with the store down: %d %s, want 503 unavailable", r.Status, r.Body)
	}
	if r := do(t, http.MethodGet, ts.URL+"/healthz", "", nil); r.Status != 200 {
		t.Errorf("healthz with the store down: %d, want 200 (alive)", r.Status)
	}
}

func TestHealth_NotReadyWithoutModel(t *testing.T) {
	st := storeFor(t)
	s, err := server.New(server.Config{Addr: "127.0.0.1:0", Store: st, OpenPredict: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := do(t, http.MethodGet, s.URL()+"/readyz", "", nil); r.Status != 503 {
		t.Errorf("readyz without a model: %d, want 503", r.Status)
	}
	r := postJSON(t, s.URL()+"/v1/predict", protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10})
	if r.Status != 503 || r.apiError(t).Code != protocol.EUnavailable {
		t.Errorf("predict without a model: %d %s, want 503 unavailable", r.Status, r.Body)
	}
}

func TestRoutes_UnknownPathIsJSON404(t *testing.T) {
	ts := mustOpen(t)
	r := do(t, http.MethodGet, ts.URL+"/v1/nope", "", nil)
	if r.Status != 404 || r.apiError(t).Code != protocol.ENotFound {
		t.Errorf("status %d body %s, want 404 not_found", r.Status, r.Body)
	}
}

func TestDocs_OpenAPIListsTheRoutes(t *testing.T) {
	ts := mustOpen(t)
	r := do(t, http.MethodGet, ts.URL+"/openapi.json", "", nil)
	if r.Status != 200 {
		t.Fatalf("openapi.json: %d", r.Status)
	}
	for _, want := range []string{`"openapi":"3.1.0"`, "/v1/predict", "/v1/predict/batch", "/v1/feedback",
		"/v1/predictions/{id}", "/v1/model", "/v1/admin/model", "image/png", "bearer"} {
		if !bytes.Contains(r.Body, []byte(want)) {
			t.Errorf("openapi.json lacks %s", want)
		}
	}
	if d := do(t, http.MethodGet, ts.URL+"/docs", "", nil); d.Status != 200 {
		t.Errorf("/docs: %d", d.Status)
	}
}

func TestPanic_Is500JSONAndServerLives(t *testing.T) {
	ts := mustOpen(t, withFake(&fakeEngine{}))
	res := postJSON(t, ts.URL+"/v1/predict", protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10, Format: "panic"})
	if res.Status != 500 {
		t.Fatalf("status %d, want 500; body %s", res.Status, res.Body)
	}
	e := res.apiError(t)
	if e.Code != protocol.EInternal || !strings.Contains(e.Message, res.Header.Get("X-Request-ID")) {
		t.Errorf("error %+v, want internal naming request id %s", e, res.Header.Get("X-Request-ID"))
	}
	ok := postJSON(t, ts.URL+"/v1/predict", protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10})
	if ok.Status != 200 {
		t.Errorf("after a panic: status %d, want 200", ok.Status)
	}
}

func TestRateLimit_Is429WithRetryAfter(t *testing.T) {
	ts := mustOpen(t, withFake(&fakeEngine{}), func(c *server.Config) { c.RateLimit = 0.5; c.RateBurst = 2 })
	body := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	for i := range 2 {
		if r := postJSON(t, ts.URL+"/v1/predict", body); r.Status != 200 {
			t.Fatalf("request %d within burst: %d", i, r.Status)
		}
	}
	r := postJSON(t, ts.URL+"/v1/predict", body)
	if r.Status != 429 || r.Header.Get("Retry-After") == "" || r.apiError(t).Code != protocol.ERateLimited {
		t.Errorf("over the rate: %d Retry-After %q body %s, want 429 rate_limited with Retry-After", r.Status,
			r.Header.Get("Retry-After"), r.Body)
	}
	if h := do(t, http.MethodGet, ts.URL+"/healthz", "", nil); h.Status != 200 {
		t.Errorf("healthz is rate limited: %d", h.Status)
	}
}

func TestOverload_FullQueueIs503WithRetryAfter(t *testing.T) {
	eng := &fakeEngine{gate: make(chan struct{}), entered: make(chan int, 10)}
	ts := mustOpen(t, withFake(eng), func(c *server.Config) { c.Workers = 1; c.Queue = 1; c.BatchMax = 1 })
	body := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	results := make(chan int, 2)
	go func() { results <- postJSON(t, ts.URL+"/v1/predict", body).Status }()
	<-eng.entered // the only worker is busy
	go func() { results <- postJSON(t, ts.URL+"/v1/predict", body).Status }()
	waitFor(t, "queued request", func() bool { return queueDepth(t, ts.URL) == 1 })

	r := postJSON(t, ts.URL+"/v1/predict", body)
	if r.Status != 503 || r.Header.Get("Retry-After") == "" || r.apiError(t).Code != protocol.EOverloaded {
		t.Errorf("full queue: %d Retry-After %q body %s, want 503 overloaded with Retry-After", r.Status,
			r.Header.Get("Retry-After"), r.Body)
	}
	close(eng.gate)
	for range 2 {
		if s := <-results; s != 200 {
			t.Errorf("queued request finished with %d, want 200", s)
		}
	}
	if !strings.Contains(metricsText(t, ts.URL), `digitpad_rejections_total{reason="overloaded"} 1`) {
		t.Error("overload not counted in digitpad_rejections_total")
	}
}

func TestMetrics_CountRequestsPredictionsAndFeedback(t *testing.T) {
	ts := mustOpen(t)
	postJSON(t, ts.URL+"/v1/predict", protocol.Predict{Strokes: strokesJSON(writeCode(t, "12", 300, 100)), Width: 300, Height: 100})
	f := sampleFeedback("k-m", "12")
	f.Predicted = "17"
	postJSON(t, ts.URL+"/v1/feedback", f, bearer()...)
	do(t, http.MethodGet, ts.URL+"/v1/predictions/none", "", nil)
	m := metricsText(t, ts.URL)
	for _, want := range []string{
		`digitpad_http_requests_total{code="200",route="POST /v1/predict"} 1`,
		`digitpad_http_requests_total{code="404",route="GET /v1/predictions/{id}"} 1`,
		`digitpad_http_request_duration_seconds_count{code="201",route="POST /v1/feedback"} 1`,
		`digitpad_predictions_total 1`,
		`digitpad_batch_size_count 1`,
		`digitpad_inference_duration_seconds_count 1`,
		`digitpad_digit_confidence_count 2`,
		`digitpad_feedback_total{result="created"} 1`,
		`digitpad_feedback_corrected_total 1`,
		`digitpad_feedback_with_prediction_total 1`,
		`digitpad_rejections_total{reason="not_found"} 1`,
		`digitpad_queue_depth 0`,
		`digitpad_websocket_connections 0`,
		`digitpad_model_info{name=`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func metricsText(tb testing.TB, base string) string {
	tb.Helper()
	return string(do(tb, http.MethodGet, base+"/metrics", "", nil).Body)
}

func queueDepth(tb testing.TB, base string) int {
	tb.Helper()
	for _, line := range strings.Split(metricsText(tb, base), "\n") {
		var n int
		if _, err := fmt.Sscanf(line, "digitpad_queue_depth %d", &n); err == nil {
			return n
		}
	}
	return -1
}

func storeFor(tb testing.TB) store.Store {
	tb.Helper()
	return memstore.New()
}

func TestOverload_InFlightLimitIs503BeforeWork(t *testing.T) {
	eng := &fakeEngine{gate: make(chan struct{}), entered: make(chan int, 10)}
	// No latency objective: no queue, so a busy slot means an immediate refusal.
	ts := mustOpen(t, withFake(eng), func(c *server.Config) { c.MaxInFlight = 1; c.LatencyObjective = -1 })
	body := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	first := make(chan int, 1)
	go func() { first <- postJSON(t, ts.URL+"/v1/predict", body).Status }()
	<-eng.entered

	r := postJSON(t, ts.URL+"/v1/predict", body)
	if r.Status != 503 || r.Header.Get("Retry-After") == "" || r.apiError(t).Code != protocol.EOverloaded {
		t.Errorf("second request: %d Retry-After %q body %s, want 503 overloaded", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	ws := dialWS(t, ts.URL, nil)
	ws.send(t, protocol.TypePredict, "w", body)
	if e := decodeData[protocol.Error](t, ws.nextOf(t, protocol.TypePrediction)); e.Code != protocol.EOverloaded {
		t.Errorf("websocket predict: error %+v, want overloaded", e)
	}
	if h := do(t, http.MethodGet, ts.URL+"/readyz", "", nil); h.Status != 200 {
		t.Errorf("readyz during overload: %d, want 200 (not a prediction)", h.Status)
	}
	close(eng.gate)
	if s := <-first; s != 200 {
		t.Errorf("admitted request: %d, want 200", s)
	}
}

func TestPredict_KeepInkStoresTheUploadedImage(t *testing.T) {
	ts := mustOpen(t, withFake(&fakeEngine{}), func(c *server.Config) { c.KeepInk = true })
	imgs := [][]byte{codePNG(t, "1"), codePNG(t, "23"), blankPNG(t)}
	var ids []string
	for _, img := range imgs[:2] {
		var p protocol.Prediction
		do(t, http.MethodPost, ts.URL+"/v1/predict", "image/png", img).decode(t, &p)
		ids = append(ids, p.ID)
	}
	do(t, http.MethodPost, ts.URL+"/v1/predict", "image/png", imgs[2]) // reuses huma's body buffers
	for i, id := range ids {
		var got *store.Prediction
		waitFor(t, "logged prediction", func() bool {
			var err error
			got, _, err = ts.Store.Prediction(t.Context(), id)
			return err == nil
		})
		if !bytes.Equal(got.InkPNG, imgs[i]) {
			t.Errorf("prediction %d: stored ink (%d bytes) differs from the upload (%d bytes)", i, len(got.InkPNG), len(imgs[i]))
		}
	}
}

func TestMetrics_RefusedRequestsKeepTheirRoute(t *testing.T) {
	ts := mustOpen(t, withFake(&fakeEngine{}), func(c *server.Config) { c.RateLimit = 0.1; c.RateBurst = 1 })
	body := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	postJSON(t, ts.URL+"/v1/predict", body)
	postJSON(t, ts.URL+"/v1/predict", body) // rate limited before routing
	do(t, http.MethodGet, ts.URL+"/no/such/path", "", nil)
	m := metricsText(t, ts.URL)
	for _, want := range []string{
		`digitpad_http_requests_total{code="429",route="POST /v1/predict"} 1`,
		`digitpad_http_requests_total{code="404",route="/"} 1`,
		`digitpad_rejections_total{reason="rate_limited"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestOverload_BusySlotsQueueWithinTheObjective(t *testing.T) {
	eng := &fakeEngine{gate: make(chan struct{}), entered: make(chan int, 10)}
	ts := mustOpen(t, withFake(eng), func(c *server.Config) { c.MaxInFlight = 1; c.LatencyObjective = time.Hour })
	body := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	res := make(chan int, 2)
	go func() { res <- postJSON(t, ts.URL+"/v1/predict", body).Status }()
	<-eng.entered
	go func() { res <- postJSON(t, ts.URL+"/v1/predict", body).Status }()
	waitFor(t, "second request queued", func() bool {
		return strings.Contains(metricsText(t, ts.URL), "digitpad_admission_waiting 1")
	})
	close(eng.gate)
	for range 2 {
		if s := <-res; s != 200 {
			t.Errorf("status %d, want 200: the queued request waits for the slot instead of a 503", s)
		}
	}
}
