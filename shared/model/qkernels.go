package model

import (
	"fmt"
	"math"
	"unsafe"
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
// B holds nt panels of kq*qnr*4 bytes. Columns at or past ncol are not written.
type qtileFunc func(rows int, a *uint8, rowOff, off *int32, kq int, b *int8, c *byte, ldc uintptr, nt, ncol int,
	scale, bias *float32, clamp *[2]float32, flags uintptr)

// qkernel is one implementation of the int8 tile GEMM.
type qkernel struct {
	name string
	mr   int // rows per call, a multiple of 4
	fn   qtileFunc
}

// gemm checks every extent the kernel touches, then runs it (see kernel.gemm for why it panics).
func (qk *qkernel) gemm(rows int, a []byte, rowOff, off []int32, b []int8, nt, ncol int, c []byte, ldc int,
	scale, bias []float32, clamp *[2]float32, flags uintptr) {
	kq := len(off)
	outRows, elem := rows, 4
	if flags&qflagPool != 0 {
		outRows = rows / 4
	}
	if flags&qflagU8 != 0 {
		elem = 1
	}
	maxRow, maxOff := int32(0), int32(0)
	for _, o := range rowOff[:min(rows, len(rowOff))] {
		maxRow = max(maxRow, o)
	}
	for _, o := range off {
		maxOff = max(maxOff, o)
	}
	if rows < 1 || rows > qk.mr || len(rowOff) < rows || kq < 1 || nt < 1 || ncol < 1 || ncol > nt*qnr ||
		(flags&qflagPool != 0 && rows%4 != 0) ||
		int(maxRow)+int(maxOff)+4 > len(a) ||
		nt*kq*qnr*4 > len(b) ||
		(outRows-1)*ldc+ncol*elem > len(c) ||
		len(scale) < nt*qnr || len(bias) < nt*qnr {
		panic(fmt.Sprintf("model: %s int8 gemm out of bounds: rows=%d kq=%d nt=%d ncol=%d ldc=%d len(a,b,c)=%d,%d,%d",
			qk.name, rows, kq, nt, ncol, ldc, len(a), len(b), len(c)))
	}
	qk.fn(rows, &a[0], &rowOff[0], &off[0], kq, &b[0], &c[0], uintptr(ldc), nt, ncol, &scale[0], &bias[0], clamp, flags)
}

// genericQKernel is the portable int8 kernel (wasm, -tags purego, CPUs without AVX-512 VNNI).
var genericQKernel = qkernel{name: "go-int8", mr: 8, fn: qgemmGo}

// qgemmGo is the pure-Go qtileFunc. Quads of four zero activations are skipped: after ReLU most are.
func qgemmGo(rows int, a *uint8, rowOff, off *int32, kq int, b *int8, c *byte, ldc uintptr, nt, ncol int,
	scale, bias *float32, clamp *[2]float32, flags uintptr) {
	ro := unsafe.Slice(rowOff, rows)
	offs := unsafe.Slice(off, kq)
	panel := kq * qnr * 4
	bs := unsafe.Slice(b, nt*panel)
	sc := unsafe.Slice(scale, nt*qnr)
	bi := unsafe.Slice(bias, nt*qnr)
	lo, hi := clamp[0], clamp[1]
	var acc [8][qnr]int32
	for t := 0; t < nt; t++ {
		cols := min(qnr, ncol-t*qnr)
		bt := bs[t*panel : (t+1)*panel]
		for r := 0; r < rows; r++ {
			ar := unsafe.Add(unsafe.Pointer(a), int(ro[r]))
			ac := &acc[r]
			*ac = [qnr]int32{}
			for q, o := range offs {
				w := *(*uint32)(unsafe.Add(ar, int(o))) // little-endian on every Go target digitpad builds for
				if w == 0 {
					continue
				}
				x0, x1, x2, x3 := int32(w&0xff), int32(w>>8&0xff), int32(w>>16&0xff), int32(w>>24)
				bq := bt[q*qnr*4 : (q+1)*qnr*4]
				for j := 0; j < qnr; j++ {
					bj := bq[j*4 : j*4+4 : j*4+4]
					ac[j] += x0*int32(bj[0]) + x1*int32(bj[1]) + x2*int32(bj[2]) + x3*int32(bj[3])
				}
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
			for j := 0; j < cols; j++ {
				col := t*qnr + j
				// As VCVTDQ2PS + VFMADD213PS: the product of two float32s is exact in float64, so this rounds once
				// (to float64, then float32; a double rounding that differs only in vanishingly rare cases).
				v := float32(float64(float32(acc[r][j]))*float64(sc[col]) + float64(bi[col]))
				v = min(max(v, lo), hi)
				if flags&qflagU8 != 0 {
					*(*uint8)(unsafe.Add(row, col)) = uint8(math.RoundToEven(float64(v)))
				} else {
					*(*float32)(unsafe.Add(row, 4*col)) = v
				}
			}
		}
	}
}
