package model

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// lower turns one activation op (and the ops it can absorb) into plan steps.
func (c *compiler) lower(op *irOp) error {
	if op.done {
		return nil
	}
	op.done = true
	switch op.typ {
	case "Conv", "MatMul", "Gemm", "Reshape", "Flatten", "Identity", "Dropout":
		// These take lazily dequantised inputs (int8 kernels or views).
	default:
		for _, in := range op.in {
			if in != nil && in.deq != nil {
				c.materialize(in)
			}
		}
	}
	switch op.typ {
	case "Conv":
		if done, err := c.lowerQConv(op); done || err != nil {
			return err
		}
		if op.in[0] != nil {
			c.materialize(op.in[0])
		}
		return c.lowerConv(op)
	case "MatMul", "Gemm":
		if done, err := c.lowerQFC(op); done || err != nil {
			return err
		}
		if op.in[0] != nil {
			c.materialize(op.in[0])
		}
		return c.lowerFC(op)
	case "QuantizeLinear":
		return c.lowerQuantize(op)
	case "DequantizeLinear":
		return c.lowerDequantize(op)
	case "Cast":
		x, err := act(op, 0)
		if err != nil {
			return err
		}
		if to, _ := attrInt(op, "to", 0); DataType(to) != Float || x.q != nil {
			return fmt.Errorf("only casts of float activations to float are supported (to=%d)", to)
		}
		c.view(op.out, x, x.shape)
		return nil
	case "Relu":
		x, err := act(op, 0)
		if err != nil {
			return err
		}
		c.newAct(op.out, x.shape)
		c.addStep(&unaryStep{in: x.b, out: op.out.b, f: reluSlice}, "Relu "+dims(x.shape))
		return nil
	case "MaxPool", "AveragePool":
		x, err := act(op, 0)
		if err != nil {
			return err
		}
		if len(x.shape) != 3 {
			return fmt.Errorf("input must be NCHW, per-sample shape is %v", x.shape)
		}
		p, err := c.newPool(op, x.shape[1], x.shape[2])
		if err != nil {
			return err
		}
		ch := x.shape[0]
		c.newAct(op.out, []int{ch, p.ho, p.wo})
		c.addStep(&poolStep{in: x.b, out: op.out.b, p: p, c: ch, h: x.shape[1], w: x.shape[2]},
			fmt.Sprintf("%s %s -> %s", p.desc(), dims(x.shape), dims(op.out.shape)))
		return nil
	case "Reshape":
		x, err := act(op, 0)
		if err != nil {
			return err
		}
		// The batch dimension is implicit: resolve the target for one sample and drop its leading 1.
		full, err := reshapeTarget(op, append([]int{1}, x.shape...))
		if err != nil {
			return err
		}
		if len(full) == 0 || full[0] != 1 {
			return fmt.Errorf("reshape to %v would change the batch dimension", full)
		}
		c.view(op.out, x, full[1:])
		return nil
	case "Flatten":
		x, err := act(op, 0)
		if err != nil {
			return err
		}
		axis, _ := attrInt(op, "axis", 1)
		if axis < 0 {
			axis += int64(len(x.shape)) + 1
		}
		if axis != 1 {
			return fmt.Errorf("only axis 1 is supported (got %d): other axes fold samples together", axis)
		}
		c.view(op.out, x, []int{prod(x.shape)})
		return nil
	case "Identity", "Dropout":
		x, err := act(op, 0)
		if err != nil {
			return err
		}
		c.view(op.out, x, x.shape)
		return nil
	case "Add", "Sub", "Mul", "Div":
		return c.lowerBinary(op)
	case "Softmax":
		return c.lowerSoftmax(op)
	case "BatchNormalization":
		x, err := act(op, 0)
		if err != nil {
			return err
		}
		scale, shift, err := batchNormAffine(op, x.shape[0])
		if err != nil {
			return err
		}
		c.newAct(op.out, x.shape)
		c.addStep(&channelAffineStep{in: x.b, out: op.out.b, scale: scale, shift: shift, inner: prod(x.shape[1:])},
			"BatchNormalization "+dims(x.shape))
		return nil
	}
	return fmt.Errorf("operator %s is not supported", op.typ)
}

