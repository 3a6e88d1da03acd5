package model

import (
	"math"
	"unsafe"
)

// asBytes views a float32 arena slice as bytes (quantised activations live in the same arena as floats).
func asBytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}

// quantizeStep is QuantizeLinear of a float activation (CHW or vector) into the uint8 layout l.
type quantizeStep struct {
	in, out *buf
	l       qlayout
	p       qparams
}

func (s *quantizeStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *quantizeStep) run(sc *scratch, n int) {
	in, out := sc.get(s.in, n), asBytes(sc.get(s.out, n))
	l := s.l
	hw := l.h * l.w
	zp := float32(s.p.zp)
	// Zeros (the paper of a digit's input, most of it) quantize to one value, computed once: ±0 divided by the
	// scale is ±0 (or NaN for a zero scale, for every zero alike), and either sign rounds and saturates alike.
	q0 := quantize(0/s.p.scale, zp)
	for i := 0; i < n; i++ {
		x := in[i*s.in.size : (i+1)*s.in.size]
		y := out[i*4*s.out.size : (i+1)*4*s.out.size]
		for c := 0; c < l.c; c++ {
			xc := x[c*hw : (c+1)*hw]
			for p, v := range xc {
				q := q0
				if v != 0 {
					q = quantize(v/s.p.scale, zp)
				}
				y[p*l.cp+c] = q
			}
		}
	}
}

// quantize rounds half to even (as ONNX QuantizeLinear does), adds the zero point and saturates to 0..255.
func quantize(v, zp float32) uint8 {
	q := float32(math.RoundToEven(float64(v))) + zp
	switch {
	case q >= 255:
		return 255
	case q > 0:
		return uint8(q)
	}
	return 0 // also NaN
}

// dequantizeStep turns a uint8 layout back into a float activation in ONNX (CHW) order.
type dequantizeStep struct {
	in, out *buf
	l       qlayout
	p       qparams
}

func (s *dequantizeStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *dequantizeStep) run(sc *scratch, n int) {
	in, out := asBytes(sc.get(s.in, n)), sc.get(s.out, n)
	l := s.l
	hw := l.h * l.w
	zp := float32(s.p.zp)
	for i := 0; i < n; i++ {
		x := in[i*4*s.in.size : (i+1)*4*s.in.size]
		y := out[i*s.out.size : (i+1)*s.out.size]
		for c := 0; c < l.c; c++ {
			yc := y[c*hw : (c+1)*hw]
			for p := range yc {
				yc[p] = (float32(x[p*l.cp+c]) - zp) * s.p.scale
			}
		}
	}
}

// qconvStep is an int8 convolution: the uint8 input is copied into a padded image, then the int8 kernel
// computes every output pixel (row) x output channel (column), fusing bias, ReLU, 2x2 max pooling and
// requantisation. Float outputs come out pixel-major and are transposed to CHW.
type qconvStep struct {
	qk                   *qkernel
	in, out              *buf
	l                    qlayout
	m, ho, wo            int
	pooled, u8           bool
	pt, pl, rowStride    int
	srcOff, srcLen       int // padded image in scratch.tmp (floats)
	zx                   uint8
	off, rowOff          []int32
	offMax               int32 // max of off
	kq, nt               int
	b                    []byte // weights packed for qk
	scale, bias          []float32
	clamp                [2]float32
	ldc                  int // output bytes between rows (pixels)
	wideShared, wideBase int // float outputs: pixel-major result in the shared scratch area
}

func (s *qconvStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *qconvStep) run(sc *scratch, n int) {
	in, outF := asBytes(sc.get(s.in, n)), sc.get(s.out, n)
	out := asBytes(outF)
	src := asBytes(sc.tmp[s.srcOff : s.srcOff+s.srcLen])
	l := s.l
	rowBytes := l.w * l.cp
	var flags uintptr
	if s.u8 {
		flags |= qflagU8
	}
	if s.pooled {
		flags |= qflagPool
	}
	g := 1
	if s.pooled {
		g = 4
	}
	mr := s.qk.mr
	rows := len(s.rowOff)
	for i := 0; i < n; i++ {
		x := in[i*4*s.in.size:]
		if s.zx != 0 {
			for j := range src {
				src[j] = s.zx
			}
		}
		for r := 0; r < l.h; r++ {
			copy(src[((r+s.pt)*s.rowStride+s.pl)*l.cp:][:rowBytes], x[r*rowBytes:])
		}
		var dst []byte
		if s.u8 {
			dst = out[i*4*s.out.size : (i+1)*4*s.out.size]
		} else {
			dst = asBytes(sc.tmp[s.wideBase : s.wideBase+s.wideShared])
		}
		for r0 := 0; r0 < rows; r0 += mr {
			r := min(mr, rows-r0)
			s.qk.gemm(r, src, s.rowOff[r0:r0+r], s.off, s.offMax, s.b, s.nt, s.m, dst[r0/g*s.ldc:], s.ldc, s.scale, s.bias, &s.clamp, flags)
		}
		if !s.u8 {
			// Pixel-major floats to CHW.
			wide := sc.tmp[s.wideBase : s.wideBase+s.wideShared]
			y := outF[i*s.out.size : (i+1)*s.out.size]
			np := rows / g
			for p := 0; p < np; p++ {
				for ch, v := range wide[p*s.m : (p+1)*s.m] {
					y[ch*np+p] = v
				}
			}
		}
	}
}

// qfcStep is an int8 MatMul/Gemm: rows are samples, columns output features.
type qfcStep struct {
	qk          *qkernel
	in, out     *buf
	n           int
	u8          bool
	off, rowOff []int32
	offMax      int32 // max of off
	kq, nt      int
	b           []byte // weights packed for qk
	scale, bias []float32
	clamp       [2]float32
	ldc         int
}

func (s *qfcStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *qfcStep) run(sc *scratch, n int) {
	in, out := asBytes(sc.get(s.in, n)), asBytes(sc.get(s.out, n))
	var flags uintptr
	if s.u8 {
		flags = qflagU8
	}
	mr := s.qk.mr
	for r0 := 0; r0 < n; r0 += mr {
		r := min(mr, n-r0)
		s.qk.gemm(r, in, s.rowOff[r0:r0+r], s.off, s.offMax, s.b, s.nt, s.n, out[r0*s.ldc:], s.ldc, s.scale, s.bias, &s.clamp, flags)
	}
}
