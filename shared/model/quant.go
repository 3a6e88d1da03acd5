package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Quantised graphs (QDQ format): activations pass through QuantizeLinear -> DequantizeLinear and weights are
// DequantizeLinear of int8 initializers. compile recognises the pattern
//
//	DequantizeLinear(uint8 x) -> Conv/MatMul/Gemm(DequantizeLinear(int8 W)) [+bias] [+Relu] [+MaxPool 2x2] [-> QuantizeLinear]
//
// and lowers it to one int8 GEMM step (u8 x s8 -> int32, requantised per output channel in the epilogue), so
// activations between such steps stay uint8. Whatever does not fit the pattern runs in float32 with explicit
// quantise/dequantise steps, so every valid QDQ graph still runs.

// qparams is the per-tensor quantisation of an activation as stored: real = (stored - zp) * scale. Activations
// are always stored as uint8; ONNX int8 values are stored +128 so the kernels see only unsigned activations.
type qparams struct {
	scale  float32
	zp     int32 // in the stored (uint8) domain
	signed bool  // the ONNX type is int8
}

func (p qparams) typeName() string {
	if p.signed {
		return "int8"
	}
	return "uint8"
}

// qlayout is how a quantised activation is stored per sample: HWC with channels padded to cp (1 when c == 1,
// else a multiple of 4, so four channels form one 32-bit word of the int8 dot product). Vectors are c x 1 x 1.
type qlayout struct{ c, h, w, cp int }

func (l qlayout) bytes() int { return l.h * l.w * l.cp }

func layoutFor(shape []int) (qlayout, error) {
	switch len(shape) {
	case 3:
		cp := 1
		if shape[0] > 1 {
			cp = round4(shape[0])
		}
		return qlayout{shape[0], shape[1], shape[2], cp}, nil
	case 1:
		return qlayout{shape[0], 1, 1, round4(shape[0])}, nil
	}
	return qlayout{}, fmt.Errorf("quantised tensors of per-sample shape %v are not supported (want CxHxW or a vector)", shape)
}

func round4(n int) int { return (n + 3) &^ 3 }

// qconst is the integer side of a constant computed as DequantizeLinear(vals, scale, zp).
type qconst struct {
	vals      []int64
	dtype     DataType
	scale     []float32
	zp        []int64
	perTensor bool
	axis      int
}

// symmetricInt8 reports whether the integers are int8 with zero points 0, which is what the int8 kernels take.
func (q *qconst) symmetricInt8() bool {
	if q.dtype != Int8 {
		return false
	}
	for _, z := range q.zp {
		if z != 0 {
			return false
		}
	}
	return true
}

func (q *qconst) scaleAt(i int) float32 {
	if q.perTensor {
		return q.scale[0]
	}
	return q.scale[i]
}

// checkScales rejects scales that would make (de)quantisation meaningless.
func checkScales(s *constant) error {
	if s.isInt {
		return fmt.Errorf("scale must be a float tensor, got %v", s.dtype)
	}
	for i, v := range s.f {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("scale[%d] = %v: scales must be positive and finite", i, v)
		}
	}
	return nil
}

func intRange(t DataType) (lo, hi int64, ok bool) {
	switch t {
	case Int8:
		return math.MinInt8, math.MaxInt8, true
	case Uint8:
		return 0, math.MaxUint8, true
	case Int32:
		return math.MinInt32, math.MaxInt32, true
	}
	return 0, 0, false
}

