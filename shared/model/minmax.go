package model

// minF and maxF are min and max for finite floats in kernels. The builtins also order NaNs and signed zeros, which
// on GOARCH=wasm (no intrinsic) makes each of them a runtime call (runtime.fmin32); these inline to one compare.
// For a NaN in b they return a, where the builtins return NaN.
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
