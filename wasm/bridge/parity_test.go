//go:build !js

package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/desktop/kiosk"
	"digitpad/server"
	"digitpad/server/store/sqlite"
	"digitpad/shared/ink"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// The same ink must give byte-identical feedback records from the kiosk, the browser recognising locally (this
// bridge, as the page calls it) and the browser in server mode (a server prediction turned into a record by
// this bridge). Only the idempotency key, which is random by design, is set equal.
func TestFeedback_KioskBrowserAndServerRecordsAreIdentical(t *testing.T) {
	const key, client = "7f1c8e52-3d7a-4c55-9a4e-2b8f0d6c1a99", "depot-7"
	now := time.Date(2026, 12, 2, 9, 30, 15, 123_000_000, time.UTC) // the page's clock has ms precision
	onnx, card := assets.Variant(assets.FastestVariant())           // what the kiosk starts with

	// The kiosk: the real App, driven with the pointer.
	dataDir := t.TempDir()
	app, err := kiosk.Open(kiosk.Config{DataDir: dataDir, KioskID: client, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); app.Run(ctx) }()
	defer func() { cancel(); <-done; app.Close() }()
	pad := app.Layout().Pad
	w, h := pad.Dx(), pad.Dy()
	if recognize.WorkScale(h) == 1 {
		t.Fatalf("pad %dx%d: want one taller than the working raster, so scaling is covered", w, h)
	}
	strokes := padInk(t, "40215", w, h)
	ox, oy := float64(pad.Min.X), float64(pad.Min.Y)
	for _, s := range strokes {
		app.PointerDown(1, ox+s[0].X, oy+s[0].Y)
		for _, p := range s[1:] {
			app.PointerMove(1, ox+p.X, oy+p.Y)
		}
		app.PointerUp(1)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	_, err = app.WaitFor(wctx, func(s kiosk.State) bool { return s.Phase == kiosk.PhaseRecognised && len(s.Digits) > 0 })
	if err != nil {
		t.Fatalf("kiosk recognition: %v", err)
	}
	if err := app.Confirm(); err != nil {
		t.Fatalf("kiosk confirm: %v", err)
	}
	cancel()
	<-done
	app.Close()
	ob, err := kiosk.OpenOutbox(filepath.Join(dataDir, "outbox.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ob.List()
	ob.Close()
	if err != nil || len(recs) != 1 {
		t.Fatalf("kiosk outbox: %d records, err %v; want 1", len(recs), err)
	}
	kioskRec := recs[0]
	kioskRec.IdempotencyKey = key
	labels := kioskRec.Labels

	// The browser, local: the worker's calls, from a graph file as the page loads it.
	g, err := onnxload.GraphFile(onnx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	c, err := assets.ParseCard(card, onnx)
	if err != nil {
		t.Fatal(err)
	}
	// The page's manifest carries the card (webgen), which the worker hands to the bridge's load: the same
	// configuration (recognize.Calibration) the card gives the kiosk and the server.
	rec, err := recognize.New(m, recognize.ModelInfo{Name: c.Name, SHA256: m.SHA256()}, c.Configure(recognize.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	pts, ends := workerArgs(strokes)
	local, err := strokesFromFlat(pts, ends, 1)
	if err != nil {
		t.Fatal(err)
	}
	mask, scale, err := recognize.StrokesMask(local, w, h)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rec.Mask(mask, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res.UnscaleBoxes(scale, w, h)
	browserRec := pageRecord(t, local, w, h, resultObject(res), key, client, labels, now)

	// The browser in server mode: a server prediction (asked with inputs) turned into a record by the bridge.
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Store: db, OpenPredict: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetModel(onnx, card); err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	req := protocol.Predict{Width: w, Height: h, Inputs: true}
	for _, s := range local {
		var ps [][2]float64
		for _, p := range s {
			ps = append(ps, [2]float64{p.X, p.Y})
		}
		req.Strokes = append(req.Strokes, ps)
	}
	body, _ := json.Marshal(req)
	resp, err := http.Post(srv.URL()+"/v1/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var pred map[string]any
	err = json.NewDecoder(resp.Body).Decode(&pred)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/predict: %d %v", resp.StatusCode, err)
	}
	delete(pred, "id") // the prediction id is the server's; the rest of the record must agree
	serverRec := pageRecord(t, local, w, h, pred, key, client, labels, now)

	want, _ := json.Marshal(kioskRec)
	for name, got := range map[string]protocol.Feedback{"browser": browserRec, "server mode": serverRec} {
		if b, _ := json.Marshal(got); !bytes.Equal(b, want) {
			t.Errorf("%s record differs from the kiosk's:\n%s", name, fieldDiff(got, kioskRec))
		}
	}
	if kioskRec.Code != "40215" || len(kioskRec.Inputs) != 5 || len(kioskRec.InkPNG) == 0 {
		t.Errorf("kiosk record: code %q, %d inputs, %d bytes of ink: want 40215 with 5 inputs and ink",
			kioskRec.Code, len(kioskRec.Inputs), len(kioskRec.InkPNG))
	}
}

// padInk writes code with the stroke font on a w×h pad, sampled as a pointer would be (at most 1.5 px apart,
// so the kiosk's capture adds nothing) at coordinates a Float32Array holds exactly.
func padInk(t *testing.T, code string, w, h int) []ink.Stroke {
	t.Helper()
	p := synth.Defaults()
	p.Seed = 5
	p.Height = float64(h) * 0.6
	c, err := synth.Write(code, synth.Centered(p, len(code), w, h))
	if err != nil {
		t.Fatal(err)
	}
	var out []ink.Stroke
	for _, s := range c.Strokes {
		cap := kiosk.NewCapture(1.5)
		cap.Down(1, s[0])
		for _, q := range s[1:] {
			cap.Move(1, q)
		}
		dense, _ := cap.Up(1)
		var r ink.Stroke
		for _, q := range dense {
			q = ink.Point{X: float64(float32(q.X)), Y: float64(float32(q.Y))}
			if len(r) > 0 && r[len(r)-1] == q {
				continue
			}
			r = append(r, q)
		}
		out = append(out, r)
	}
	return out
}

// workerArgs packs strokes as the worker sends them (little-endian float32 pairs, exclusive ends).
func workerArgs(strokes []ink.Stroke) ([]byte, []uint32) {
	var pts []byte
	var ends []uint32
	for _, s := range strokes {
		for _, p := range s {
			pts = appendF32(appendF32(pts, float32(p.X)), float32(p.Y))
		}
		ends = append(ends, uint32(len(pts)/8))
	}
	return pts, ends
}

func appendF32(b []byte, f float32) []byte {
	u := math.Float32bits(f)
	return append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
}

// pageRecord does what the page does: the result it shows, as JavaScript has it (JSON numbers), goes back to
// the bridge with the clerk's labels; the record object is stored as JSON and sent to the server, which
// decodes it into protocol.Feedback.
func pageRecord(t *testing.T, strokes []ink.Stroke, w, h int, result map[string]any, key, client string, labels []int, now time.Time) protocol.Feedback {
	t.Helper()
	var shown any
	js, _ := json.Marshal(result)
	if err := json.Unmarshal(js, &shown); err != nil {
		t.Fatal(err)
	}
	ls := make([]any, len(labels))
	for i, l := range labels {
		ls[i] = float64(l)
	}
	f, err := feedbackRecord(strokes, w, h, map[string]any{
		"idempotency_key": key, "client_id": client, "labels": ls,
		"created_at": float64(now.UnixMilli()), "prediction": shown,
	})
	if err != nil {
		t.Fatalf("feedbackRecord: %v", err)
	}
	stored, _ := json.Marshal(recordObject(f))
	var got protocol.Feedback
	if err := json.Unmarshal(stored, &got); err != nil {
		t.Fatalf("the record object is not protocol.Feedback JSON: %v\n%s", err, stored)
	}
	return got
}

func fieldDiff(a, b protocol.Feedback) string {
	var out string
	for _, f := range []struct {
		name string
		a, b any
	}{
		{"code", a.Code, b.Code}, {"labels", a.Labels, b.Labels}, {"predicted", a.Predicted, b.Predicted},
		{"digits", a.Digits, b.Digits}, {"ink_png", a.InkPNG, b.InkPNG}, {"inputs", a.Inputs, b.Inputs},
		{"model_sha256", a.ModelSHA256, b.ModelSHA256}, {"created_at", a.CreatedAt, b.CreatedAt},
		{"client_id", a.ClientID, b.ClientID}, {"prediction_id", a.PredictionID, b.PredictionID},
	} {
		x, _ := json.Marshal(f.a)
		y, _ := json.Marshal(f.b)
		if !bytes.Equal(x, y) {
			i := 0 // show from just before the first difference
			for i < len(x) && i < len(y) && x[i] == y[i] {
				i++
			}
			i = max(0, i-40)
			x, y = x[i:min(len(x), i+200)], y[i:min(len(y), i+200)]
			out += "  " + f.name + ": " + string(x) + "\n   kiosk: " + string(y) + "\n"
		}
	}
	return out
}
