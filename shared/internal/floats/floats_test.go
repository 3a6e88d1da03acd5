package floats

import (
	"math"
	"testing"
)

func TestMinMax_AgreeWithBuiltinsOnFiniteValues(t *testing.T) {
	vals := []float64{-3, -0.5, 0, 0.25, 1, 7, math.Inf(1), math.Inf(-1)}
	for _, a := range vals {
		for _, b := range vals {
			if Min(a, b) != min(a, b) || Max(a, b) != max(a, b) {
				t.Errorf("Min/Max(%v, %v) = %v/%v, builtins %v/%v", a, b, Min(a, b), Max(a, b), min(a, b), max(a, b))
			}
			if Min(float32(a), float32(b)) != min(float32(a), float32(b)) {
				t.Errorf("float32 Min(%v, %v) differs", a, b)
			}
		}
	}
}
