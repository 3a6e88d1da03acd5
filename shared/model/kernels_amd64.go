//go:build amd64 && !purego

package model

import "golang.org/x/sys/cpu"

//go:generate go run ./internal/kernelgen/cmd

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

// maxPool2x2AVX2 (wo >= 8, 8 columns per step) and maxPool2x2AVX2x4 (wo >= 4, 4 per step), hand-written in
// pool_amd64.s, compute maxPool2x2Go's loop, with dst and src the slices at the pointers and plane and rowStride
// in bytes; TestPoolKernels_MatchPortableVersions compares them:
//
//	for ch := 0; ch < c; ch++ {
//		for oh := 0; oh < ho; oh++ {
//			o := ch*plane + 2*oh*rowStride
//			r0 := src[o : o+2*wo]
//			r1 := src[o+rowStride : o+rowStride+2*wo]
//			d := dst[(ch*ho+oh)*wo : (ch*ho+oh+1)*wo]
//			for j := range d {
//				d[j] = floats.Max(floats.Max(r0[2*j], r0[2*j+1]), floats.Max(r1[2*j], r1[2*j+1]))
//			}
//		}
//	}
//
//go:noescape
func maxPool2x2AVX2(dst, src *float32, c, ho, wo int, plane, rowStride uintptr)

//go:noescape
func maxPool2x2AVX2x4(dst, src *float32, c, ho, wo int, plane, rowStride uintptr)

// maxRowsAVX2 (pool_amd64.s, n >= 8) computes maxRowsGo's loop, with dst the n floats at dst, src the slice at
// src and rowStride in bytes; TestPoolKernels_MatchPortableVersions compares them:
//
//	copy(dst, src[:len(dst)])
//	for r := 1; r < nrows; r++ {
//		row := src[r*rowStride : r*rowStride+len(dst)]
//		for i, v := range row {
//			dst[i] = floats.Max(dst[i], v)
//		}
//	}
//
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