// dequantizeConst folds DequantizeLinear of constant integers, keeping the integers for the int8 kernels.
func dequantizeConst(op *irOp, opset int64) (*constant, error) {
	x, err := cnst(op, 0, false)
	if err != nil {
		return nil, err
	}
	s, err := cnst(op, 1, false)
	if err != nil {
		return nil, err
	}
	zp, err := cnst(op, 2, true)
	if err != nil {
		return nil, err
	}
	lo, hi, ok := intRange(x.dtype)
	if !x.isInt || !ok {
		return nil, fmt.Errorf("x has type %v, want int8, uint8 or int32", x.dtype)
	}
	if err := checkScales(s); err != nil {
		return nil, err
	}
	q := &qconst{vals: x.ints, dtype: x.dtype, scale: s.f, perTensor: s.size() == 1 && len(s.shape) <= 1}
	if !q.perTensor {
		if len(s.shape) != 1 {
			return nil, fmt.Errorf("scale has shape %v, want a scalar or a vector", s.shape)
		}
		if opset < 13 {
			return nil, fmt.Errorf("per-axis scales need opset 13, model has opset %d", opset)
		}
		axis, _ := attrInt(op, "axis", 1)
		if axis < 0 {
			axis += int64(len(x.shape))
		}
		if axis < 0 || axis >= int64(len(x.shape)) {
			return nil, fmt.Errorf("axis %d out of range for x of shape %v", axis, x.shape)
		}
		q.axis = int(axis)
		if s.size() != x.shape[q.axis] {
			return nil, fmt.Errorf("scale has %d values, want 1 or %d (axis %d of x shape %v)", s.size(), x.shape[q.axis], q.axis, x.shape)
		}
	}
	q.zp = make([]int64, len(s.f))
	if zp != nil {
		if !zp.isInt || zp.dtype != x.dtype {
			return nil, fmt.Errorf("zero point has type %v, want %v like x", zp.dtype, x.dtype)
		}
		if zp.size() != s.size() || len(zp.shape) != len(s.shape) {
			return nil, fmt.Errorf("zero point has shape %v, scale has shape %v: want the same", zp.shape, s.shape)
		}
		for i, z := range zp.ints {
			if z < lo || z > hi || (x.dtype == Int32 && z != 0) {
				return nil, fmt.Errorf("zero point[%d] = %d is invalid for %v", i, z, x.dtype)
			}
		}
		copy(q.zp, zp.ints)
	}
	inner := 1
	if !q.perTensor {
		inner = prod(x.shape[q.axis+1:])
	}
	out := &constant{shape: x.shape, f: make([]float32, len(x.ints)), dtype: Float, q: q}
	for i, v := range x.ints {
		if v < lo || v > hi {
			return nil, fmt.Errorf("x[%d] = %d is out of range for %v", i, v, x.dtype)
		}
		ch := 0
		if !q.perTensor {
			ch = (i / inner) % x.shape[q.axis]
		}
		out.f[i] = float32(v-q.zp[ch]) * q.scale[ch]
	}
	return out, nil
}

// castConst folds Cast of a constant (fp16 models cast their half weights to float).
func castConst(op *irOp) (*constant, error) {
	x, err := cnst(op, 0, false)
	if err != nil {
		return nil, err
	}
	to, _ := attrInt(op, "to", 0)
	switch DataType(to) {
	case Float, Double:
		return &constant{shape: x.shape, f: x.f, dtype: Float}, nil
	case Int64, Int32:
		out := &constant{shape: x.shape, f: make([]float32, len(x.f)), ints: make([]int64, len(x.f)), isInt: true,
			dtype: DataType(to)}
		for i, v := range x.f {
			if x.isInt {
				out.ints[i] = x.ints[i]
			} else {
				out.ints[i] = int64(v)
			}
			out.f[i] = float32(out.ints[i])
		}
		return out, nil
	}
	return nil, fmt.Errorf("cast to %v is not supported", DataType(to))
}

