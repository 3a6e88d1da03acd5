package server_test

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"net/http"
	"net/http/httptest"
	"testing"

	"digitpad/assets"
	"digitpad/internal/cputime"
	"digitpad/internal/loadcanvas"
	"digitpad/server"
	"digitpad/shared/synth"
)

// BenchmarkPredict_PNG measures one POST /v1/predict with a raw PNG body through the whole handler stack (no
// network): PNG decode, ink mask, segmentation, batcher, model, JSON. Sizes: one digit on a small 64×64 image,
// and a pad canvas (gray, as a pad's snapshot after conversion) with one and five digits.
func BenchmarkPredict_PNG(b *testing.B) {
	cases := []struct {
		name    string
		code    string
		w, h    int
		variant string // embedded model variant; empty: fp32
	}{
		{"digit-76x64", "8", 76, 64, ""},
		{"digit-76x64-int8", "8", 76, 64, "int8"}, // what scripts/load sends, to the model `serve` picks on VNNI CPUs
		{"pad-1digit-200x160", "8", 200, 160, ""},
		{"pad-5digits-560x160", "80331", 560, 160, ""},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ts := mustOpen(b, func(c *server.Config) { c.BatchWait = -1 })
			if c.variant != "" {
				if err := ts.SetModel(assets.Variant(c.variant)); err != nil {
					b.Fatal(err)
				}
			}
			img := grayPNG(b, c.code, c.w, c.h)
			h := ts.Handler()
			b.SetBytes(int64(len(img)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			defer func() { b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op") }()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/v1/predict", bytes.NewReader(img))
					req.Header.Set("Content-Type", "image/png")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}

func grayPNG(tb testing.TB, code string, w, h int) []byte {
	tb.Helper()
	p := synth.Defaults()
	p.Height = 0.6 * float64(h)
	p = synth.Centered(p, len(code), w, h)
	c, err := synth.Write(code, p)
	if err != nil {
		tb.Fatal(err)
	}
	pen := max(2, float64(h)/20)
	rgba, err := synth.Render(c.Strokes, w, h, synth.Pen{Width: pen, Background: color.White})
	if err != nil {
		tb.Fatal(err)
	}
	g := image.NewGray(rgba.Bounds())
	draw.Draw(g, g.Bounds(), rgba, image.Point{}, draw.Src)
	return encodePNG(tb, g)
}

// BenchmarkPredict_ServerOverhead is the server's own cost per request (routing, middleware, admission, decode
// budget, batcher hand-off, metrics, drift monitor hand-off, answer JSON, prediction log buffer) with a
// recogniser that does no work: a strokes JSON body through huma, and a raw 76×64 grey PNG (what scripts/load
// sends) through the raw-body path, PNG decode and ink mask included. cpu-ns/op is process CPU time; for
// instructions run it under callgrind (GODEBUG=asyncpreemptoff=1) at two -benchtime counts and take the
// difference.
//
//	go test ./server -run '^$' -bench Predict_ServerOverhead -cpu 1 -benchmem
func BenchmarkPredict_ServerOverhead(b *testing.B) {
	cs, err := loadcanvas.Standard()
	if err != nil {
		b.Fatal(err)
	}
	var grey []byte
	for _, c := range cs {
		if c.Name == "76x64-gray-1digit" {
			grey = c.PNG
		}
	}
	for _, c := range []struct{ name, contentType string }{
		{"strokes-json", "application/json"},
		{"png-76x64", "image/png"},
	} {
		b.Run(c.name, func(b *testing.B) {
			ts := mustOpen(b, withFake(&fakeEngine{}), func(c *server.Config) { c.BatchWait, c.Monitor.MaxRate = -1, 1e-9 })
			body := []byte(`{"strokes":[[[1,1],[2,2]]],"width":10,"height":10}`)
			if c.contentType == "image/png" {
				body = grey
			}
			h := ts.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/v1/predict", bytes.NewReader(body))
					req.Header.Set("Content-Type", c.contentType)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
			b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
