package ink

// minF and maxF are min and max for the finite floats of pixel loops. The builtins also order NaNs and signed
// zeros, which on GOARCH=wasm (no intrinsic) makes each of them a runtime call (runtime.fmin64), the largest cost
// of rasterising strokes in the browser; these inline to one compare on every target.
func minF[T float32 | float64](a, b T) T {
	if b < a {
		return b
	}
	return a
}

func maxF[T float32 | float64](a, b T) T {
	if b > a {
		return b
	}
	return a
}