// actParams reads the per-tensor scale and zero point inputs of an activation QuantizeLinear/DequantizeLinear.
func actParams(op *irOp) (qparams, error) {
	s, err := cnst(op, 1, false)
	if err != nil {
		return qparams{}, fmt.Errorf("scale: %w", err)
	}
	if err := checkScales(s); err != nil {
		return qparams{}, err
	}
	if s.size() != 1 {
		return qparams{}, fmt.Errorf("scale has %d values: per-axis quantisation of activations is not supported", s.size())
	}
	p := qparams{scale: s.f[0]}
	zp, err := cnst(op, 2, true)
	if err != nil {
		return qparams{}, fmt.Errorf("zero point: %w", err)
	}
	if zp == nil {
		return p, nil
	}
	if zp.size() != 1 {
		return qparams{}, fmt.Errorf("zero point has %d values, scale has 1", zp.size())
	}
	switch zp.dtype {
	case Uint8:
	case Int8:
		p.signed = true
	default:
		return qparams{}, fmt.Errorf("zero point has type %v, want uint8 or int8", zp.dtype)
	}
	lo, hi, _ := intRange(zp.dtype)
	if z := zp.ints[0]; z < lo || z > hi {
		return qparams{}, fmt.Errorf("zero point %d is out of range for %v", z, zp.dtype)
	}
	p.zp = int32(zp.ints[0])
	if p.signed {
		p.zp += 128
	}
	return p, nil
}

// newQAct gives v a quantised layout and a buffer of l.bytes() rounded up to floats plus one float of slack
// (the int8 kernels read whole 4-byte groups).
func (c *compiler) newQAct(v *value, shape []int, l qlayout, p qparams) {
	v.shape, v.ql, v.q = shape, l, &p
	v.b = &buf{size: (l.bytes()+3)/4 + 1}
}

func (c *compiler) lowerQuantize(op *irOp) error {
	x, err := act(op, 0)
	if err != nil {
		return err
	}
	if x.q != nil {
		return errors.New("input is already quantised")
	}
	p, err := actParams(op)
	if err != nil {
		return err
	}
	l, err := layoutFor(x.shape)
	if err != nil {
		return err
	}
	c.newQAct(op.out, x.shape, l, p)
	c.addStep(&quantizeStep{in: x.b, out: op.out.b, l: l, p: p},
		fmt.Sprintf("QuantizeLinear %s -> %s", dims(x.shape), p.typeName()))
	return nil
}

// lowerDequantize records DequantizeLinear of an activation; the work happens in the consumer (see materialize).
func (c *compiler) lowerDequantize(op *irOp) error {
	x, err := act(op, 0)
	if err != nil {
		return err
	}
	if x.q == nil {
		return errors.New("input is not quantised (want the output of QuantizeLinear)")
	}
	p, err := actParams(op)
	if err != nil {
		return err
	}
	if p.signed != x.q.signed {
		return fmt.Errorf("zero point type %s does not match the quantised input (%s)", p.typeName(), x.q.typeName())
	}
	op.out.deq, op.out.dq, op.out.shape = x, p, x.shape
	return nil
}

// materialize gives a lazily dequantised value a float buffer and the step that fills it.
func (c *compiler) materialize(v *value) {
	if v.deq == nil || v.b != nil {
		return
	}
	c.newAct(v, v.shape)
	c.addStep(&dequantizeStep{in: v.deq.b, out: v.b, l: v.deq.ql, p: v.dq},
		fmt.Sprintf("DequantizeLinear %s -> %s", v.dq.typeName(), dims(v.shape)))
}

// view makes out a reshaped view of x: a float alias, a quantised alias or a lazy dequantisation.
func (c *compiler) view(out, x *value, shape []int) {
	switch {
	case x.deq != nil:
		out.deq, out.dq, out.shape = x.deq, x.dq, shape
		c.descs = append(c.descs, fmt.Sprintf("(view) %s -> %s", dims(x.shape), dims(shape)))
	case x.q != nil:
		out.q, out.ql = x.q, x.ql
		c.alias(out, x, shape)
	default:
		c.alias(out, x, shape)
	}
}

// qchain absorbs what follows an int8 Conv/MatMul: per-channel bias Add/Sub, Relu, (conv only) a 2x2 stride-2
// MaxPool that feeds a QuantizeLinear, and the QuantizeLinear itself.
type qchain struct {
	bias []float32
	relu bool
	pool bool
	q    *qparams
	out  *value
	desc []string
}