// lowerConv lowers Conv and absorbs what follows it into the kernel epilogue: a per-channel Add (bias),
// BatchNormalization, Relu, then one MaxPool/AveragePool.
func (c *compiler) lowerConv(op *irOp) error {
	x, err := act(op, 0)
	if err != nil {
		return err
	}
	w, err := cnst(op, 1, false)
	if err != nil {
		return err
	}
	bias, err := cnst(op, 2, true)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 {
		return fmt.Errorf("input must be NCHW, per-sample shape is %v", x.shape)
	}
	if len(w.shape) != 4 {
		return fmt.Errorf("weights must be 4-D, got %v", w.shape)
	}
	if g, _ := attrInt(op, "group", 1); g != 1 {
		return fmt.Errorf("group=%d is not supported", g)
	}
	ch, h, wd := x.shape[0], x.shape[1], x.shape[2]
	m, kh, kw := w.shape[0], w.shape[2], w.shape[3]
	if w.shape[1] != ch {
		return fmt.Errorf("weights %v do not match %d input channels", w.shape, ch)
	}
	if ks, ok := attrInts(op, "kernel_shape"); ok && (len(ks) != 2 || int(ks[0]) != kh || int(ks[1]) != kw) {
		return fmt.Errorf("kernel_shape %v does not match weights %v", ks, w.shape)
	}
	g, err := spatial(op, [2]int{h, wd}, [2]int{kh, kw}, false)
	if err != nil {
		return err
	}
	s := &convStep{
		kr: c.kr, in: x.b, c: ch, h: h, w: wd, m: m, kh: kh, kw: kw,
		sh: g.stride[0], sw: g.stride[1], dh: g.dil[0], dw: g.dil[1],
		pt: g.pad[0], pl: g.pad[1], pb: g.pad[2], pr: g.pad[3], ho: g.out[0], wo: g.out[1],
	}
	wts := append([]float32(nil), w.f...)
	bvec := make([]float32, m)
	if bias != nil {
		if bias.size() != m {
			return fmt.Errorf("bias has %d values for %d channels", bias.size(), m)
		}
		copy(bvec, bias.f)
	}
	desc := []string{fmt.Sprintf("Conv %s -> %dx%dx%d k%dx%d s%d", dims(x.shape), m, s.ho, s.wo, kh, kw, s.sh)}
	out := op.out
	c.newAct(out, []int{m, s.ho, s.wo})
	hasBias := bias != nil
	for {
		next := c.singleConsumer(out)
		if next == nil {
			break
		}
		absorbed := true
		switch {
		case (next.typ == "Add" || next.typ == "Sub") && s.flags&flagRelu == 0 && s.pool == nil:
			k := otherConst(next, out)
			if k == nil || (next.typ == "Sub" && next.in[0] != out) {
				absorbed = false
				break
			}
			e, err := expandPerSample(k, out.shape)
			if err != nil {
				return fmt.Errorf("%s after Conv: %w", next.typ, err)
			}
			per, ok := perRow(e, m, s.ho*s.wo)
			if !ok {
				absorbed = false
				break
			}
			for i := range bvec {
				if next.typ == "Sub" {
					bvec[i] -= per[i]
				} else {
					bvec[i] += per[i]
				}
			}
			hasBias = true
			desc = append(desc, "+bias")
		case next.typ == "BatchNormalization" && s.flags&flagRelu == 0 && s.pool == nil:
			scale, shift, err := batchNormAffine(next, m)
			if err != nil {
				return fmt.Errorf("BatchNormalization after Conv: %w", err)
			}
			kk := ch * kh * kw
			for i := 0; i < m; i++ {
				for j := 0; j < kk; j++ {
					wts[i*kk+j] *= scale[i]
				}
				bvec[i] = bvec[i]*scale[i] + shift[i]
			}
			hasBias = true
			desc = append(desc, "+batchnorm")
		case next.typ == "Relu" && s.pool == nil:
			s.flags |= flagRelu
			desc = append(desc, "+relu")
		case (next.typ == "MaxPool" || next.typ == "AveragePool") && s.pool == nil:
			p, err := c.newPool(next, s.ho, s.wo)
			if err != nil {
				return fmt.Errorf("%s after Conv: %w", next.typ, err)
			}
			s.pool = p
			desc = append(desc, "+"+p.desc())
		default:
			absorbed = false
		}
		if !absorbed {
			break
		}
		next.done = true
		if s.pool != nil && s.pool.op == next {
			c.newAct(next.out, []int{m, s.pool.ho, s.pool.wo})
		} else {
			c.newAct(next.out, out.shape)
		}
		out = next.out
	}
	if hasBias {
		s.flags |= flagRowBias
	}
	s.out = out.b
	if err := c.planConv(s, wts, bvec); err != nil {
		return err
	}
	c.addStep(s, strings.Join(desc, " ")+" -> "+dims(out.shape)+" ["+c.kr.name+"]")
	return nil
}

