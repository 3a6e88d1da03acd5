package model

import (
	"fmt"
	"math"
	"unsafe"

	"digitpad/shared/internal/floats"
)

// Flags of the int8 kernels.
const (
	qflagU8   = 1 // store uint8 (rounded half to even) instead of float32
	qflagPool = 2 // rows come in groups of 4 (a 2x2 window); store the maximum of each group
)

// qnr is the column tile width of every int8 kernel: output channels per tile.
const qnr = 32

// qtileFunc computes, for rows (1..mr) rows and nt column tiles of qnr columns:
//
//	acc[r][t*qnr+j] = sum_q sum_e A[rowOff[r] + off[q] + e] * B[((t*kq+q)*qnr+j)*4+e]      (u8 x s8 -> int32)
//	C[r][col] = clamp(float32(acc)*scale[col] + bias[col], clamp[0], clamp[1])   for col < ncol
//
// stored as float32 or, with qflagU8, as uint8 rounded half to even; rows are ldc bytes apart. With qflagPool the
// rows come in groups of four and row g of C is the maximum over group g (before the epilogue, which is monotone).
// B holds nt panels of kq*qnr*4 int8 weights as packed by the kernel's pack. Columns at or past ncol are not
// written.
type qtileFunc func(rows int, a *uint8, rowOff, off *int32, kq int, b unsafe.Pointer, c *byte, ldc uintptr, nt, ncol int,
	scale, bias *float32, clamp *[2]float32, flags uintptr)

// qkernel is one implementation of the int8 tile GEMM.
type qkernel struct {
	name   string
	mr     int // rows per call, a multiple of 4
	fn     qtileFunc
	pack   func(b []int8, kq, nt int) []byte // weights in the kernel's layout; nil: as they are
	wbytes int                               // bytes per weight in the packed layout
}

// packB lays out weights ([nt][kq][qnr][4] int8) for the kernel.
func (qk *qkernel) packB(b []int8, kq, nt int) []byte {
	if qk.pack != nil {
		return qk.pack(b, kq, nt)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), len(b))
}

// gemm checks every extent the kernel touches, then runs it (see kernel.gemm for why it panics).
// offMax is the largest of off (a step's fixed taps: computed once when it is compiled, not per call).
func (qk *qkernel) gemm(rows int, a []byte, rowOff, off []int32, offMax int32, b []byte, nt, ncol int, c []byte,
	ldc int, scale, bias []float32, clamp *[2]float32, flags uintptr) {
	kq := len(off)
	outRows, elem := rows, 4
	if flags&qflagPool != 0 {
		outRows = rows / 4
	}
	if flags&qflagU8 != 0 {
		elem = 1
	}
	maxRow := int32(0)
	for _, o := range rowOff[:min(rows, len(rowOff))] {
		maxRow = max(maxRow, o)
	}
	if rows < 1 || rows > qk.mr || len(rowOff) < rows || kq < 1 || nt < 1 || ncol < 1 || ncol > nt*qnr ||
		(flags&qflagPool != 0 && rows%4 != 0) ||
		offMax < 0 || int(maxRow)+int(offMax)+4 > len(a) ||
		nt*kq*qnr*4*qk.wbytes > len(b) ||
		(outRows-1)*ldc+ncol*elem > len(c) ||
		len(scale) < nt*qnr || len(bias) < nt*qnr {
		panic(fmt.Sprintf("model: %s int8 gemm out of bounds: rows=%d kq=%d nt=%d ncol=%d ldc=%d len(a,b,c)=%d,%d,%d",
			qk.name, rows, kq, nt, ncol, ldc, len(a), len(b), len(c)))
	}
	qk.fn(rows, &a[0], &rowOff[0], &off[0], kq, unsafe.Pointer(&b[0]), &c[0], uintptr(ldc), nt, ncol, &scale[0], &bias[0], clamp, flags)
}

// genericQKernel is the portable int8 kernel (wasm, -tags purego, CPUs without AVX-512 VNNI).
var genericQKernel = qkernel{name: "go-int8", mr: 8, fn: qgemmGo, pack: packPairs, wbytes: 4}

// packPairs packs two columns' weights into one int64 (w[2p] + w[2p+1]<<32) in [nt][kq][qnr/2][4] order, so one
// 64-bit multiply-add does two int8 MACs: every column's sum stays within 32 bits (|acc| < 2^31 for any K
// below 65536), and low = int32(s), high = (s-low)>>32 recover both exactly.
func packPairs(b []int8, kq, nt int) []byte {
	w := make([]int64, nt*kq*qnr/2*4)
	for tq := 0; tq < nt*kq; tq++ {
		for p := 0; p < qnr/2; p++ {
			for e := 0; e < 4; e++ {
				lo := int64(b[(tq*qnr+2*p)*4+e])
				hi := int64(b[(tq*qnr+2*p+1)*4+e])
				w[(tq*qnr/2+p)*4+e] = lo + hi<<32
			}
		}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), 8*len(w))
}

