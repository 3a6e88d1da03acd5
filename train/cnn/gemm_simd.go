//go:build goexperiment.simd && amd64

package cnn

import "simd/archsimd"

// simdGemm is true when the AVX-512 kernel below can run on this CPU.
var simdGemm = archsimd.X86.AVX512()

// gemmFast computes c = op(a)·b + beta·c (beta 0 or 1) for row-major matrices with op(a) m×k, b k×n, in one
// goroutine: replicas already run in parallel, so the kernel itself stays serial. It reports false when the
// CPU lacks AVX-512 and the caller must fall back to gonum.
func gemmFast(transA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32,
	c []float32, ldc int) bool {
	if !simdGemm {
		return false
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		j := 0
		for ; j+32 <= n; j += 32 {
			kern4x32(transA, k, a, lda, i, b, ldb, j, beta, c, ldc)
		}
		if j+16 <= n {
			kern4x16(transA, k, a, lda, i, b, ldb, j, beta, c, ldc)
			j += 16
		}
		if j < n {
			for r := i; r < i+4; r++ {
				kernTail(transA, k, a, lda, r, b, ldb, j, n, beta, c, ldc)
			}
		}
	}
	for ; i < m; i++ {
		j := 0
		for ; j+16 <= n; j += 16 {
			kern1x16(transA, k, a, lda, i, b, ldb, j, beta, c, ldc)
		}
		if j < n {
			kernTail(transA, k, a, lda, i, b, ldb, j, n, beta, c, ldc)
		}
	}
	return true
}

func kern4x32(transA bool, k int, a []float32, lda, i0 int, b []float32, ldb, j0 int, beta float32,
	c []float32, ldc int) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16
	r0 := c[i0*ldc+j0 : i0*ldc+j0+32]
	r1 := c[(i0+1)*ldc+j0 : (i0+1)*ldc+j0+32]
	r2 := c[(i0+2)*ldc+j0 : (i0+2)*ldc+j0+32]
	r3 := c[(i0+3)*ldc+j0 : (i0+3)*ldc+j0+32]
	if beta != 0 {
		c00, c01 = archsimd.LoadFloat32x16Slice(r0), archsimd.LoadFloat32x16Slice(r0[16:])
		c10, c11 = archsimd.LoadFloat32x16Slice(r1), archsimd.LoadFloat32x16Slice(r1[16:])
		c20, c21 = archsimd.LoadFloat32x16Slice(r2), archsimd.LoadFloat32x16Slice(r2[16:])
		c30, c31 = archsimd.LoadFloat32x16Slice(r3), archsimd.LoadFloat32x16Slice(r3[16:])
	}
	if !transA {
		a0 := a[i0*lda : i0*lda+k]
		a1 := a[(i0+1)*lda : (i0+1)*lda+k]
		a2 := a[(i0+2)*lda : (i0+2)*lda+k]
		a3 := a[(i0+3)*lda : (i0+3)*lda+k]
		for l := 0; l < k; l++ {
			bp := b[l*ldb+j0 : l*ldb+j0+32]
			b0 := archsimd.LoadFloat32x16Slice(bp)
			b1 := archsimd.LoadFloat32x16Slice(bp[16:])
			x := archsimd.BroadcastFloat32x16(a0[l])
			c00, c01 = x.MulAdd(b0, c00), x.MulAdd(b1, c01)
			x = archsimd.BroadcastFloat32x16(a1[l])
			c10, c11 = x.MulAdd(b0, c10), x.MulAdd(b1, c11)
			x = archsimd.BroadcastFloat32x16(a2[l])
			c20, c21 = x.MulAdd(b0, c20), x.MulAdd(b1, c21)
			x = archsimd.BroadcastFloat32x16(a3[l])
			c30, c31 = x.MulAdd(b0, c30), x.MulAdd(b1, c31)
		}
	} else {
		for l := 0; l < k; l++ {
			ap := a[l*lda+i0 : l*lda+i0+4]
			bp := b[l*ldb+j0 : l*ldb+j0+32]
			b0 := archsimd.LoadFloat32x16Slice(bp)
			b1 := archsimd.LoadFloat32x16Slice(bp[16:])
			x := archsimd.BroadcastFloat32x16(ap[0])
			c00, c01 = x.MulAdd(b0, c00), x.MulAdd(b1, c01)
			x = archsimd.BroadcastFloat32x16(ap[1])
			c10, c11 = x.MulAdd(b0, c10), x.MulAdd(b1, c11)
			x = archsimd.BroadcastFloat32x16(ap[2])
			c20, c21 = x.MulAdd(b0, c20), x.MulAdd(b1, c21)
			x = archsimd.BroadcastFloat32x16(ap[3])
			c30, c31 = x.MulAdd(b0, c30), x.MulAdd(b1, c31)
		}
	}
	c00.StoreSlice(r0)
	c01.StoreSlice(r0[16:])
	c10.StoreSlice(r1)
	c11.StoreSlice(r1[16:])
	c20.StoreSlice(r2)
	c21.StoreSlice(r2[16:])
	c30.StoreSlice(r3)
	c31.StoreSlice(r3[16:])
}