// planConv lays out a convolution for the kernel: stride-1 undilated convolutions run as implicit GEMM over a
// zero-padded copy of the image whose rows are W+max(pl,pr) floats apart (the right padding of one row doubles
// as the left padding of the next), so filter tap k is just a fixed offset off[k] and output pixel (oh, ow) is
// column oh*S+ow of a "wide" result whose extra columns are ignored. Other convolutions use im2col.
func (c *compiler) planConv(s *convStep, wts, bvec []float32) error {
	mr, nr := c.kr.mr, c.kr.nr
	s.k = s.c * s.kh * s.kw
	s.mpad = (s.m + mr - 1) / mr * mr
	s.implicit = s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1
	var ncols int
	if s.implicit {
		s.rowStride = s.w + max(s.pl, s.pr)
		s.plane = (s.h + s.pt + s.pb) * s.rowStride
		ncols = s.ho * s.rowStride
	} else {
		s.rowStride = s.wo
		ncols = s.ho * s.wo
	}
	s.nt = (ncols + nr - 1) / nr
	s.ldc = s.nt * nr
	s.off = make([]int32, s.k)
	for ci := 0; ci < s.c; ci++ {
		for i := 0; i < s.kh; i++ {
			for j := 0; j < s.kw; j++ {
				k := (ci*s.kh+i)*s.kw + j
				var o int
				if s.implicit {
					o = ci*s.plane + i*s.rowStride + j
				} else {
					o = k * s.ldc
				}
				s.off[k] = int32(o * 4)
				s.offMax = max(s.offMax, o)
			}
		}
	}
	if s.implicit {
		s.srcLen = max(s.c*s.plane, s.offMax+s.ldc) + 1
	} else {
		s.srcLen = s.k*s.ldc + 1
	}
	if int64(s.srcLen)+int64(s.mpad)*int64(s.ldc) > MaxTensorElements || int64(s.offMax)*4 > math.MaxInt32 {
		return errors.New("convolution too large")
	}
	// Zero rows pad the weights to whole kernel row blocks.
	packed := make([]float32, s.mpad*s.k)
	copy(packed, wts)
	s.wdata = packed
	s.bias = make([]float32, s.mpad)
	copy(s.bias, bvec)
	// The padded image keeps its zero border only if no other step writes there, so it is private;
	// im2col rewrites everything it reads and the wide result is always rewritten, so those are shared.
	if s.implicit {
		s.srcOff = c.tmpSize
		c.tmpSize += s.srcLen
		s.wideShared = s.mpad * s.ldc
	} else {
		s.srcOff = -1
		s.wideShared = s.srcLen + s.mpad*s.ldc
	}
	c.tmpWide = max(c.tmpWide, s.wideShared)
	return nil
}

