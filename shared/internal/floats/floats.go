// Package floats has min and max for the finite floats of pixel and kernel loops. The builtins also order NaNs and
// signed zeros, which on GOARCH=wasm (no intrinsic) makes each of them a runtime call (runtime.fmin64), the
// largest cost of rasterising strokes in the browser; these inline to one compare on every target.
package floats

// Min is the smaller of a and b; for a NaN in b it returns a, where the builtin returns NaN.
func Min[T float32 | float64](a, b T) T {
	if b < a {
		return b
	}
	return a
}

// Max is the larger of a and b; for a NaN in b it returns a, where the builtin returns NaN.
func Max[T float32 | float64](a, b T) T {
	if b > a {
		return b
	}
	return a
}
