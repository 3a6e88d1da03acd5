package server

import (
	"context"
	"testing"

	"digitpad/internal/loadcanvas"
	"digitpad/server/internal/pngdec"
	"digitpad/shared/protocol"
)

// BenchmarkDecodeInput is the upload half of a PNG prediction for the serving canvases (internal/loadcanvas):
// the decode budget, inflating and unfiltering the rows and building the working-resolution ink mask.
// "rows-" is inflating and unfiltering alone.
//
//	go test ./server -run '^$' -bench DecodeInput -cpu 1
func BenchmarkDecodeInput(b *testing.B) {
	cs, err := loadcanvas.Standard()
	if err != nil {
		b.Fatal(err)
	}
	s := &Server{cfg: Config{Limits: protocol.DefaultLimits()}, mem: newMemBudget(256<<20, 0)}
	for _, c := range cs {
		b.Run(c.Name, func(b *testing.B) {
			b.SetBytes(int64(c.W * c.H))
			b.ReportAllocs()
			for b.Loop() {
				in, release, err := s.decodeInput(context.Background(), c.PNG)
				if err != nil || in.Mask == nil {
					b.Fatalf("decode: %v", err)
				}
				release()
			}
		})
		b.Run("rows-"+c.Name, func(b *testing.B) {
			f, ok := pngdec.Parse(c.PNG)
			if !ok {
				b.Fatal("not on the fast path")
			}
			b.SetBytes(int64(c.W * c.H))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.png.Rows(&f, func(int, []byte, bool) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