// lowerFC lowers MatMul (activation x constant) and Gemm, absorbing a bias Add and a Relu.
func (c *compiler) lowerFC(op *irOp) error {
	x, err := act(op, 0)
	if err != nil {
		return err
	}
	w, err := cnst(op, 1, false)
	if err != nil {
		return err
	}
	if len(w.shape) != 2 {
		return fmt.Errorf("weights must be 2-D, got %v", w.shape)
	}
	k, n := w.shape[0], w.shape[1]
	wf := w.f
	alpha := float32(1)
	var bias []float32
	if op.typ == "Gemm" {
		if ta, _ := attrInt(op, "transA", 0); ta != 0 {
			return errors.New("transA=1 is not supported")
		}
		if len(x.shape) != 1 {
			return fmt.Errorf("input must be 2-D, per-sample shape is %v", x.shape)
		}
		if tb, _ := attrInt(op, "transB", 0); tb != 0 {
			k, n = n, k
			wf = make([]float32, len(w.f))
			for i := 0; i < n; i++ {
				for j := 0; j < k; j++ {
					wf[j*n+i] = w.f[i*k+j]
				}
			}
		}
		alpha = attrFloat(op, "alpha", 1)
		beta := attrFloat(op, "beta", 1)
		cb, err := cnst(op, 2, true)
		if err != nil {
			return err
		}
		if cb != nil {
			e, err := expandPerSample(cb, []int{n})
			if err != nil {
				return fmt.Errorf("C: %w", err)
			}
			bias = make([]float32, n)
			for i := range e {
				bias[i] = beta * e[i]
			}
		}
	}
	if len(x.shape) == 0 || x.shape[len(x.shape)-1] != k {
		return fmt.Errorf("input %v does not match weights %dx%d", x.shape, k, n)
	}
	rows := prod(x.shape[:len(x.shape)-1])
	outShape := append(append([]int(nil), x.shape[:len(x.shape)-1]...), n)
	s := &fcStep{kr: c.kr, in: x.b, k: k, n: n, rowsPerSample: rows}
	desc := []string{fmt.Sprintf("%s %s x %dx%d", op.typ, dims(x.shape), k, n)}
	if bias != nil {
		desc = append(desc, "+bias")
	}
	out := op.out
	c.newAct(out, outShape)
	for {
		next := c.singleConsumer(out)
		if next == nil {
			break
		}
		absorbed := true
		switch {
		case (next.typ == "Add" || next.typ == "Sub") && s.flags&flagRelu == 0:
			kc := otherConst(next, out)
			if kc == nil || (next.typ == "Sub" && next.in[0] != out) {
				absorbed = false
				break
			}
			e, err := expandPerSample(kc, out.shape)
			if err != nil {
				return fmt.Errorf("%s after %s: %w", next.typ, op.typ, err)
			}
			// The bias is per column; it must repeat across the rows of one sample.
			if bias == nil {
				bias = make([]float32, n)
			}
			for r := 0; r < rows; r++ {
				for j := 0; j < n; j++ {
					v := e[r*n+j]
					if next.typ == "Sub" {
						v = -v
					}
					if r == 0 {
						bias[j] += v
					} else if e[r*n+j] != e[j] {
						return fmt.Errorf("%s after %s: bias varies across rows", next.typ, op.typ)
					}
				}
			}
			desc = append(desc, "+bias")
		case next.typ == "Relu":
			s.flags |= flagRelu
			desc = append(desc, "+relu")
		default:
			absorbed = false
		}
		if !absorbed {
			break
		}
		next.done = true
		c.newAct(next.out, out.shape)
		out = next.out
	}
	s.out = out.b
	c.planFC(s, wf, alpha, bias)
	c.addStep(s, strings.Join(desc, " ")+" -> "+dims(out.shape)+" ["+c.kr.name+"]")
	return nil
}

