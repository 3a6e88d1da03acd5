package ink_test

import (
	"bytes"
	"image/png"
	"testing"

	"digitpad/internal/cputime"
	"digitpad/internal/loadcanvas"
	"digitpad/shared/ink"
)

// BenchmarkPrepareCanvas is the ink work of one served answer for the load canvases (internal/loadcanvas, the
// MNIST digit's included):
// the working-resolution mask from the decoded image ("mask"), and the free segmentation with its first
// candidate's digits normalised ("segment", what a one-digit answer without a format costs in ink).
//
//	go test ./shared/ink -run '^$' -bench PrepareCanvas -cpu 1 -benchmem
func BenchmarkPrepareCanvas(b *testing.B) {
	cs, err := loadcanvas.Standard()
	if err != nil {
		b.Fatal(err)
	}
	mn, err := loadcanvas.MNIST(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range append(cs, mn) {
		img, err := png.Decode(bytes.NewReader(c.PNG))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.Name+"/mask", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				if _, err := ink.WorkMaskFromImage(img, ink.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
		})
		m, err := ink.WorkMaskFromImage(img, ink.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.Name+"/segment", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				_, cands, err := ink.SegmentFree(m, ink.Options{}, 3)
				if err != nil {
					b.Fatal(err)
				}
				for i := range cands.Boxes[0] {
					_ = cands.Digit(0, i)
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
