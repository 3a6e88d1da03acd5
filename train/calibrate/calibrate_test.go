package calibrate

import (
	"context"
	"testing"

	"digitpad/assets"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
)

// ReadCodes reads in parallel but hands the readings back in code order, each as reading that code alone would
// give, from images and from strokes, and stops with the context's error once it is cancelled.
func TestReadCodes_InCodeOrder(t *testing.T) {
	rec, err := onnxrec.New(assets.Model(), assets.ModelCard(), recognize.Config{Format: "5"})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []Source{Images, Strokes} {
		const n, per = 24, 10 // three seeds
		got, err := ReadCodes(context.Background(), rec, src, 11, n, per)
		if err != nil || len(got) != n {
			t.Fatalf("strokes=%v: %d readings, %v", src, len(got), err)
		}
		distinct := map[float64]bool{}
		for i, r := range got {
			if want := readCode(rec, src, 11+uint64(i/per), i%per); r.Confidence != want.Confidence || r.Correct != want.Correct ||
				r.MinConfidence != want.MinConfidence {
				t.Errorf("strokes=%v code %d: %+v, read alone %+v", src, i, r, want)
			}
			distinct[r.Confidence] = true
		}
		if len(distinct) < n/2 {
			t.Errorf("strokes=%v: %d distinct confidences of %d codes: the codes are not distinct", src, len(distinct), n)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadCodes(ctx, rec, Images, 11, 10, 10); err == nil {
		t.Error("a cancelled context: no error")
	}
}

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a       uint64
		n, perA int
		b       uint64
		m, perB int
		want    bool
	}{
		{11, 3000, 500, 33, 10000, 500, false},  // calibrate's defaults: 11-16 and 33-52
		{11, 2000, 1000, 13, 10000, 500, false}, // strokes: 11-12 and 13-32
		{11, 3000, 500, 16, 500, 500, true},     // 11-16 and 16
		{11, 0, 500, 11, 500, 500, false},       // no codes
	} {
		if got := Overlap(tc.a, tc.n, tc.perA, tc.b, tc.m, tc.perB); got != tc.want {
			t.Errorf("Overlap(%d, %d, %d, %d, %d, %d) = %v, want %v", tc.a, tc.n, tc.perA, tc.b, tc.m, tc.perB, got, tc.want)
		}
	}
	if got := SeedRange(33, 10000, CodesPerSeed); got != "33-52" {
		t.Errorf("SeedRange(33, 10000) = %q, want 33-52", got)
	}
}
