//go:build amd64 && !purego

package model

import "golang.org/x/sys/cpu"

//go:generate go run kernels_gen.go

//go:noescape
func gemmAVX2R1(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX2R2(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX2R3(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX2R4(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX512R1(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX512R2(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX512R3(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX512R4(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX512R5(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX512R6(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX512R7(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

//go:noescape
func gemmAVX512R8(a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

func gemmAVX2(rows int, a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr) {
	switch rows {
	case 1:
		gemmAVX2R1(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	case 2:
		gemmAVX2R2(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	case 3:
		gemmAVX2R3(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	default:
		gemmAVX2R4(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	}
}

func gemmAVX512(rows int, a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr) {
	switch rows {
	case 1:
		gemmAVX512R1(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	case 2:
		gemmAVX512R2(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	case 3:
		gemmAVX512R3(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	case 4:
		gemmAVX512R4(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	case 5:
		gemmAVX512R5(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	case 6:
		gemmAVX512R6(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	case 7:
		gemmAVX512R7(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	default:
		gemmAVX512R8(a, lda, b, off, k, c, ldc, nt, bstride, bias, flags)
	}
}

// fastQKernel is the AVX-512 VNNI int8 kernel when the CPU has it.
func fastQKernel() *qkernel {
	if cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512BW {
		return &vnniQKernel
	}
	return &genericQKernel
}

// availableKernels lists the kernels this CPU can run, fastest first.
func availableKernels() []kernel {
	var ks []kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernel{name: "avx512", mr: 8, nr: 32, fn: gemmAVX512, maxPool2x2: maxPool2x2Fast, maxRows: maxRowsFast, q: fastQKernel()})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernel{name: "avx2", mr: 4, nr: 24, fn: gemmAVX2, maxPool2x2: maxPool2x2Fast, maxRows: maxRowsFast, q: &genericQKernel})
	}
	return append(ks, genericKernel)
}

//go:noescape
func maxPool2x2AVX2(dst, src *float32, c, ho, wo int, plane, rowStride uintptr)

//go:noescape
func maxPool2x2AVX2x4(dst, src *float32, c, ho, wo int, plane, rowStride uintptr)

//go:noescape
func maxRowsAVX2(dst, src *float32, nrows int, rowStride uintptr, n int)

// maxPool2x2Fast is maxPool2x2Go with the loops in assembly.
func maxPool2x2Fast(dst, src []float32, c, ho, wo, plane, rowStride int) {
	if wo < 4 || c < 1 || ho < 1 {
		maxPool2x2Go(dst, src, c, ho, wo, plane, rowStride)
		return
	}
	_ = dst[c*ho*wo-1]
	_ = src[(c-1)*plane+(2*ho-1)*rowStride+2*wo-1]
	if wo < 8 {
		maxPool2x2AVX2x4(&dst[0], &src[0], c, ho, wo, uintptr(plane)*4, uintptr(rowStride)*4)
		return
	}
	maxPool2x2AVX2(&dst[0], &src[0], c, ho, wo, uintptr(plane)*4, uintptr(rowStride)*4)
}

// maxRowsFast is maxRowsGo with the loops in assembly.
func maxRowsFast(dst, src []float32, nrows, rowStride int) {
	n := len(dst)
	if n < 8 || nrows < 1 {
		maxRowsGo(dst, src, nrows, rowStride)
		return
	}
	_ = src[(nrows-1)*rowStride+n-1]
	maxRowsAVX2(&dst[0], &src[0], nrows, uintptr(rowStride)*4, n)
}