func (c *compiler) absorbChain(start *value, ch *qchain, shape []int, convSpatial [2]int) error {
	cur := start
	for {
		next := c.singleConsumer(cur)
		if next == nil || ch.q != nil {
			break
		}
		switch {
		case (next.typ == "Add" || next.typ == "Sub") && !ch.relu && !ch.pool:
			k := otherConst(next, cur)
			if k == nil || (next.typ == "Sub" && next.in[0] != cur) {
				goto done
			}
			e, err := expandPerSample(k, shape)
			if err != nil {
				return fmt.Errorf("%s after int8 op: %w", next.typ, err)
			}
			n := len(ch.bias)
			per, ok := perRow(e, n, len(e)/n)
			if len(shape) == 1 {
				per, ok = e, true
			}
			if !ok {
				goto done
			}
			for i := range ch.bias {
				if next.typ == "Sub" {
					ch.bias[i] -= per[i]
				} else {
					ch.bias[i] += per[i]
				}
			}
			ch.desc = append(ch.desc, "+bias")
		case next.typ == "Relu" && !ch.pool:
			ch.relu = true
			ch.desc = append(ch.desc, "+relu")
		case next.typ == "MaxPool" && !ch.pool && len(shape) == 3:
			if !c.pool2x2(next, convSpatial) {
				goto done
			}
			if q := c.singleConsumer(next.out); q == nil || q.typ != "QuantizeLinear" {
				goto done
			}
			ch.pool = true
			shape = []int{shape[0], convSpatial[0] / 2, convSpatial[1] / 2}
			ch.desc = append(ch.desc, "+maxpool2x2/2")
		case next.typ == "QuantizeLinear":
			p, err := actParams(next)
			if err != nil {
				return fmt.Errorf("QuantizeLinear after int8 op: %w", err)
			}
			ch.q = &p
			ch.desc = append(ch.desc, "+quantize "+p.typeName())
		default:
			goto done
		}
		next.done = true
		next.out.shape = shape
		cur = next.out
	}
done:
	ch.out = cur
	if ch.q != nil {
		l, err := layoutFor(shape)
		if err != nil {
			return err
		}
		if len(shape) == 3 {
			l.cp = round4(shape[0]) // conv outputs are written in whole 4-channel groups
		}
		c.newQAct(cur, shape, l, *ch.q)
	} else {
		c.newAct(cur, shape)
	}
	return nil
}

// pool2x2 reports whether a MaxPool is 2x2 stride 2 without padding (the pooling the int8 kernel fuses).
func (c *compiler) pool2x2(op *irOp, in [2]int) bool {
	ks, ok := attrInts(op, "kernel_shape")
	if !ok || len(ks) != 2 || ks[0] != 2 || ks[1] != 2 {
		return false
	}
	g, err := spatial(op, in, [2]int{2, 2}, true)
	if err != nil || g.stride != [2]int{2, 2} || g.pad != [4]int{} || g.out[0] != in[0]/2 || g.out[1] != in[1]/2 {
		return false
	}
	if d, ok := attrInts(op, "dilations"); ok && (len(d) != 2 || d[0] != 1 || d[1] != 1) {
		return false
	}
	so, _ := attrInt(op, "storage_order", 0)
	return so == 0 && g.out[0] > 0 && g.out[1] > 0
}