// qgemmGo is the pure-Go qtileFunc over packPairs weights: blocks of 2 rows x 8 columns, skipping quads where
// both rows' activations are zero (after ReLU most are).
func qgemmGo(rows int, a *uint8, rowOff, off *int32, kq int, b unsafe.Pointer, c *byte, ldc uintptr, nt, ncol int,
	scale, bias *float32, clamp *[2]float32, flags uintptr) {
	ro := unsafe.Slice(rowOff, rows)
	offs := unsafe.Slice(off, kq)
	panel := uintptr(kq * qnr * 4 * 4)
	sc := unsafe.Slice(scale, nt*qnr)
	bi := unsafe.Slice(bias, nt*qnr)
	lo, hi := clamp[0], clamp[1]
	var acc [8][qnr]int32
	for t := 0; t < nt; t++ {
		cols := min(qnr, ncol-t*qnr)
		bt := unsafe.Add(b, uintptr(t)*panel)
		for j0 := 0; j0 < cols; j0 += 8 {
			bj := unsafe.Add(bt, j0/2*4*8)
			r := 0
			for ; r+2 <= rows; r += 2 {
				a0 := unsafe.Add(unsafe.Pointer(a), int(ro[r]))
				a1 := unsafe.Add(unsafe.Pointer(a), int(ro[r+1]))
				qgemmGo2x8(a0, a1, offs, bj, (*[8]int32)(acc[r][j0:]), (*[8]int32)(acc[r+1][j0:]))
			}
			if r < rows {
				a0 := unsafe.Add(unsafe.Pointer(a), int(ro[r]))
				qgemmGo2x8(a0, a0, offs, bj, (*[8]int32)(acc[r][j0:]), (*[8]int32)(acc[r][j0:]))
			}
		}
		outRows := rows
		if flags&qflagPool != 0 {
			outRows = rows / 4
			for g := 0; g < outRows; g++ {
				for j := 0; j < cols; j++ {
					acc[g][j] = max(acc[4*g][j], acc[4*g+1][j], acc[4*g+2][j], acc[4*g+3][j])
				}
			}
		}
		for r := 0; r < outRows; r++ {
			row := unsafe.Add(unsafe.Pointer(c), uintptr(r)*ldc)
			_ = sc[t*qnr+cols-1]
			_ = bi[t*qnr+cols-1]
			for j := 0; j < cols; j++ {
				col := t*qnr + j
				// As VCVTDQ2PS + VFMADD213PS: the product of two float32s is exact in float64, so this rounds once
				// (to float64, then float32; a double rounding that differs only in vanishingly rare cases).
				v := float32(float64(float32(acc[r][j]))*float64(sc[col]) + float64(bi[col]))
				v = floats.Min(floats.Max(v, lo), hi)
				if flags&qflagU8 != 0 {
					*(*uint8)(unsafe.Add(row, col)) = uint8(math.RoundToEven(float64(v)))
				} else {
					*(*float32)(unsafe.Add(row, 4*col)) = v
				}
			}
		}
	}
}

// qgemmGo2x8 accumulates two rows (a0, a1: row bases in the source) times eight columns (four packPairs pairs
// starting at b; quads are qnr/2*4 int64s apart) into c0 and c1 (overwritten).
func qgemmGo2x8(a0, a1 unsafe.Pointer, offs []int32, b unsafe.Pointer, c0, c1 *[8]int32) {
	var s0, s1, s2, s3, t0, t1, t2, t3 int64
	for q, o := range offs {
		x := *(*uint32)(unsafe.Add(a0, int(o))) // little-endian on every Go target digitpad builds for
		y := *(*uint32)(unsafe.Add(a1, int(o)))
		if x|y == 0 {
			continue
		}
		w := (*[16]int64)(unsafe.Add(b, q*qnr/2*4*8))
		x0, x1, x2, x3 := int64(x&0xff), int64(x>>8&0xff), int64(x>>16&0xff), int64(x>>24)
		y0, y1, y2, y3 := int64(y&0xff), int64(y>>8&0xff), int64(y>>16&0xff), int64(y>>24)
		s0 += x0*w[0] + x1*w[1] + x2*w[2] + x3*w[3]
		t0 += y0*w[0] + y1*w[1] + y2*w[2] + y3*w[3]
		s1 += x0*w[4] + x1*w[5] + x2*w[6] + x3*w[7]
		t1 += y0*w[4] + y1*w[5] + y2*w[6] + y3*w[7]
		s2 += x0*w[8] + x1*w[9] + x2*w[10] + x3*w[11]
		t2 += y0*w[8] + y1*w[9] + y2*w[10] + y3*w[11]
		s3 += x0*w[12] + x1*w[13] + x2*w[14] + x3*w[15]
		t3 += y0*w[12] + y1*w[13] + y2*w[14] + y3*w[15]
	}
	*c1 = unpair(t0, t1, t2, t3)
	*c0 = unpair(s0, s1, s2, s3)
}

func unpair(s0, s1, s2, s3 int64) [8]int32 {
	var out [8]int32
	for i, s := range [4]int64{s0, s1, s2, s3} {
		lo := int32(s)
		out[2*i], out[2*i+1] = lo, int32((s-int64(lo))>>32)
	}
	return out
}
