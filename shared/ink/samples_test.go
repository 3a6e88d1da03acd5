package ink_test

import (
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"digitpad/shared/ink"
)

// TestSegment_Samples runs the shipped sample canvases (assets/samples, made by synth/cmd/mksamples): given
// the code length (the production setting) each must split into exactly its digits; without it, hurried and
// touching writing may be off by one, never more.
func TestSegment_Samples(t *testing.T) {
	dir := filepath.Join("..", "..", "assets", "samples")
	f, err := os.Open(filepath.Join(dir, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 {
		t.Fatal("labels.csv has no samples")
	}
	for _, row := range rows[1:] {
		file, code := row[0], row[1]
		t.Run(file, func(t *testing.T) {
			fh, err := os.Open(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			img, err := png.Decode(fh)
			if err != nil {
				t.Fatal(err)
			}
			for _, expect := range []int{0, len(code)} {
				ds := mustSegmentImage(t, img, ink.Options{ExpectDigits: expect})
				if d := len(ds) - len(code); d != 0 && (expect != 0 || d < -1 || d > 1) {
					t.Errorf("ExpectDigits %d: got %d digits, want %d", expect, len(ds), len(code))
				}
				for i := range ds {
					s := statsOf(&ds[i].Input)
					if s.width < 1.5 || s.width > 4.2 {
						t.Errorf("ExpectDigits %d: digit %d stroke width %.2f, want MNIST-like", expect, i, s.width)
					}
				}
			}
		})
	}
}