// epilogue computes the per-column requantisation: out = clamp(acc*scale + bias, lo, hi), then rounded to uint8
// when the output is quantised. wsum is the sum of each column's integer weights (input zero-point correction).
func (ch *qchain) epilogue(xp qparams, wscale func(int) float32, wsum []int64, npad int) (scale, bias []float32, clamp [2]float32) {
	n := len(ch.bias)
	scale = make([]float32, npad)
	bias = make([]float32, npad)
	for j := 0; j < n; j++ {
		s := float64(xp.scale) * float64(wscale(j))
		b := float64(ch.bias[j]) - float64(xp.zp)*float64(wsum[j])*s
		if ch.q != nil {
			s /= float64(ch.q.scale)
			b = b/float64(ch.q.scale) + float64(ch.q.zp)
		}
		scale[j], bias[j] = float32(s), float32(b)
	}
	switch {
	case ch.q != nil && ch.relu:
		clamp = [2]float32{float32(ch.q.zp), 255}
	case ch.q != nil:
		clamp = [2]float32{0, 255}
	case ch.relu:
		clamp = [2]float32{0, float32(math.Inf(1))}
	default:
		clamp = [2]float32{float32(math.Inf(-1)), float32(math.Inf(1))}
	}
	return scale, bias, clamp
}

// lowerQConv lowers an int8 convolution; done is false when the op does not fit (then it runs in float).
func (c *compiler) lowerQConv(op *irOp) (done bool, err error) {
	x := op.in[0]
	w, err := cnst(op, 1, false)
	if err != nil || x == nil || x.deq == nil || w.q == nil || !w.q.symmetricInt8() || (!w.q.perTensor && w.q.axis != 0) ||
		len(w.shape) != 4 || len(x.shape) != 3 {
		return false, nil
	}
	if g, _ := attrInt(op, "group", 1); g != 1 {
		return false, nil
	}
	l := x.deq.ql
	if l.c != x.shape[0] || l.h != x.shape[1] || l.w != x.shape[2] || w.shape[1] != l.c {
		return false, nil
	}
	bias, err := cnst(op, 2, true)
	if err != nil {
		return true, err
	}
	m, kh, kw := w.shape[0], w.shape[2], w.shape[3]
	if ks, ok := attrInts(op, "kernel_shape"); ok && (len(ks) != 2 || int(ks[0]) != kh || int(ks[1]) != kw) {
		return true, fmt.Errorf("kernel_shape %v does not match weights %v", ks, w.shape)
	}
	g, err := spatial(op, [2]int{l.h, l.w}, [2]int{kh, kw}, false)
	if err != nil {
		return true, err
	}
	ch := &qchain{bias: make([]float32, m)}
	if bias != nil {
		if bias.size() != m {
			return true, fmt.Errorf("bias has %d values for %d channels", bias.size(), m)
		}
		copy(ch.bias, bias.f)
		ch.desc = append(ch.desc, "+bias")
	}
	ho, wo := g.out[0], g.out[1]
	if err := c.absorbChain(op.out, ch, []int{m, ho, wo}, [2]int{ho, wo}); err != nil {
		return true, err
	}
	s := &qconvStep{qk: c.kr.q, in: x.deq.b, out: ch.out.b, l: l, m: m, ho: ho, wo: wo, pooled: ch.pool, u8: ch.q != nil}
	if err := c.planQConv(s, g, w, x.dq, ch, kh, kw); err != nil {
		return true, err
	}
	desc := fmt.Sprintf("Conv(int8) %s -> %dx%dx%d k%dx%d s%d", dims(x.shape), m, ho, wo, kh, kw, g.stride[0])
	for _, d := range ch.desc {
		desc += " " + d
	}
	c.addStep(s, desc+" -> "+dims(ch.out.shape)+" ["+c.kr.q.name+"]")
	return true, nil
}

