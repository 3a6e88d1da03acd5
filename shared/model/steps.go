package model

import (
	"fmt"
	"math"

	"digitpad/shared/internal/floats"
)

// scratch is one goroutine's working memory for a run: act holds every activation of a batch (layout from
// plan.layout, scaled by the batch size), tmp the per-sample buffers (padded images with their zero borders,
// wide convolution results, partial GEMM tiles). Scratches are pooled, so steady-state runs allocate nothing.
type scratch struct {
	act []float32
	tmp []float32
	in  []float32 // the caller's input during a run
}

func (s *scratch) get(b *buf, n int) []float32 {
	if b.off < 0 {
		return s.in[:b.size*n]
	}
	return s.act[b.off*n : (b.off+b.size)*n]
}

// plan is a compiled model.
type plan struct {
	steps       []step
	descs       []string
	inShape     []int
	inSize      int
	outSize     int
	out         *buf
	tap         *buf // the value WithTap keeps (nil without a tap)
	arena       int  // activation floats per sample
	chunk       int  // samples per pass (bounds scratch memory)
	tmp         int  // per-sample scratch floats
	tmpPrivate  int  // the first tmpPrivate floats of tmp belong to one step each
	probability bool
	kernel      string
}

// convStep is a convolution with its fused epilogue (bias, ReLU) and optional fused pooling.
type convStep struct {
	kr                                 *kernel
	in, out                            *buf
	c, h, w, m, kh, kw, sh, sw, dh, dw int
	pt, pl, pb, pr, ho, wo             int
	k, mpad                            int
	implicit                           bool
	rowStride, plane                   int // layout of the padded image (implicit) and of the wide result
	nt, ldc                            int
	off                                []int32
	offMax                             int
	srcOff, srcLen                     int // padded image in scratch.tmp (srcOff < 0: im2col in the shared area)
	wideShared                         int
	wdata, bias                        []float32 // wdata: mpad x k, rows beyond m are zero
	flags                              uintptr
	pool                               *poolSpec
	wideBase                           int // start of the shared scratch area, set by the plan
}

func (s *convStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *convStep) run(sc *scratch, n int) {
	in, out := sc.get(s.in, n), sc.get(s.out, n)
	inSize, outSize := s.in.size, s.out.size
	shared := sc.tmp[s.wideBase:]
	var src, wide []float32
	if s.implicit {
		src = sc.tmp[s.srcOff : s.srcOff+s.srcLen]
		wide = shared[:s.mpad*s.ldc]
	} else {
		src = shared[:s.srcLen]
		wide = shared[s.srcLen : s.srcLen+s.mpad*s.ldc]
	}
	mr, nr := s.kr.mr, s.kr.nr
	for i := 0; i < n; i++ {
		x := in[i*inSize : (i+1)*inSize]
		if s.implicit {
			for ci := 0; ci < s.c; ci++ {
				for r := 0; r < s.h; r++ {
					d := ci*s.plane + (r+s.pt)*s.rowStride + s.pl
					copy(src[d:d+s.w], x[(ci*s.h+r)*s.w:])
				}
			}
		} else {
			s.im2col(x, src)
		}
		for mb := 0; mb < s.mpad; mb += mr {
			s.kr.gemm(mr, s.wdata[mb*s.k:], s.k, src, s.off, s.offMax, wide[mb*s.ldc:], s.ldc, s.nt, nr, s.bias[mb:], s.flags)
		}
		y := out[i*outSize : (i+1)*outSize]
		if s.pool != nil {
			s.pool.run(wide, s.ldc, s.rowStride, s.m, s.ho, s.wo, y, sc.tmp)
			continue
		}
		for ch := 0; ch < s.m; ch++ {
			for r := 0; r < s.ho; r++ {
				copy(y[(ch*s.ho+r)*s.wo:][:s.wo], wide[ch*s.ldc+r*s.rowStride:])
			}
		}
	}
}

// im2col writes row k = (channel, kernel row, kernel column) of the patch matrix at dst[k*ldc:].
func (s *convStep) im2col(x, dst []float32) {
	for ci := 0; ci < s.c; ci++ {
		for i := 0; i < s.kh; i++ {
			for j := 0; j < s.kw; j++ {
				row := dst[((ci*s.kh+i)*s.kw+j)*s.ldc:]
				for oh := 0; oh < s.ho; oh++ {
					ih := oh*s.sh - s.pt + i*s.dh
					d := row[oh*s.wo : (oh+1)*s.wo]
					if ih < 0 || ih >= s.h {
						clear(d)
						continue
					}
					xr := x[(ci*s.h+ih)*s.w : (ci*s.h+ih+1)*s.w]
					for ow := range d {
						iw := ow*s.sw - s.pl + j*s.dw
						if iw < 0 || iw >= s.w {
							d[ow] = 0
						} else {
							d[ow] = xr[iw]
						}
					}
				}
			}
		}
	}
}

// fcStep is MatMul/Gemm against constant weights packed in column panels, with fused bias and ReLU.
type fcStep struct {
	kr                  *kernel
	in, out             *buf
	k, n, rowsPerSample int
	nt, ntFull          int
	wdata, bias         []float32 // wdata: nt x k x nr panels
	off                 []int32
	offMax              int
	flags               uintptr
	tileOff             int // partial-tile buffer in scratch.tmp
}