// planFC packs the weights into column panels of nr floats: panel t holds W[0..k)[t*nr..t*nr+nr) contiguously,
// so the kernel streams each panel with off[k] = k*nr.
func (c *compiler) planFC(s *fcStep, wf []float32, alpha float32, bias []float32) {
	nr := c.kr.nr
	s.nt = (s.n + nr - 1) / nr
	s.ntFull = s.n / nr
	panels := make([]float32, s.nt*s.k*nr)
	for t := 0; t < s.nt; t++ {
		for kk := 0; kk < s.k; kk++ {
			for j := 0; j < nr && t*nr+j < s.n; j++ {
				panels[(t*s.k+kk)*nr+j] = alpha * wf[kk*s.n+t*nr+j]
			}
		}
	}
	s.wdata = panels
	s.off = make([]int32, s.k)
	for kk := range s.off {
		s.off[kk] = int32(kk * nr * 4)
	}
	s.offMax = (s.k - 1) * nr
	if bias != nil {
		s.bias = make([]float32, s.nt*nr)
		copy(s.bias, bias)
		s.flags |= flagColBias
	}
	if s.ntFull < s.nt {
		s.tileOff = c.tmpSize
		c.tmpSize += c.kr.mr * nr
	}
}

// lowerBinary lowers Add/Sub/Mul/Div between an activation and a broadcast constant, or Add/Sub/Mul between
// two activations of the same shape.
func (c *compiler) lowerBinary(op *irOp) error {
	if len(op.in) != 2 || op.in[0] == nil || op.in[1] == nil {
		return errors.New("needs two inputs")
	}
	a, b := op.in[0], op.in[1]
	if !a.isConst() && !b.isConst() {
		if !equalInts(a.shape, b.shape) {
			return fmt.Errorf("broadcasting between two computed tensors (%v, %v) is not supported", a.shape, b.shape)
		}
		if op.typ == "Div" {
			return errors.New("division of two computed tensors is not supported")
		}
		c.newAct(op.out, a.shape)
		c.addStep(&binaryStep{a: a.b, b: b.b, out: op.out.b, op: op.typ}, op.typ+" "+dims(a.shape)+" (two inputs)")
		return nil
	}
	x, k, constFirst := a, b.c, false
	if a.isConst() {
		x, k, constFirst = b, a.c, true
	}
	e, err := expandPerSample(k, x.shape)
	if err != nil {
		return err
	}
	c.newAct(op.out, x.shape)
	c.addStep(&constBinaryStep{in: x.b, out: op.out.b, k: e, op: op.typ, constFirst: constFirst},
		fmt.Sprintf("%s %s with constant %s", op.typ, dims(x.shape), dims(k.shape)))
	return nil
}

func (c *compiler) lowerSoftmax(op *irOp) error {
	x, err := act(op, 0)
	if err != nil {
		return err
	}
	r := len(x.shape) + 1 // rank including batch
	def := int64(1)
	if c.g.Opset >= 13 {
		def = -1
	}
	axis, _ := attrInt(op, "axis", def)
	if axis < 0 {
		axis += int64(r)
	}
	if axis < 1 || axis >= int64(r) {
		return fmt.Errorf("axis %d is not supported (it must not be the batch axis)", axis)
	}
	var inner int
	switch {
	case c.g.Opset < 13:
		inner = prod(x.shape[axis-1:]) // coerced to 2-D at axis
	case axis == int64(r-1):
		inner = x.shape[len(x.shape)-1]
	default:
		return fmt.Errorf("axis %d is not supported (only the last axis)", axis)
	}
	c.newAct(op.out, x.shape)
	c.addStep(&softmaxStep{in: x.b, out: op.out.b, inner: inner}, "Softmax "+dims(x.shape))
	return nil
}

