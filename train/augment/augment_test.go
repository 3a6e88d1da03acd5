package augment_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"digitpad/train/augment"
)

// ring draws a "0"-like ellipse of stroke width ~2 px centred in a 28×28 frame, MNIST style.
func ring() []float32 {
	img := make([]float32, 28*28)
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			dx, dy := (float64(x)+0.5-14)/6, (float64(y)+0.5-14)/9
			r := math.Hypot(dx, dy)
			if v := 1 - math.Abs(r-1)*4; v > 0 {
				img[y*28+x] = float32(min(1, v*1.5))
			}
		}
	}
	return img
}

type stats struct {
	x0, y0, x1, y1 int
	comX, comY     float64
	mass           float64
}

func measure(img []float32) stats {
	s := stats{x0: 28, y0: 28, x1: -1, y1: -1}
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			v := float64(img[y*28+x])
			if v > 0.05 {
				s.x0, s.y0, s.x1, s.y1 = min(s.x0, x), min(s.y0, y), max(s.x1, x), max(s.y1, y)
			}
			s.mass += v
			s.comX += v * (float64(x) + 0.5)
			s.comY += v * (float64(y) + 0.5)
		}
	}
	if s.mass > 0 {
		s.comX /= s.mass
		s.comY /= s.mass
	}
	return s
}

func TestApply_DeterministicGivenSeed(t *testing.T) {
	src := ring()
	a, b := augment.New(augment.Default()), augment.New(augment.Default())
	got, want := make([]float32, 784), make([]float32, 784)
	for seed := uint64(0); seed < 20; seed++ {
		a.Apply(rand.New(rand.NewPCG(seed, 1)), src, got)
		b.Apply(rand.New(rand.NewPCG(seed, 1)), src, want)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: two augmenters disagree", seed)
		}
	}
	other := make([]float32, 784)
	a.Apply(rand.New(rand.NewPCG(99, 2)), src, other)
	a.Apply(rand.New(rand.NewPCG(98, 2)), src, got)
	if slices.Equal(got, other) {
		t.Error("different seeds gave the same image")
	}
}

func TestApply_KeepsDigitInsideFrameAndCentred(t *testing.T) {
	p := augment.Default()
	p.RawProb = 0
	a := augment.New(p)
	src := ring()
	dst := make([]float32, 784)
	for seed := uint64(0); seed < 300; seed++ {
		a.Apply(rand.New(rand.NewPCG(seed, 7)), src, dst)
		s := measure(dst)
		if s.x1 < 0 {
			t.Fatalf("seed %d: no ink left", seed)
		}
		if s.x0 == 0 || s.y0 == 0 || s.x1 == 27 || s.y1 == 27 {
			t.Errorf("seed %d: ink touches the frame (box %d,%d..%d,%d)", seed, s.x0, s.y0, s.x1, s.y1)
		}
		side := max(s.x1-s.x0, s.y1-s.y0) + 1
		if side < 20-p.BoxJitter-1 || side > 20+p.BoxJitter+1 {
			t.Errorf("seed %d: long side %d px, want 20±%d", seed, side, p.BoxJitter)
		}
		lim := float64(p.ShiftPx) + 1
		if math.Abs(s.comX-14.5) > lim || math.Abs(s.comY-14.5) > lim {
			t.Errorf("seed %d: centre of mass (%.1f,%.1f), want within %.0f px of (14,14)", seed, s.comX, s.comY, lim)
		}
	}
}

func TestApply_ZeroParamsOnlyRenormalises(t *testing.T) {
	src := ring()
	dst := make([]float32, 784)
	augment.New(augment.Params{Renormalise: false}).Apply(rand.New(rand.NewPCG(1, 1)), src, dst)
	for i := range src {
		if math.Abs(float64(src[i]-dst[i])) > 1e-6 {
			t.Fatalf("pixel %d: %v, want unchanged %v", i, dst[i], src[i])
		}
	}
}

func TestNormalise_CentresAndFitsBox(t *testing.T) {
	// A 6×12 bar in the top-left corner of a 40×30 image.
	const w, h = 40, 30
	src := make([]float32, w*h)
	for y := 2; y < 14; y++ {
		for x := 3; x < 9; x++ {
			src[y*w+x] = 1
		}
	}
	dst := make([]float32, 784)
	augment.Normalise(src, w, h, dst)
	s := measure(dst)
	if got := s.y1 - s.y0 + 1; got != 20 {
		t.Errorf("height %d, want 20 (long side fits the 20×20 box)", got)
	}
	if got := s.x1 - s.x0 + 1; got != 10 {
		t.Errorf("width %d, want 10 (aspect kept)", got)
	}
	// measure uses pixel-edge coordinates: the centre of pixel 14 is 14.5.
	if math.Abs(s.comX-14.5) > 0.5 || math.Abs(s.comY-14.5) > 0.5 {
		t.Errorf("centre of mass (%.2f,%.2f), want pixel (14,14) = (14.5,14.5)", s.comX, s.comY)
	}
}

func TestNormalise_EmptyImageStaysEmpty(t *testing.T) {
	dst := make([]float32, 784)
	dst[5] = 1
	augment.Normalise(make([]float32, 100), 10, 10, dst)
	if slices.ContainsFunc(dst, func(v float32) bool { return v != 0 }) {
		t.Error("empty input produced ink")
	}
}
