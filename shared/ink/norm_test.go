package ink_test

import (
	"image/color"
	"math"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

func TestNormalize_MNISTLike(t *testing.T) {
	type tc struct {
		name        string
		digit       string
		style       int
		w, h        int
		height, pen float64
		x, y        float64 // top-left of the digit; negative means centred
	}
	tests := []tc{
		{"centred 3", "3", 0, 640, 200, 120, 8, -1, -1},
		{"digit in the top-left corner", "2", 0, 640, 200, 100, 8, 4, 4},
		{"digit in the bottom-right corner", "6", 0, 640, 200, 100, 8, 560, 96},
		{"tiny digit", "5", 0, 640, 200, 18, 2, -1, -1},
		{"huge digit on a big canvas", "8", 0, 2000, 2000, 1800, 60, -1, -1},
		{"thick marker", "0", 0, 640, 200, 150, 30, -1, -1},
		{"thin 1px pen on a big canvas", "4", synth.FourClosed, 1600, 1000, 800, 1, -1, -1},
		{"thin 1px pen, small digit", "7", synth.SevenPlain, 640, 200, 60, 1, -1, -1},
		{"1 with flag", "1", synth.OneFlag, 640, 200, 150, 8, -1, -1},
		{"9 with a fine pen", "9", 0, 640, 200, 160, 3, -1, -1},
	}
	for _, tt := range tests {
		p := synth.Params{Seed: 1, Height: tt.height, Jitter: 0.3, Styles: []int{tt.style}}
		if tt.x < 0 {
			p = synth.Centered(p, 1, tt.w, tt.h)
		} else {
			p.X, p.Y = tt.x, tt.y
		}
		c := mustWrite(t, tt.digit, p)
		opt := ink.Options{PenWidth: tt.pen}
		t.Run(tt.name+"/image", func(t *testing.T) {
			img := mustRender(t, c.Strokes, tt.w, tt.h, synth.Pen{Width: tt.pen, Ink: black, Background: white})
			ds := mustSegmentImage(t, img, opt)
			if len(ds) != 1 {
				t.Fatalf("got %d digits, want 1", len(ds))
			}
			checkMNISTLike(t, &ds[0].Input)
		})
		t.Run(tt.name+"/strokes", func(t *testing.T) {
			ds := mustSegmentStrokes(t, c.Strokes, tt.w, tt.h, opt)
			if len(ds) != 1 {
				t.Fatalf("got %d digits, want 1", len(ds))
			}
			checkMNISTLike(t, &ds[0].Input)
		})
	}
}

func TestNormalize_OneStaysAThinBar(t *testing.T) {
	c := mustWrite(t, "1", synth.Centered(synth.Params{Height: 150, Styles: []int{synth.OneStroke}}, 1, 640, 200))
	for _, path := range []string{"image", "strokes"} {
		t.Run(path, func(t *testing.T) {
			var ds []ink.Digit
			if path == "image" {
				ds = mustSegmentImage(t, mustRender(t, c.Strokes, 640, 200, synth.Pen{Width: 8, Background: color.White}), ink.Options{})
			} else {
				ds = mustSegmentStrokes(t, c.Strokes, 640, 200, ink.Options{PenWidth: 8})
			}
			if len(ds) != 1 {
				t.Fatalf("got %d digits, want 1", len(ds))
			}
			s := statsOf(&ds[0].Input)
			if s.box.Dy() < 18 || s.box.Dx() > 6 {
				t.Errorf("ink box %v (%dx%d), want a thin vertical bar: height >= 18, width <= 6\n%s", s.box, s.box.Dx(), s.box.Dy(), ascii(&ds[0].Input))
			}
			if math.Abs(s.comX-14) > 1 {
				t.Errorf("centre of mass x = %.2f, want 14", s.comX)
			}
		})
	}
}

func TestNormalize_StrokesMatchRenderedImage(t *testing.T) {
	const w, h = 640, 200
	for seed := uint64(1); seed <= 4; seed++ {
		c := mustWrite(t, "38265", codeParams(seed, 5, 120, w, h))
		fromStrokes := mustSegmentStrokes(t, c.Strokes, w, h, ink.Options{PenWidth: 6})
		fromImage := mustSegmentImage(t, mustRender(t, c.Strokes, w, h, synth.Pen{Width: 6, Background: white}), ink.Options{})
		if len(fromStrokes) != 5 || len(fromImage) != 5 {
			t.Fatalf("seed %d: got %d and %d digits, want 5 and 5", seed, len(fromStrokes), len(fromImage))
		}
		for i := range fromStrokes {
			if r := shiftedCorrelation(&fromStrokes[i].Input, &fromImage[i].Input); r < 0.75 {
				t.Errorf("seed %d digit %d: correlation strokes vs image = %.2f, want >= 0.75\n%s", seed, i, r,
					sideBySide(&fromStrokes[i].Input, &fromImage[i].Input))
			}
			if fromStrokes[i].Box != fromImage[i].Box {
				// The same ink gives the same box up to anti-aliasing.
				d := fromStrokes[i].Box.Min.Sub(fromImage[i].Box.Min)
				e := fromStrokes[i].Box.Max.Sub(fromImage[i].Box.Max)
				if max(abs(d.X), abs(d.Y), abs(e.X), abs(e.Y)) > 2 {
					t.Errorf("seed %d digit %d: box %v from strokes, %v from image", seed, i, fromStrokes[i].Box, fromImage[i].Box)
				}
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