func (c *compiler) planQConv(s *qconvStep, g geometry, w *constant, xp qparams, ch *qchain, kh, kw int) error {
	l := s.l
	nr := qnr
	s.pt, s.pl = g.pad[0], g.pad[1]
	s.rowStride = g.pad[1] + l.w + g.pad[3]
	srcBytes := (g.pad[0]+l.h+g.pad[2])*s.rowStride*l.cp + 8
	s.srcLen = (srcBytes + 3) / 4
	s.srcOff = c.tmpSize
	c.tmpSize += s.srcLen
	s.zx = uint8(xp.zp)
	// Quads: 4 consecutive bytes of the padded source that share one 32-bit word of the dot product. With
	// cp == 1 they are horizontally adjacent taps, else 4 channels of one tap.
	type tap struct{ i, j, ch int }
	var quads [][4]tap
	var offs []int32
	dh, dw := g.dil[0], g.dil[1]
	none := tap{-1, -1, -1}
	if l.cp == 1 {
		step := 4
		if dw != 1 {
			step = 1
		}
		for i := 0; i < kh; i++ {
			for j0 := 0; j0 < kw; j0 += step {
				q := [4]tap{none, none, none, none}
				for e := 0; e < step && j0+e < kw; e++ {
					q[e] = tap{i, j0 + e, 0}
				}
				quads = append(quads, q)
				offs = append(offs, int32(i*dh*s.rowStride+j0*dw))
			}
		}
	} else {
		for i := 0; i < kh; i++ {
			for j := 0; j < kw; j++ {
				for cg := 0; cg < l.cp/4; cg++ {
					q := [4]tap{none, none, none, none}
					for e := 0; e < 4 && 4*cg+e < l.c; e++ {
						q[e] = tap{i, j, 4*cg + e}
					}
					quads = append(quads, q)
					offs = append(offs, int32((i*dh*s.rowStride+j*dw)*l.cp+4*cg))
				}
			}
		}
	}
	s.off, s.offMax = offs, slices.Max(offs)
	s.kq = len(quads)
	s.nt = (s.m + nr - 1) / nr
	wat := func(m int, t tap) int64 {
		return w.q.vals[((m*l.c+t.ch)*kh+t.i)*kw+t.j]
	}
	wb := make([]int8, s.nt*s.kq*nr*4)
	wsum := make([]int64, s.m)
	for m := 0; m < s.m; m++ {
		for _, v := range w.q.vals[m*l.c*kh*kw : (m+1)*l.c*kh*kw] {
			wsum[m] += v
		}
		t, jj := m/nr, m%nr
		for q, qd := range quads {
			for e, tp := range qd {
				if tp.i >= 0 {
					wb[((t*s.kq+q)*nr+jj)*4+e] = int8(wat(m, tp))
				}
			}
		}
	}
	s.b = s.qk.packB(wb, s.kq, s.nt)
	s.scale, s.bias, s.clamp = ch.epilogue(xp, w.q.scaleAt, wsum, s.nt*nr)
	// Row offsets: output pixel (oh, ow) reads the padded source from (oh*sh*rowStride + ow*sw)*cp; with a fused
	// 2x2 pool the four pixels of each window are consecutive rows.
	pix := func(oh, ow int) int32 { return int32((oh*g.stride[0]*s.rowStride + ow*g.stride[1]) * l.cp) }
	if s.pooled {
		for ph := 0; ph < s.ho/2; ph++ {
			for pw := 0; pw < s.wo/2; pw++ {
				s.rowOff = append(s.rowOff, pix(2*ph, 2*pw), pix(2*ph, 2*pw+1), pix(2*ph+1, 2*pw), pix(2*ph+1, 2*pw+1))
			}
		}
	} else {
		for oh := 0; oh < s.ho; oh++ {
			for ow := 0; ow < s.wo; ow++ {
				s.rowOff = append(s.rowOff, pix(oh, ow))
			}
		}
	}
	if s.u8 {
		s.ldc = ch.out.ql.cp
	} else {
		s.ldc = s.m * 4
		s.wideShared = len(s.rowOff) * s.m
		c.tmpWide = max(c.tmpWide, s.wideShared)
	}
	if int64(srcBytes)+int64(len(wb)) > MaxTensorElements*4 {
		return errors.New("convolution too large")
	}
	return nil
}