// batchNormAffine returns the per-channel scale and shift of an inference-mode BatchNormalization.
func batchNormAffine(op *irOp, channels int) (scale, shift []float32, err error) {
	if len(op.in) < 5 {
		return nil, nil, errors.New("needs 5 inputs")
	}
	var p [4]*constant
	for i := range p {
		if p[i], err = cnst(op, i+1, false); err != nil {
			return nil, nil, err
		}
		if p[i].size() != channels {
			return nil, nil, fmt.Errorf("parameter %d has %d values for %d channels", i+1, p[i].size(), channels)
		}
	}
	if tm, _ := attrInt(op, "training_mode", 0); tm != 0 {
		return nil, nil, errors.New("training_mode=1 is not supported")
	}
	eps := float64(attrFloat(op, "epsilon", 1e-5))
	scale = make([]float32, channels)
	shift = make([]float32, channels)
	for i := range scale {
		sc := float64(p[0].f[i]) / math.Sqrt(float64(p[3].f[i])+eps)
		scale[i] = float32(sc)
		shift[i] = float32(float64(p[1].f[i]) - float64(p[2].f[i])*sc)
	}
	return scale, shift, nil
}

// geometry is the resolved 2-D window arithmetic of a Conv or pool.
type geometry struct {
	stride, dil, out [2]int
	pad              [4]int // top, left, bottom, right
}

// spatial resolves strides, dilations, pads/auto_pad and output size per ONNX rules.
func spatial(op *irOp, in, k [2]int, pool bool) (geometry, error) {
	var g geometry
	g.stride, g.dil = [2]int{1, 1}, [2]int{1, 1}
	if s, ok := attrInts(op, "strides"); ok {
		if len(s) != 2 || s[0] < 1 || s[1] < 1 || s[0] > 64 || s[1] > 64 {
			return g, fmt.Errorf("bad strides %v", s)
		}
		g.stride = [2]int{int(s[0]), int(s[1])}
	}
	if d, ok := attrInts(op, "dilations"); ok {
		if len(d) != 2 || d[0] < 1 || d[1] < 1 || d[0] > 64 || d[1] > 64 {
			return g, fmt.Errorf("bad dilations %v", d)
		}
		g.dil = [2]int{int(d[0]), int(d[1])}
	}
	ceil := false
	if pool {
		cm, _ := attrInt(op, "ceil_mode", 0)
		ceil = cm != 0
	}
	autoPad := attrString(op, "auto_pad", "NOTSET")
	if p, ok := attrInts(op, "pads"); ok && autoPad == "NOTSET" {
		if len(p) != 4 {
			return g, fmt.Errorf("bad pads %v", p)
		}
		for i, v := range p {
			if v < 0 || v > 64 {
				return g, fmt.Errorf("bad pads %v", p)
			}
			g.pad[i] = int(v) // ONNX order: top, left, bottom, right
		}
	}
	for d := 0; d < 2; d++ {
		if k[d] < 1 || k[d] > 64 {
			return g, fmt.Errorf("bad kernel size %v", k)
		}
		ext := (k[d]-1)*g.dil[d] + 1
		switch autoPad {
		case "NOTSET", "VALID", "":
			if autoPad == "VALID" {
				g.pad[d], g.pad[d+2] = 0, 0
			}
			span := in[d] + g.pad[d] + g.pad[d+2] - ext
			if span < 0 {
				return g, fmt.Errorf("window %v larger than padded input %v", k, in)
			}
			if ceil {
				g.out[d] = (span+g.stride[d]-1)/g.stride[d] + 1
				// The last window must start inside the input or left padding.
				if (g.out[d]-1)*g.stride[d] >= in[d]+g.pad[d] {
					g.out[d]--
				}
			} else {
				g.out[d] = span/g.stride[d] + 1
			}
		case "SAME_UPPER", "SAME_LOWER":
			g.out[d] = (in[d] + g.stride[d] - 1) / g.stride[d]
			total := max(0, (g.out[d]-1)*g.stride[d]+ext-in[d])
			small, big := total/2, total-total/2
			if autoPad == "SAME_UPPER" {
				g.pad[d], g.pad[d+2] = small, big
			} else {
				g.pad[d], g.pad[d+2] = big, small
			}
		default:
			return g, fmt.Errorf("auto_pad %q is not supported", autoPad)
		}
	}
	return g, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