func (s *fcStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *fcStep) run(sc *scratch, n int) {
	in, out := sc.get(s.in, n), sc.get(s.out, n)
	mr, nr := s.kr.mr, s.kr.nr
	rowsTotal := n * s.rowsPerSample
	rem := s.n - s.ntFull*nr
	var tailBias []float32
	if s.bias != nil {
		tailBias = s.bias[s.ntFull*nr:]
	}
	for r0 := 0; r0 < rowsTotal; r0 += mr {
		rows := min(mr, rowsTotal-r0)
		a := in[r0*s.k:]
		if s.ntFull > 0 {
			s.kr.gemm(rows, a, s.k, s.wdata, s.off, s.offMax, out[r0*s.n:], s.n, s.ntFull, s.k*nr, s.bias, s.flags)
		}
		if rem > 0 {
			tile := sc.tmp[s.tileOff : s.tileOff+mr*nr]
			s.kr.gemm(rows, a, s.k, s.wdata[s.ntFull*s.k*nr:], s.off, s.offMax, tile, nr, 1, s.k*nr, tailBias, s.flags)
			for r := 0; r < rows; r++ {
				copy(out[(r0+r)*s.n+s.ntFull*nr:][:rem], tile[r*nr:])
			}
		}
	}
}

// poolSpec is a resolved MaxPool/AveragePool window.
type poolSpec struct {
	op                     *irOp
	kr                     *kernel
	rowOff                 int
	max, inclPad           bool
	kh, kw, sh, sw, pt, pl int
	h, w, ho, wo           int
}

func (c *compiler) newPool(op *irOp, h, w int) (*poolSpec, error) {
	ks, ok := attrInts(op, "kernel_shape")
	if !ok || len(ks) != 2 {
		return nil, fmt.Errorf("kernel_shape must have 2 values, got %v", ks)
	}
	if d, ok := attrInts(op, "dilations"); ok && (len(d) != 2 || d[0] != 1 || d[1] != 1) {
		return nil, fmt.Errorf("dilations %v are not supported", d)
	}
	if so, _ := attrInt(op, "storage_order", 0); so != 0 {
		return nil, fmt.Errorf("storage_order=%d is not supported", so)
	}
	g, err := spatial(op, [2]int{h, w}, [2]int{int(ks[0]), int(ks[1])}, true)
	if err != nil {
		return nil, err
	}
	inc, _ := attrInt(op, "count_include_pad", 0)
	rowOff := c.tmpSize
	c.tmpSize += w
	return &poolSpec{
		op: op, kr: c.kr, rowOff: rowOff, max: op.typ == "MaxPool", inclPad: inc != 0,
		kh: int(ks[0]), kw: int(ks[1]), sh: g.stride[0], sw: g.stride[1], pt: g.pad[0], pl: g.pad[1],
		h: h, w: w, ho: g.out[0], wo: g.out[1],
	}, nil
}

func (p *poolSpec) desc() string {
	name := "avgpool"
	if p.max {
		name = "maxpool"
	}
	return fmt.Sprintf("%s%dx%d/%d", name, p.kh, p.kw, p.sh)
}

// run pools c channels of src (channel planes plane floats apart, rows rowStride apart, h x w valid) into dst.
// tmp is scratch.tmp, which holds this pool's row buffer at p.rowOff.
func (p *poolSpec) run(src []float32, plane, rowStride, c, h, w int, dst, tmp []float32) {
	inside := p.pt == 0 && p.pl == 0 && (p.ho-1)*p.sh+p.kh <= h && (p.wo-1)*p.sw+p.kw <= w
	if p.max && inside && p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 {
		p.kr.maxPool2x2(dst, src, c, p.ho, p.wo, plane, rowStride)
		return
	}
	if p.max && inside {
		// Windows never touch padding: max over the kh rows with vector code, then over each window's columns.
		span := (p.wo-1)*p.sw + p.kw
		row := tmp[p.rowOff : p.rowOff+span]
		for ch := 0; ch < c; ch++ {
			for oh := 0; oh < p.ho; oh++ {
				p.kr.maxRows(row, src[ch*plane+oh*p.sh*rowStride:], p.kh, rowStride)
				d := dst[(ch*p.ho+oh)*p.wo : (ch*p.ho+oh+1)*p.wo]
				for ow := range d {
					win := row[ow*p.sw : ow*p.sw+p.kw]
					m := win[0]
					for _, v := range win[1:] {
						m = floats.Max(m, v)
					}
					d[ow] = m
				}
			}
		}
		return
	}
	for ch := 0; ch < c; ch++ {
		base := src[ch*plane:]
		for oh := 0; oh < p.ho; oh++ {
			h0 := oh*p.sh - p.pt
			h1 := min(h0+p.kh, h)
			for ow := 0; ow < p.wo; ow++ {
				w0 := ow*p.sw - p.pl
				w1 := min(w0+p.kw, w)
				acc := float32(math.Inf(-1))
				if !p.max {
					acc = 0
				}
				cnt := 0
				for ih := max(h0, 0); ih < h1; ih++ {
					row := base[ih*rowStride:]
					for iw := max(w0, 0); iw < w1; iw++ {
						v := row[iw]
						if p.max {
							acc = floats.Max(acc, v)
						} else {
							acc += v
						}
						cnt++
					}
				}
				if !p.max {
					if p.inclPad {
						cnt = (min(h0+p.kh, h+p.pt) - h0) * (min(w0+p.kw, w+p.pl) - w0)
					}
					if cnt > 0 {
						acc /= float32(cnt)
					}
				}
				dst[(ch*p.ho+oh)*p.wo+ow] = acc
			}
		}
	}
}

