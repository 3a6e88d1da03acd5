//go:build amd64 && !purego

package model

import "unsafe"

// vnniQKernel runs the int8 GEMM with AVX-512 VNNI (VPDPBUSD).
var vnniQKernel = qkernel{name: "avx512-vnni", mr: 8, fn: qgemmVNNI, wbytes: 1}

func qgemmVNNI(rows int, a *uint8, rowOff, off *int32, kq int, bp unsafe.Pointer, c *byte, ldc uintptr, nt, ncol int,
	scale, bias *float32, clamp *[2]float32, flags uintptr) {
	// Store masks of the last tile's two vectors (16 columns each).
	rem := ncol - (nt-1)*qnr
	mask := uintptr(1)<<min(rem, 16) - 1 | (uintptr(1)<<max(rem-16, 0)-1)<<16
	f := flags & qflagU8
	b := (*int8)(bp)
	if flags&qflagPool != 0 {
		if rows == 8 {
			qgemmVNNIP8(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
		} else {
			qgemmVNNIP4(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
		}
		return
	}
	switch rows {
	case 1:
		qgemmVNNIR1(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
	case 2:
		qgemmVNNIR2(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
	case 3:
		qgemmVNNIR3(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
	case 4:
		qgemmVNNIR4(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
	case 5:
		qgemmVNNIR5(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
	case 6:
		qgemmVNNIR6(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
	case 7:
		qgemmVNNIR7(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
	default:
		qgemmVNNIR8(a, rowOff, off, kq, b, c, ldc, nt, mask, scale, bias, clamp, f)
	}
}
