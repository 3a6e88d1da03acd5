package model

import (
	"fmt"
	"unsafe"

	"digitpad/shared/internal/floats"
)

// Epilogue flags shared by every kernel implementation (and kernels_amd64.s).
const (
	flagRelu    = 1 // max(x, 0) after the bias
	flagRowBias = 2 // bias[r] added to row r (convolution: one bias per output channel)
	flagColBias = 4 // bias[t*nr+j] added to column j of tile t (fully connected layers)
)

// tileFunc computes rows (1..mr) rows of nt column tiles of nr floats each:
//
//	C[r*ldc + t*nr + j] = epilogue( sum_k A[r*lda + k] * B[t*bstride + off[k]/4 + j] )
//
// lda, ldc and bstride are in bytes, off holds byte offsets. The per-k offset table lets one kernel run both
// implicit-GEMM convolutions (B is a zero-padded image, off[k] the shift of filter tap k) and GEMMs against
// packed weight panels (off[k] = k*nr*4).
type tileFunc func(rows int, a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr)

// kernel is one implementation of the tile GEMM: mr rows at most per call, tiles nr columns wide.
type kernel struct {
	name   string
	mr, nr int
	fn     tileFunc
	// maxPool2x2 pools c channels (planes plane floats apart, rows rowStride apart) 2x2/2 into dense dst.
	maxPool2x2 func(dst, src []float32, c, ho, wo, plane, rowStride int)
	// maxRows sets dst[i] to the maximum of src[r*rowStride+i] over r < nrows.
	maxRows func(dst, src []float32, nrows, rowStride int)
	// q runs the int8 steps of quantised models.
	q *qkernel
}

// gemm checks every extent the kernel will touch, then runs it. The checks are O(1) per call and turn a planning
// bug into a panic with a message instead of memory corruption.
func (kr *kernel) gemm(rows int, a []float32, lda int, b []float32, off []int32, offMax int, c []float32, ldc int, nt int, bstride int, bias []float32, flags uintptr) {
	k := len(off)
	if rows < 1 || rows > kr.mr || nt < 1 || k < 1 ||
		(rows-1)*lda+k > len(a) ||
		(nt-1)*bstride+offMax+kr.nr > len(b) ||
		(rows-1)*ldc+nt*kr.nr > len(c) ||
		(flags&flagRowBias != 0 && len(bias) < rows) ||
		(flags&flagColBias != 0 && len(bias) < nt*kr.nr) {
		panic(fmt.Sprintf("model: %s gemm out of bounds: rows=%d k=%d nt=%d lda=%d ldc=%d bstride=%d offMax=%d len(a,b,c,bias)=%d,%d,%d,%d",
			kr.name, rows, k, nt, lda, ldc, bstride, offMax, len(a), len(b), len(c), len(bias)))
	}
	var bp *float32
	if len(bias) > 0 {
		bp = &bias[0]
	}
	kr.fn(rows, &a[0], uintptr(lda)*4, &b[0], &off[0], k, &c[0], uintptr(ldc)*4, nt, uintptr(bstride)*4, bp, flags)
}

// genericKernel is the portable kernel (wasm, -tags purego, CPUs without AVX2).
var genericKernel = kernel{name: "go", mr: 4, nr: 8, fn: gemmGo, maxPool2x2: maxPool2x2Go, maxRows: maxRowsGo, q: &genericQKernel}

func maxPool2x2Go(dst, src []float32, c, ho, wo, plane, rowStride int) {
	for ch := 0; ch < c; ch++ {
		for oh := 0; oh < ho; oh++ {
			o := ch*plane + 2*oh*rowStride
			r0 := src[o : o+2*wo]
			r1 := src[o+rowStride : o+rowStride+2*wo]
			d := dst[(ch*ho+oh)*wo : (ch*ho+oh+1)*wo]
			for j := range d {
				d[j] = floats.Max(floats.Max(r0[2*j], r0[2*j+1]), floats.Max(r1[2*j], r1[2*j+1]))
			}
		}
	}
}

func maxRowsGo(dst, src []float32, nrows, rowStride int) {
	copy(dst, src[:len(dst)])
	for r := 1; r < nrows; r++ {
		row := src[r*rowStride : r*rowStride+len(dst)]
		for i, v := range row {
			dst[i] = floats.Max(dst[i], v)
		}
	}
}

