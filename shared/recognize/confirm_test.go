package recognize_test

import (
	"slices"
	"testing"

	"digitpad/shared/recognize"
)

// TestConfirmDigits_CodeConfidenceDecides: a code asks when the product of its digits' confidences is below the
// threshold, and the digits flagged are the fewest least confident ones whose check lifts the rest to it.
func TestConfirmDigits_CodeConfidenceDecides(t *testing.T) {
	tests := []struct {
		name      string
		conf      []float64
		threshold float64
		want      []int
	}{
		{"a sure code passes", []float64{0.999, 0.998, 0.999, 0.997, 0.999}, 0.95, []int{}},
		{"one doubtful digit", []float64{0.999, 0.90, 0.999, 0.997, 0.999}, 0.95, []int{1}},
		{"a digit above the threshold passes on its own", []float64{0.999, 0.96, 0.999, 0.997, 0.999}, 0.95, []int{}},
		// Every digit is above 0.95, but the code is right with probability 0.90: checking one 0.97 leaves
		// 0.93, two leave 0.96.
		{"small doubts add up", []float64{0.99, 0.97, 0.999, 0.97, 0.97}, 0.95, []int{1, 3}},
		{"ties go to the first", []float64{0.9, 0.9, 0.999}, 0.95, []int{0, 1}},
		{"a threshold above 1 flags every digit", []float64{1, 1}, 1.5, []int{0, 1}},
		{"no digits", nil, 0.95, []int{}},
		{"zero confidence", []float64{0, 0.999}, 0.95, []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := recognize.ConfirmDigits(tc.conf, tc.threshold)
			if got == nil || !slices.Equal(got, tc.want) {
				t.Errorf("ConfirmDigits(%v, %v) = %v, want %v", tc.conf, tc.threshold, got, tc.want)
			}
		})
	}
}

// TestConfirmDigits_EveryDigitBelowThresholdIsFlagged: whatever the rest of the code, a digit less sure than
// the threshold on its own is always among the flagged ones, and the unflagged rest reaches the threshold.
func TestConfirmDigits_EveryDigitBelowThresholdIsFlagged(t *testing.T) {
	codes := [][]float64{
		{0.5, 0.99, 0.97, 0.96, 0.999},
		{0.94, 0.94, 0.94, 0.94, 0.94},
		{0.999, 0.98, 0.98, 0.98, 0.98},
	}
	for _, conf := range codes {
		const threshold = 0.95
		flagged := recognize.ConfirmDigits(conf, threshold)
		rest := 1.0
		for i, c := range conf {
			if c < threshold && !slices.Contains(flagged, i) {
				t.Errorf("%v: digit %d at %v not flagged (%v)", conf, i, c, flagged)
			}
			if !slices.Contains(flagged, i) {
				rest *= c
			}
		}
		if rest < threshold {
			t.Errorf("%v: flagged %v leave the rest at %v < %v", conf, flagged, rest, threshold)
		}
	}
}
