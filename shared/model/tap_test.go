package model_test

import (
	"slices"
	"strings"
	"testing"

	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
)

// TestRunTap_OutputUnchangedAndTapIsPenultimate checks on every test model that a tap on the penultimate value
// leaves the output bit-identical and returns exactly what a graph cut at that value computes.
func TestRunTap_OutputUnchangedAndTapIsPenultimate(t *testing.T) {
	for name, b := range testModels(t) {
		t.Run(name, func(t *testing.T) {
			g, err := onnxload.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			pen, err := model.Penultimate(g)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := model.Compile(g)
			if err != nil {
				t.Fatal(err)
			}
			tapped, err := model.Compile(g, model.WithTap(pen))
			if err != nil {
				t.Fatal(err)
			}
			cut := *g
			cut.Output = pen
			front, err := model.Compile(&cut)
			if err != nil {
				t.Fatal(err)
			}
			if tapped.TapSize() != front.OutputSize() || tapped.TapSize() == 0 {
				t.Fatalf("TapSize = %d, cut graph gives %d floats", tapped.TapSize(), front.OutputSize())
			}
			for _, n := range []int{1, 3, 70} { // 70 runs in two chunks
				if name == "trainer fixed batch1" && n > 1 {
					continue
				}
				in := digitLike(7, n, plain.InputSize())
				want := make([]float32, n*plain.OutputSize())
				got := make([]float32, len(want))
				tap := make([]float32, n*tapped.TapSize())
				wantTap := make([]float32, len(tap))
				if err := plain.Run(in, n, want); err != nil {
					t.Fatal(err)
				}
				if err := tapped.RunTap(in, n, got, tap); err != nil {
					t.Fatal(err)
				}
				if err := front.Run(in, n, wantTap); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("batch %d: output with a tap differs from the plain plan", n)
				}
				if !slices.Equal(tap, wantTap) {
					t.Errorf("batch %d: tap differs from the graph cut at %q", n, pen)
				}
				nonzero := 0
				for _, v := range tap {
					if v != 0 {
						nonzero++
					}
				}
				if nonzero == 0 {
					t.Errorf("batch %d: tap is all zeros", n)
				}
			}
		})
	}
}

func TestRunTap_AllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop scratch buffers at random")
	}
	b := shippedModel(t)
	g, err := onnxload.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	pen, _ := model.Penultimate(g)
	m, err := model.Compile(g, model.WithTap(pen))
	if err != nil {
		t.Fatal(err)
	}
	n := 16
	in := digitLike(1, n, m.InputSize())
	out := make([]float32, n*m.OutputSize())
	tap := make([]float32, n*m.TapSize())
	_ = m.RunTap(in, n, out, tap)
	if allocs := testing.AllocsPerRun(20, func() { _ = m.RunTap(in, n, out, tap) }); allocs != 0 {
		t.Errorf("%v allocations per RunTap, want 0", allocs)
	}
}

func TestRunTap_Errors(t *testing.T) {
	b := shippedModel(t)
	g, err := onnxload.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := model.Compile(g)
	in := make([]float32, 784)
	out := make([]float32, 10)
	if err := plain.RunTap(in, 1, out, make([]float32, 128)); err == nil || !strings.Contains(err.Error(), "without a tap") {
		t.Errorf("RunTap without tap: err = %v", err)
	}
	pen, _ := model.Penultimate(g)
	m, _ := model.Compile(g, model.WithTap(pen))
	if err := m.RunTap(in, 1, out, make([]float32, 5)); err == nil || !strings.Contains(err.Error(), "tap has room") {
		t.Errorf("short tap: err = %v", err)
	}
	for _, bad := range []string{"no-such-value", g.Input + "_nope"} {
		if _, err := model.Compile(g, model.WithTap(bad)); err == nil {
			t.Errorf("tap %q compiled", bad)
		}
	}
	var someConst string
	for k := range g.Constants {
		someConst = k
		break
	}
	if _, err := model.Compile(g, model.WithTap(someConst)); err == nil || !strings.Contains(err.Error(), "does not depend") {
		t.Errorf("constant tap: err = %v", err)
	}
}
