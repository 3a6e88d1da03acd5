package cnn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

var sgemm = blas32.Implementation().Sgemm

// gemm computes c = op(a)·op(b) + beta·c for row-major matrices, op(a) m×k and op(b) k×n.
func gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32,
	c []float32, ldc int) {
	if !transB && gemmFast(transA, m, n, k, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// grow returns buf resized to n, reallocating only when its capacity is too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// transpose writes the r×c row-major matrix a as c×r into buf (grown as needed) and returns it; an explicit
// transpose lets every product run through the non-transposed fast kernel.
func transpose(a []float32, r, c int, buf []float32) []float32 {
	buf = grow(buf, r*c)
	for i := 0; i < r; i++ {
		for j, v := range a[i*c : (i+1)*c] {
			buf[j*r+i] = v
		}
	}
	return buf
}