func kern4x16(transA bool, k int, a []float32, lda, i0 int, b []float32, ldb, j0 int, beta float32,
	c []float32, ldc int) {
	var c0, c1, c2, c3 archsimd.Float32x16
	r0 := c[i0*ldc+j0 : i0*ldc+j0+16]
	r1 := c[(i0+1)*ldc+j0 : (i0+1)*ldc+j0+16]
	r2 := c[(i0+2)*ldc+j0 : (i0+2)*ldc+j0+16]
	r3 := c[(i0+3)*ldc+j0 : (i0+3)*ldc+j0+16]
	if beta != 0 {
		c0, c1 = archsimd.LoadFloat32x16Slice(r0), archsimd.LoadFloat32x16Slice(r1)
		c2, c3 = archsimd.LoadFloat32x16Slice(r2), archsimd.LoadFloat32x16Slice(r3)
	}
	if !transA {
		a0 := a[i0*lda : i0*lda+k]
		a1 := a[(i0+1)*lda : (i0+1)*lda+k]
		a2 := a[(i0+2)*lda : (i0+2)*lda+k]
		a3 := a[(i0+3)*lda : (i0+3)*lda+k]
		for l := 0; l < k; l++ {
			b0 := archsimd.LoadFloat32x16Slice(b[l*ldb+j0 : l*ldb+j0+16])
			c0 = archsimd.BroadcastFloat32x16(a0[l]).MulAdd(b0, c0)
			c1 = archsimd.BroadcastFloat32x16(a1[l]).MulAdd(b0, c1)
			c2 = archsimd.BroadcastFloat32x16(a2[l]).MulAdd(b0, c2)
			c3 = archsimd.BroadcastFloat32x16(a3[l]).MulAdd(b0, c3)
		}
	} else {
		for l := 0; l < k; l++ {
			ap := a[l*lda+i0 : l*lda+i0+4]
			b0 := archsimd.LoadFloat32x16Slice(b[l*ldb+j0 : l*ldb+j0+16])
			c0 = archsimd.BroadcastFloat32x16(ap[0]).MulAdd(b0, c0)
			c1 = archsimd.BroadcastFloat32x16(ap[1]).MulAdd(b0, c1)
			c2 = archsimd.BroadcastFloat32x16(ap[2]).MulAdd(b0, c2)
			c3 = archsimd.BroadcastFloat32x16(ap[3]).MulAdd(b0, c3)
		}
	}
	c0.StoreSlice(r0)
	c1.StoreSlice(r1)
	c2.StoreSlice(r2)
	c3.StoreSlice(r3)
}

func kern1x16(transA bool, k int, a []float32, lda, i int, b []float32, ldb, j0 int, beta float32,
	c []float32, ldc int) {
	var acc archsimd.Float32x16
	row := c[i*ldc+j0 : i*ldc+j0+16]
	if beta != 0 {
		acc = archsimd.LoadFloat32x16Slice(row)
	}
	for l := 0; l < k; l++ {
		var av float32
		if transA {
			av = a[l*lda+i]
		} else {
			av = a[i*lda+l]
		}
		acc = archsimd.BroadcastFloat32x16(av).MulAdd(archsimd.LoadFloat32x16Slice(b[l*ldb+j0:l*ldb+j0+16]), acc)
	}
	acc.StoreSlice(row)
}

// kernTail handles one row's last n-j0 < 16 columns with scalar code (only the 10-way output layer needs it).
func kernTail(transA bool, k int, a []float32, lda, i int, b []float32, ldb, j0, n int, beta float32,
	c []float32, ldc int) {
	row := c[i*ldc+j0 : i*ldc+n]
	if beta == 0 {
		clear(row)
	}
	for l := 0; l < k; l++ {
		var av float32
		if transA {
			av = a[l*lda+i]
		} else {
			av = a[i*lda+l]
		}
		for j, bv := range b[l*ldb+j0 : l*ldb+n] {
			row[j] += av * bv
		}
	}
}