// lowerQFC lowers an int8 MatMul/Gemm; done is false when the op does not fit (then it runs in float).
func (c *compiler) lowerQFC(op *irOp) (done bool, err error) {
	x := op.in[0]
	w, err := cnst(op, 1, false)
	if err != nil || x == nil || x.deq == nil || w.q == nil || !w.q.symmetricInt8() || len(w.shape) != 2 || len(x.shape) != 1 {
		return false, nil
	}
	l := x.deq.ql
	k, n := w.shape[0], w.shape[1]
	trans := false
	alpha := float32(1)
	var bias []float32
	if op.typ == "Gemm" {
		if ta, _ := attrInt(op, "transA", 0); ta != 0 {
			return false, nil
		}
		if tb, _ := attrInt(op, "transB", 0); tb != 0 {
			trans = true
			k, n = n, k
		}
		alpha = attrFloat(op, "alpha", 1)
		if !(alpha > 0) {
			return false, nil
		}
		cb, err := cnst(op, 2, true)
		if err != nil {
			return true, err
		}
		if cb != nil {
			e, err := expandPerSample(cb, []int{n})
			if err != nil {
				return true, fmt.Errorf("C: %w", err)
			}
			beta := attrFloat(op, "beta", 1)
			bias = make([]float32, n)
			for i := range e {
				bias[i] = beta * e[i]
			}
		}
	}
	// The scale must be per output column (or per tensor).
	colAxis := 1
	if trans {
		colAxis = 0
	}
	if !w.q.perTensor && w.q.axis != colAxis {
		return false, nil
	}
	if x.shape[0] != k || l.c*l.h*l.w != k {
		return false, nil
	}
	ch := &qchain{bias: make([]float32, n)}
	if bias != nil {
		copy(ch.bias, bias)
		ch.desc = append(ch.desc, "+bias")
	}
	if err := c.absorbChain(op.out, ch, []int{n}, [2]int{}); err != nil {
		return true, err
	}
	wat := func(kk, j int) int64 {
		if trans {
			return w.q.vals[j*k+kk]
		}
		return w.q.vals[kk*n+j]
	}
	nr := qnr
	s := &qfcStep{qk: c.kr.q, in: x.deq.b, out: ch.out.b, n: n, u8: ch.q != nil}
	kp := round4(l.bytes())
	s.kq = kp / 4
	s.nt = (n + nr - 1) / nr
	s.off = make([]int32, s.kq)
	for q := range s.off {
		s.off[q] = int32(4 * q)
	}
	s.offMax = s.off[s.kq-1]
	wb := make([]int8, s.nt*s.kq*nr*4)
	wsum := make([]int64, n)
	hw := l.h * l.w
	for p := 0; p < kp; p++ {
		px, cc := p/l.cp, p%l.cp
		if cc >= l.c || px >= hw {
			continue
		}
		kk := cc*hw + px // ONNX (CHW) index of this byte
		for j := 0; j < n; j++ {
			v := wat(kk, j)
			wsum[j] += v
			t, jj := j/nr, j%nr
			wb[((t*s.kq+p/4)*nr+jj)*4+p%4] = int8(v)
		}
	}
	s.b = s.qk.packB(wb, s.kq, s.nt)
	ws := func(j int) float32 { return alpha * w.q.scaleAt(j) }
	s.scale, s.bias, s.clamp = ch.epilogue(x.dq, ws, wsum, s.nt*nr)
	inStride := x.deq.b.size * 4
	s.rowOff = make([]int32, maxChunk)
	for i := range s.rowOff {
		s.rowOff[i] = int32(i * inStride)
	}
	s.ldc = ch.out.b.size * 4
	desc := fmt.Sprintf("%s(int8) %s x %dx%d", op.typ, dims(x.shape), k, n)
	for _, d := range ch.desc {
		desc += " " + d
	}
	c.addStep(s, desc+" -> "+dims(ch.out.shape)+" ["+c.kr.q.name+"]")
	return true, nil
}
