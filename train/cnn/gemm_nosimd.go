//go:build !(goexperiment.simd && amd64)

package cnn

// gemmFast is the hook for the AVX-512 kernel (built with GOEXPERIMENT=simd); without it gonum does the work.
func gemmFast(transA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32,
	c []float32, ldc int) bool {
	return false
}
