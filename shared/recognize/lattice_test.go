package recognize_test

import (
	"image"
	"testing"

	"digitpad/internal/cputime"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// Tightly written codes (touching and overlapping neighbours, synthetic validation writers) with a 5-digit
// format: the model judges where the digits part among cuts that follow the strokes, so the reading has five
// digits and many more codes read exactly. Before the lattice, half of such codes read as four digits or fewer.
func TestImage_TightCodesReadWithTheFormatsCount(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{Format: "5"})
	const n = 40
	exact, five := 0, 0
	for q := range n {
		img, code, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, 4*q+3, 50) // every fourth item is tight
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Image(img, recognize.Options{})
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if len(res.Digits) == 5 {
			five++
		}
		if res.Code == code {
			exact++
		}
	}
	t.Logf("%d tight codes: %d read with 5 digits, %d exactly", n, five, exact)
	// Measured: 40 with five digits, 18 exact.
	if five < n*95/100 || exact < n*2/5 {
		t.Errorf("%d tight codes: %d with 5 digits (want >= 95%%), %d exact (want >= 40%%)", n, five, exact)
	}
}

// BenchmarkImage_TightCode640x240 reads a tightly written code (every digit touching a neighbour) with the
// 5-digit format: segmentation, the lattice's extra candidate digits and the model calls.
func BenchmarkImage_TightCode640x240(b *testing.B) {
	r := mustRecognizer(b, recognize.Config{Format: "5"})
	img, _, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, 3, 50)
	if err != nil {
		b.Fatal(err)
	}
	benchCPU(b, 1, func() {
		if _, err := r.Image(img, recognize.Options{}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkImage_Codes reads 16 validation writers' codes with the 5-digit format, per code: tight ones (every
// digit touching a neighbour, the lattice's case) and the others.
func BenchmarkImage_Codes(b *testing.B) {
	r := mustRecognizer(b, recognize.Config{Format: "5"})
	for _, tc := range []struct {
		name string
		off  int
	}{{"tight", 3}, {"normal", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			var imgs []image.Image
			for q := range 16 {
				img, _, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, 4*q+tc.off, 50)
				if err != nil {
					b.Fatal(err)
				}
				imgs = append(imgs, img)
			}
			benchCPU(b, len(imgs), func() {
				for _, img := range imgs {
					if _, err := r.Image(img, recognize.Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// benchCPU runs op per iteration and reports, besides wall time, the process CPU time per item (op handles
// perItem items): on a shared machine the CPU time is the figure to compare.
func benchCPU(b *testing.B, perItem int, op func()) {
	b.ReportAllocs()
	cpu0 := cputime.Process()
	for b.Loop() {
		op()
	}
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/1e6/float64(b.N*perItem), "cpu-ms/code")
	}
}