// poolStep is a pool that could not be fused into a convolution.
type poolStep struct {
	in, out *buf
	p       *poolSpec
	c, h, w int
}

func (s *poolStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *poolStep) run(sc *scratch, n int) {
	in, out := sc.get(s.in, n), sc.get(s.out, n)
	for i := 0; i < n; i++ {
		s.p.run(in[i*s.in.size:], s.h*s.w, s.w, s.c, s.h, s.w, out[i*s.out.size:(i+1)*s.out.size], sc.tmp)
	}
}

// unaryStep applies f elementwise.
type unaryStep struct {
	in, out *buf
	f       func(dst, src []float32)
}

func (s *unaryStep) bufs() ([]*buf, *buf)   { return []*buf{s.in}, s.out }
func (s *unaryStep) run(sc *scratch, n int) { s.f(sc.get(s.out, n), sc.get(s.in, n)) }

func reluSlice(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// binaryStep combines two computed tensors of one shape.
type binaryStep struct {
	a, b, out *buf
	op        string
}

func (s *binaryStep) bufs() ([]*buf, *buf) { return []*buf{s.a, s.b}, s.out }

func (s *binaryStep) run(sc *scratch, n int) {
	a, b, out := sc.get(s.a, n), sc.get(s.b, n), sc.get(s.out, n)
	b = b[:len(a)]
	out = out[:len(a)]
	switch s.op {
	case "Add":
		for i := range a {
			out[i] = a[i] + b[i]
		}
	case "Sub":
		for i := range a {
			out[i] = a[i] - b[i]
		}
	case "Mul":
		for i := range a {
			out[i] = a[i] * b[i]
		}
	}
}

// constBinaryStep combines a computed tensor with a constant broadcast to one sample (k).
type constBinaryStep struct {
	in, out    *buf
	k          []float32
	op         string
	constFirst bool
}

func (s *constBinaryStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *constBinaryStep) run(sc *scratch, n int) {
	in, out := sc.get(s.in, n), sc.get(s.out, n)
	for i := 0; i < n; i++ {
		x := in[i*len(s.k) : (i+1)*len(s.k)]
		y := out[i*len(s.k) : (i+1)*len(s.k)]
		k := s.k[:len(x)]
		switch {
		case s.op == "Add":
			for j := range x {
				y[j] = x[j] + k[j]
			}
		case s.op == "Mul":
			for j := range x {
				y[j] = x[j] * k[j]
			}
		case s.op == "Sub" && !s.constFirst:
			for j := range x {
				y[j] = x[j] - k[j]
			}
		case s.op == "Sub":
			for j := range x {
				y[j] = k[j] - x[j]
			}
		case s.op == "Div" && !s.constFirst:
			for j := range x {
				y[j] = x[j] / k[j]
			}
		default:
			for j := range x {
				y[j] = k[j] / x[j]
			}
		}
	}
}

// channelAffineStep is an unfused BatchNormalization: y = x*scale[c] + shift[c].
type channelAffineStep struct {
	in, out      *buf
	scale, shift []float32
	inner        int
}

func (s *channelAffineStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *channelAffineStep) run(sc *scratch, n int) {
	in, out := sc.get(s.in, n), sc.get(s.out, n)
	for i := 0; i < n*len(s.scale); i++ {
		c := i % len(s.scale)
		x := in[i*s.inner : (i+1)*s.inner]
		y := out[i*s.inner : (i+1)*s.inner]
		for j, v := range x {
			y[j] = v*s.scale[c] + s.shift[c]
		}
	}
}

// softmaxStep normalises every run of inner floats.
type softmaxStep struct {
	in, out *buf
	inner   int
}

func (s *softmaxStep) bufs() ([]*buf, *buf) { return []*buf{s.in}, s.out }

func (s *softmaxStep) run(sc *scratch, n int) {
	in, out := sc.get(s.in, n), sc.get(s.out, n)
	for r := 0; r+s.inner <= len(in); r += s.inner {
		x := in[r : r+s.inner]
		y := out[r : r+s.inner]
		mx := x[0]
		for _, v := range x {
			if v > mx {
				mx = v
			}
		}
		var sum float64
		for j, v := range x {
			e := math.Exp(float64(v - mx))
			y[j] = float32(e)
			sum += e
		}
		inv := float32(1 / sum)
		for j := range y {
			y[j] *= inv
		}
	}
}
