package synth_test

import (
	"encoding/json"
	"image"
	"image/color"
	"math"
	"reflect"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

func mustWrite(t *testing.T, text string, p synth.Params) *synth.Code {
	t.Helper()
	c, err := synth.Write(text, p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWrite_DeterministicGivenSeed(t *testing.T) {
	p := synth.Defaults()
	p.Seed = 42
	a := mustWrite(t, "94107", p)
	b := mustWrite(t, "94107", p)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed wrote different strokes")
	}
	p.Seed = 43
	c := mustWrite(t, "94107", p)
	if reflect.DeepEqual(a.Strokes, c.Strokes) {
		t.Error("different seeds wrote identical strokes")
	}
}

func TestWrite_Layout(t *testing.T) {
	p := synth.Params{X: 50, Y: 20, Height: 100, Gap: 0.3, Styles: []int{0, 0, 0, 0, 0}}
	c := mustWrite(t, "38265", p)
	if len(c.Boxes) != 5 || len(c.Digit) != len(c.Strokes) {
		t.Fatalf("got %d boxes and %d digit indexes for %d strokes", len(c.Boxes), len(c.Digit), len(c.Strokes))
	}
	for i, b := range c.Boxes {
		if b.Dy() < 90 || b.Dy() > 110 {
			t.Errorf("digit %d height %d, want about 100", i, b.Dy())
		}
		if i > 0 {
			if gap := b.Min.X - c.Boxes[i-1].Max.X; gap < 28 || gap > 32 {
				t.Errorf("gap before digit %d = %d, want 30 (0.3 of the height)", i, gap)
			}
		}
	}
	if c.Boxes[0].Min.X < 49 || c.Boxes[0].Min.X > 51 {
		t.Errorf("first digit starts at x=%d, want 50", c.Boxes[0].Min.X)
	}
	// Every stroke lies inside its digit's box.
	for i, s := range c.Strokes {
		b := c.Boxes[c.Digit[i]].Inset(-1)
		for _, q := range s {
			if !(image.Point{int(q.X), int(q.Y)}).In(b) {
				t.Fatalf("stroke %d point %v outside its digit box %v", i, q, b)
			}
		}
	}
}

func TestWrite_StepSpacesSamples(t *testing.T) {
	for _, step := range []float64{2, 10} {
		c := mustWrite(t, "0", synth.Params{Height: 200, Step: step})
		s := c.Strokes[0]
		for i := 1; i < len(s)-1; i++ {
			if d := math.Hypot(s[i].X-s[i-1].X, s[i].Y-s[i-1].Y); d > step+1e-9 || d < step*0.5 {
				t.Fatalf("step %g: samples %d,%d are %.2f apart", step, i-1, i, d)
			}
		}
	}
}

func TestWrite_RejectsBadInput(t *testing.T) {
	for _, tt := range []struct {
		name string
		text string
		p    synth.Params
	}{
		{"letter", "94a07", synth.Params{}},
		{"negative height", "1", synth.Params{Height: -5}},
		{"NaN gap", "1", synth.Params{Gap: math.NaN()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := synth.Write(tt.text, tt.p); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestStyles(t *testing.T) {
	for d := 0; d <= 9; d++ {
		if n := synth.NumStyles(d); n < 2 {
			t.Errorf("digit %d has %d styles, want at least 2", d, n)
		}
	}
	if synth.NumStyles(10) != 0 || synth.NumStyles(-1) != 0 {
		t.Error("non-digits must have no styles")
	}
	// A 7 in two strokes that do not meet and a 5 with a detached bar render as two components.
	for _, tt := range []struct {
		digit string
		style int
	}{{"7", synth.SevenApart}, {"5", synth.FiveDetached}, {"4", synth.FourOpen}} {
		c := mustWrite(t, tt.digit, synth.Params{Height: 100, Styles: []int{tt.style}})
		if len(c.Strokes) != 2 {
			t.Errorf("%s style %d: %d strokes, want 2", tt.digit, tt.style, len(c.Strokes))
		}
	}
}

func TestPaths_JSON(t *testing.T) {
	c := mustWrite(t, "12", synth.Params{Height: 50})
	b, err := json.Marshal(c.Paths())
	if err != nil {
		t.Fatal(err)
	}
	var back [][][2]float64
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != len(c.Strokes) {
		t.Fatalf("JSON has %d strokes, want %d", len(back), len(c.Strokes))
	}
	if got, want := back[0][0], [2]float64{c.Strokes[0][0].X, c.Strokes[0][0].Y}; got != want {
		t.Errorf("first point %v, want %v", got, want)
	}
}

func TestFit_CentresTheCode(t *testing.T) {
	p, err := synth.Fit("94107", synth.Defaults(), 640, 200)
	if err != nil {
		t.Fatal(err)
	}
	c := mustWrite(t, "94107", p)
	left, right := c.Boxes[0].Min.X, 640-c.Boxes[4].Max.X
	if d := left - right; d < -3 || d > 3 {
		t.Errorf("margins left %d right %d, want equal", left, right)
	}
}

// TestFitWithin_KeepsAWideCodeOnThePad: a strongly slanted code written at the default height is wider than
// the pad; FitWithin shrinks it to the asked share of the width and centres it, and leaves a code that fits alone.
func TestFitWithin_KeepsAWideCodeOnThePad(t *testing.T) {
	wide := synth.Defaults()
	wide.Slant, wide.Height = 0.8, 160
	if c := mustWrite(t, "74357", wide); c.Width() <= 900 {
		t.Fatalf("test code is %.0f px wide, want wider than the 900-px pad", c.Width())
	}
	p, err := synth.FitWithin("74357", wide, 900, 200, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	c := mustWrite(t, "74357", p)
	if w := c.Width(); w > 0.9*900+2 || w < 0.8*900 {
		t.Errorf("fitted code is %.0f px wide, want about %.0f", w, 0.9*900)
	}
	if left, right := c.Boxes[0].Min.X, 900-c.Boxes[4].Max.X; left < 0 || right < 0 {
		t.Errorf("fitted code leaves the pad: margins left %d right %d", left, right)
	}
	narrow, err := synth.FitWithin("94107", synth.Defaults(), 640, 200, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	if fit, _ := synth.Fit("94107", synth.Defaults(), 640, 200); narrow.Height != fit.Height || narrow.X != fit.X || narrow.Y != fit.Y {
		t.Errorf("a code that fits: FitWithin height %v at (%v, %v), Fit %v at (%v, %v)", narrow.Height, narrow.X, narrow.Y, fit.Height, fit.X, fit.Y)
	}
}

func TestRender_Colours(t *testing.T) {
	strokes := []ink.Stroke{{{X: 10, Y: 10}, {X: 50, Y: 10}}}
	tests := []struct {
		name     string
		pen      synth.Pen
		ink, bg  color.RGBA
		atInk    image.Point
		atPaper  image.Point
		wantSize int
	}{
		{"black on white", synth.Pen{Width: 6, Ink: color.Black, Background: color.White}, color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}, image.Pt(30, 10), image.Pt(30, 30), 64},
		{"white on black", synth.Pen{Width: 6, Ink: color.White, Background: color.Black}, color.RGBA{255, 255, 255, 255}, color.RGBA{0, 0, 0, 255}, image.Pt(30, 10), image.Pt(30, 30), 64},
		{"black on transparent", synth.Pen{Width: 6}, color.RGBA{0, 0, 0, 255}, color.RGBA{}, image.Pt(30, 10), image.Pt(30, 30), 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := synth.Render(strokes, 64, 40, tt.pen)
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != tt.wantSize {
				t.Errorf("width %d, want %d", img.Bounds().Dx(), tt.wantSize)
			}
			if got := img.RGBAAt(tt.atInk.X, tt.atInk.Y); got != tt.ink {
				t.Errorf("ink pixel %v, want %v", got, tt.ink)
			}
			if got := img.RGBAAt(tt.atPaper.X, tt.atPaper.Y); got != tt.bg {
				t.Errorf("paper pixel %v, want %v", got, tt.bg)
			}
		})
	}
}

func TestDotted(t *testing.T) {
	dots := synth.Dotted([]ink.Stroke{{{X: 0, Y: 0}, {X: 100, Y: 0}}}, 10)
	if len(dots) != 11 {
		t.Fatalf("got %d dots, want 11 (every 10 px over 100 px, both ends)", len(dots))
	}
	for i, d := range dots {
		if len(d) != 1 {
			t.Errorf("dot %d has %d points, want 1", i, len(d))
		}
	}
}

// digitImages makes MNIST-like inputs from the stroke font, so the test needs no data files.
func digitImages(t *testing.T, code string) [][784]float32 {
	t.Helper()
	c := mustWrite(t, code, synth.Params{X: 20, Y: 20, Height: 100, Gap: 0.5, Styles: []int{0, 0, 0, 0, 0}})
	m, err := ink.MaskFromStrokesOpt(c.Strokes, 800, 140, ink.Options{PenWidth: 8})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ink.Segment(m, ink.Options{ExpectDigits: len(code)})
	if err != nil {
		t.Fatal(err)
	}
	out := make([][784]float32, len(ds))
	for i, d := range ds {
		out[i] = d.Input
	}
	return out
}

func TestComposite(t *testing.T) {
	digits := digitImages(t, "20500")
	if len(digits) != 5 {
		t.Fatalf("setup: %d digit images, want 5", len(digits))
	}
	tests := []struct {
		name  string
		p     synth.CompositeParams
		pen   synth.Pen
		check func(t *testing.T, img *image.RGBA, boxes []image.Rectangle)
	}{
		{"spaced, dark on light", synth.CompositeParams{X: 20, Y: 40, Height: 100, Gap: 0.2}, synth.Pen{Ink: color.Black, Background: color.White},
			func(t *testing.T, img *image.RGBA, boxes []image.Rectangle) {
				for i, b := range boxes {
					if b.Dy() < 95 || b.Dy() > 108 {
						t.Errorf("digit %d ink height %d, want about 100", i, b.Dy())
					}
					if i > 0 && b.Min.X <= boxes[i-1].Max.X {
						t.Errorf("digit %d box %v overlaps %v despite a positive gap", i, b, boxes[i-1])
					}
				}
				if got := img.RGBAAt(0, 0); got != (color.RGBA{255, 255, 255, 255}) {
					t.Errorf("background %v, want white", got)
				}
			}},
		{"overlapping", synth.CompositeParams{X: 20, Y: 40, Height: 100, Gap: -0.12}, synth.Pen{Ink: color.White, Background: color.Black},
			func(t *testing.T, img *image.RGBA, boxes []image.Rectangle) {
				for i := 1; i < len(boxes); i++ {
					if boxes[i].Min.X > boxes[i-1].Max.X {
						t.Errorf("digits %d and %d do not overlap with a negative gap", i-1, i)
					}
				}
			}},
		{"centred and transparent", synth.CompositeParams{Height: 80, Gap: 0.2, Center: true}, synth.Pen{Ink: color.Black},
			func(t *testing.T, img *image.RGBA, boxes []image.Rectangle) {
				left, right := boxes[0].Min.X, 640-boxes[len(boxes)-1].Max.X
				if d := left - right; d < -4 || d > 4 {
					t.Errorf("margins %d and %d, want centred", left, right)
				}
				if a := img.RGBAAt(0, 0).A; a != 0 {
					t.Errorf("background alpha %d, want transparent", a)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, boxes, err := synth.Composite(digits, 640, 200, tt.p, tt.pen)
			if err != nil {
				t.Fatal(err)
			}
			if len(boxes) != 5 {
				t.Fatalf("got %d boxes, want 5", len(boxes))
			}
			tt.check(t, img, boxes)
		})
	}
	t.Run("thickness", func(t *testing.T) {
		inkArea := func(th float64) int {
			img, _, err := synth.Composite(digits, 640, 200, synth.CompositeParams{X: 20, Y: 40, Height: 100, Gap: 0.2, Thickness: th}, synth.Pen{Ink: color.Black, Background: color.White})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for i := 0; i < len(img.Pix); i += 4 {
				if img.Pix[i] < 128 {
					n++
				}
			}
			return n
		}
		thin, normal, thick := inkArea(-0.7), inkArea(0), inkArea(0.7)
		if !(thin < normal && normal < thick) {
			t.Errorf("ink areas thin %d, normal %d, thick %d: want increasing", thin, normal, thick)
		}
	})
	t.Run("blank digit", func(t *testing.T) {
		if _, _, err := synth.Composite([][784]float32{{}}, 640, 200, synth.CompositeParams{}, synth.Pen{}); err == nil {
			t.Error("want an error for a blank digit image")
		}
	})
}