// gemmGo is the pure-Go tileFunc. Pointer arithmetic instead of slices keeps bounds checks out of the k loop;
// kernel.gemm has already checked the extents.
func gemmGo(rows int, a *float32, lda uintptr, b *float32, off *int32, k int, c *float32, ldc uintptr, nt int, bstride uintptr, bias *float32, flags uintptr) {
	const nr = 8
	offs := unsafe.Slice(off, k)
	for t := 0; t < nt; t++ {
		bt := unsafe.Add(unsafe.Pointer(b), uintptr(t)*bstride)
		ct := unsafe.Add(unsafe.Pointer(c), uintptr(t)*nr*4)
		for j := uintptr(0); j < nr*4; j += 16 {
			// 2x4 register blocks: with 13 live floats they stay in registers (wasm locals) where 4x4 spills.
			r := 0
			for ; r+2 <= rows; r += 2 {
				gemmGo2x4(unsafe.Add(unsafe.Pointer(a), uintptr(r)*lda), lda, unsafe.Add(bt, j), offs, unsafe.Add(ct, uintptr(r)*ldc+j), ldc)
			}
			if r < rows {
				gemmGo1x4(unsafe.Add(unsafe.Pointer(a), uintptr(r)*lda), unsafe.Add(bt, j), offs, unsafe.Add(ct, uintptr(r)*ldc+j))
			}
		}
		epilogueGo(rows, ct, ldc, nr, bias, uintptr(t)*nr, flags)
	}
}

func gemmGo2x4(a unsafe.Pointer, lda uintptr, b unsafe.Pointer, offs []int32, c unsafe.Pointer, ldc uintptr) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	a1 := unsafe.Add(a, lda)
	for kk, o := range offs {
		bp := unsafe.Add(b, int(o))
		b0 := *(*float32)(bp)
		b1 := *(*float32)(unsafe.Add(bp, 4))
		b2 := *(*float32)(unsafe.Add(bp, 8))
		b3 := *(*float32)(unsafe.Add(bp, 12))
		ko := uintptr(kk) * 4
		x := *(*float32)(unsafe.Add(a, ko))
		y := *(*float32)(unsafe.Add(a1, ko))
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		c03 += x * b3
		c10 += y * b0
		c11 += y * b1
		c12 += y * b2
		c13 += y * b3
	}
	store4(c, c00, c01, c02, c03)
	store4(unsafe.Add(c, ldc), c10, c11, c12, c13)
}

func gemmGo1x4(a unsafe.Pointer, b unsafe.Pointer, offs []int32, c unsafe.Pointer) {
	var c0, c1, c2, c3 float32
	for kk, o := range offs {
		bp := unsafe.Add(b, int(o))
		x := *(*float32)(unsafe.Add(a, uintptr(kk)*4))
		c0 += x * *(*float32)(bp)
		c1 += x * *(*float32)(unsafe.Add(bp, 4))
		c2 += x * *(*float32)(unsafe.Add(bp, 8))
		c3 += x * *(*float32)(unsafe.Add(bp, 12))
	}
	store4(c, c0, c1, c2, c3)
}

func store4(p unsafe.Pointer, x0, x1, x2, x3 float32) {
	*(*float32)(p) = x0
	*(*float32)(unsafe.Add(p, 4)) = x1
	*(*float32)(unsafe.Add(p, 8)) = x2
	*(*float32)(unsafe.Add(p, 12)) = x3
}

// epilogueGo applies bias and ReLU to one tile of rows x nr floats at c; col is the tile's first column.
func epilogueGo(rows int, c unsafe.Pointer, ldc uintptr, nr int, bias *float32, col uintptr, flags uintptr) {
	if flags == 0 {
		return
	}
	for r := 0; r < rows; r++ {
		row := unsafe.Slice((*float32)(unsafe.Add(c, uintptr(r)*ldc)), nr)
		if flags&flagRowBias != 0 {
			bv := *(*float32)(unsafe.Add(unsafe.Pointer(bias), uintptr(r)*4))
			for j := range row {
				row[j] += bv
			}
		}
		if flags&flagColBias != 0 {
			cb := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(bias), col*4)), nr)
			for j := range row {
				row[j] += cb[j]
			}
		}
		if flags&flagRelu != 0 {
			for j, v := range row {
				if v < 0 {
					row[j] = 0
				}
			}
		}
	}
}
