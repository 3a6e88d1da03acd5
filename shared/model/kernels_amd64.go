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

// availableKernels lists the kernels this CPU can run, fastest first.
func availableKernels() []kernel {
	var ks []kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernel{name: "avx512", mr: 8, nr: 32, fn: gemmAVX512, maxPool2: maxPool2Fast, maxVec: maxVecFast})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernel{name: "avx2", mr: 4, nr: 24, fn: gemmAVX2, maxPool2: maxPool2Fast, maxVec: maxVecFast})
	}
	return append(ks, genericKernel)
}

//go:noescape
func maxPool2AVX2(dst, r0, r1 *float32, n int)

//go:noescape
func maxVecAVX2(dst, a, b *float32, n int)

func maxPool2Fast(dst, r0, r1 []float32) {
	n8 := len(dst) &^ 7
	if n8 > 0 {
		_, _ = r0[2*n8-1], r1[2*n8-1]
		maxPool2AVX2(&dst[0], &r0[0], &r1[0], n8)
	}
	maxPool2Go(dst[n8:], r0[2*n8:], r1[2*n8:])
}

func maxVecFast(dst, a, b []float32) {
	n8 := len(dst) &^ 7
	if n8 > 0 {
		_, _ = a[n8-1], b[n8-1]
		maxVecAVX2(&dst[0], &a[0], &b[0], n8)
	}
	maxVecGo(dst[n8:], a[n8:], b[n8:])
}
