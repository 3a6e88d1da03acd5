package workres_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"strconv"
	"testing"

	xdraw "golang.org/x/image/draw"

	"digitpad/assets"
	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/train/mnist"
)

// MNIST test digits drawn as a pad's 280×280 RGB snapshot (the 28×28 frame scaled ×10, dark on white) read the
// same at working resolution (half size) as at full size, up to a few borderline digits: on all 10,000 test
// digits 9,549 full vs 9,544 working (16 differ). This checks the first 1,000 (~2 s).
func TestWorkResolution_MNISTDigitsAs280Canvases(t *testing.T) {
	dir, err := mnist.Locate(context.Background(), "")
	if err != nil {
		t.Fatalf("MNIST: %v", err)
	}
	set, err := mnist.LoadTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := onnxrec.New(assets.Model(), assets.ModelCard(), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	full, work, differ := 0, 0, 0
	for i := range n {
		g := image.NewGray(image.Rect(0, 0, 28, 28))
		for p, v := range set.Image(i) {
			g.Pix[p] = 255 - uint8(v*255)
		}
		img := image.NewRGBA(image.Rect(0, 0, 280, 280))
		draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		xdraw.BiLinear.Scale(img, img.Bounds(), g, g.Bounds(), xdraw.Src, nil)
		want := strconv.Itoa(int(set.Labels[i]))

		m, err := ink.MaskFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		if m.W != 280 {
			t.Fatalf("full-resolution mask is %d wide", m.W)
		}
		rf, ef := rec.Mask(m, recognize.Options{})
		rw, ew := rec.Image(img, recognize.Options{}) // working resolution
		if ef == nil && rf.Code == want {
			full++
		}
		if ew == nil && rw.Code == want {
			work++
		}
		if (ef == nil) != (ew == nil) || ef == nil && rf.Code != rw.Code {
			differ++
		}
		if ew == nil && len(rw.Digits) == 1 {
			if b := rw.Digits[0].Box; b[2] > 280 || b[3] > 280 || max(b[2]-b[0], b[3]-b[1]) < 150 {
				t.Errorf("digit %d: box %v is not in canvas pixels", i, b)
			}
		}
	}
	t.Logf("first %d MNIST test digits as 280×280 canvases: %d right at full resolution, %d at working resolution, %d read differently", n, full, work, differ)
	if work < full-n/200 {
		t.Errorf("working resolution reads %d right, full %d: more than 0.5%% worse", work, full)
	}
	if differ > n/50 {
		t.Errorf("%d of %d read differently at working resolution, want at most 2%%", differ, n)
	}
}
