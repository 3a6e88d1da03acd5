package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// value is one tensor of the graph during compilation: either a constant (full shape, data known) or an
// activation (per-sample shape; the batch dimension is implicit and always leading).
type value struct {
	name      string
	c         *constant // non-nil for constants
	shape     []int     // per-sample shape of an activation
	b         *buf      // storage of an activation
	consumers int       // activation ops reading this value
	producer  *irOp     // activation op producing this value, nil for the input
	// Quantised activations (see quant.go): q and ql describe a value stored as uint8 (b holds bytes); a value
	// with deq set is DequantizeLinear(deq) with parameters dq, computed lazily: int8 Conv/MatMul read deq's
	// bytes directly, anything else gets a dequantising step (materialize).
	q   *qparams
	ql  qlayout
	deq *value
	dq  qparams
}

func (v *value) isConst() bool { return v.c != nil }

// constant is constant tensor data. Integer tensors keep their exact values in ints (shapes for Reshape);
// every constant also has a float32 view.
type constant struct {
	shape []int
	f     []float32
	ints  []int64
	isInt bool
	dtype DataType // the type in the file
	q     *qconst  // set when the constant is DequantizeLinear of integer data
}

func (c *constant) size() int { return prod(c.shape) }

// irOp is one ONNX operation with activation inputs, in topological order.
type irOp struct {
	typ   string
	attrs map[string]any
	in    []*value // nil entries for absent optional inputs
	out   *value
	done  bool // already lowered (absorbed into a fused step)
}

// buf is where an activation lives: off is in per-sample floats inside the scratch arena (scaled by the batch size
// at run time, which keeps a layout computed once valid for every batch size); off < 0 is the caller's input.
type buf struct {
	size int
	off  int
	last int // index of the last step reading it (for arena reuse)
}

// compiler turns a graph into a plan.
type compiler struct {
	g       *Graph
	kr      *kernel
	values  map[string]*value
	ops     []*irOp
	steps   []step
	descs   []string
	tmpSize int // floats of per-sample scratch not shared between steps (zero borders live there)
	tmpWide int // floats of per-sample scratch shared between steps
	input   *value
	output  *value
	tap     *value // kept for RunTap (WithTap), nil without
}

// step is one lowered operation of the plan.
type step interface {
	run(s *scratch, n int)
	bufs() (in []*buf, out *buf)
}

func compile(g *Graph, kr *kernel, tap string) (*plan, error) {
	c := &compiler{g: g, kr: kr, values: map[string]*value{}}
	shape := g.InputShape
	c.input = &value{name: g.Input, shape: slices.Clone(shape), b: &buf{size: prod(shape), off: -1}}
	c.values[g.Input] = c.input
	if err := c.buildOps(); err != nil {
		return nil, err
	}
	out, err := c.value(g.Output)
	if err != nil {
		return nil, err
	}
	if out.isConst() {
		return nil, fmt.Errorf("graph output %q does not depend on the input", out.name)
	}
	c.output = out
	out.consumers++ // the final copy reads it
	if tap != "" {
		if c.tap, err = c.value(tap); err != nil {
			return nil, fmt.Errorf("tap: %w", err)
		}
		if c.tap.isConst() {
			return nil, fmt.Errorf("tap %q does not depend on the input", tap)
		}
		c.tap.consumers++ // the tap copy reads it, so no fusion swallows it
	}
	for _, op := range c.ops {
		if err := c.lower(op); err != nil {
			return nil, fmt.Errorf("%s (output %q): %w", op.typ, op.out.name, err)
		}
	}
	if c.output.q != nil {
		return nil, fmt.Errorf("graph output %q is quantised (%s): want float", c.output.name, c.output.q.typeName())
	}
	c.materialize(c.output)
	if c.tap != nil {
		if c.tap.q != nil {
			return nil, fmt.Errorf("tap %q is quantised (%s): tap its DequantizeLinear", c.tap.name, c.tap.q.typeName())
		}
		c.materialize(c.tap)
		if c.tap.b == nil {
			return nil, fmt.Errorf("tap %q is never computed", c.tap.name)
		}
	}
	return c.layout()
}

// value returns the compile-time view of a named value: computed earlier, or an initializer.
func (c *compiler) value(name string) (*value, error) {
	if v, ok := c.values[name]; ok {
		return v, nil
	}
	t, ok := c.g.Constants[name]
	if !ok || t == nil {
		return nil, fmt.Errorf("value %q has no producer and no initializer", name)
	}
	v := &value{name: name, c: constFromIR(t)}
	c.values[name] = v
	return v, nil
}

// buildOps walks the operations in topological order, folds the ones with only constant inputs and records the
// rest as activation ops.
func (c *compiler) buildOps() error {
	order, err := c.topoOrder()
	if err != nil {
		return err
	}
	for _, nd := range order {
		op := &irOp{typ: nd.Op, attrs: nd.Attrs}
		allConst := true
		for _, in := range nd.Inputs {
			if in == "" {
				op.in = append(op.in, nil)
				continue
			}
			v, err := c.value(in)
			if err != nil {
				return fmt.Errorf("%s: %w", op.typ, err)
			}
			op.in = append(op.in, v)
			if !v.isConst() {
				allConst = false
			}
		}
		op.out = &value{name: nd.Output}
		if allConst {
			k, err := foldConstant(op, c.g.Opset)
			if err != nil {
				return fmt.Errorf("%s (output %q): %w", op.typ, nd.Output, err)
			}
			op.out.c = k
		} else {
			op.out.producer = op
			for _, in := range op.in {
				if in != nil && !in.isConst() {
					in.consumers++
				}
			}
			c.ops = append(c.ops, op)
		}
		c.values[nd.Output] = op.out
	}
	return nil
}

// topoOrder orders the operations so every input is computed first (ONNX files should already be sorted; this
// also rejects cycles and values produced twice).
func (c *compiler) topoOrder() ([]*Node, error) {
	producer := make(map[string]*Node, len(c.g.Nodes))
	for _, nd := range c.g.Nodes {
		if _, dup := producer[nd.Output]; dup || nd.Output == c.g.Input {
			return nil, fmt.Errorf("operator %s: value %q is produced twice", nd.Op, nd.Output)
		}
		if _, isConst := c.g.Constants[nd.Output]; isConst {
			return nil, fmt.Errorf("operator %s: value %q is also an initializer", nd.Op, nd.Output)
		}
		producer[nd.Output] = nd
	}
	var order []*Node
	state := map[*Node]int{} // 1 visiting, 2 done
	var visit func(nd *Node, depth int) error
	visit = func(nd *Node, depth int) error {
		switch state[nd] {
		case 1:
			return fmt.Errorf("graph has a cycle through %s", nd.Op)
		case 2:
			return nil
		}
		if depth > 10000 {
			return errors.New("graph too deep")
		}
		state[nd] = 1
		for _, in := range nd.Inputs {
			if p := producer[in]; p != nil {
				if err := visit(p, depth+1); err != nil {
					return err
				}
			}
		}
		state[nd] = 2
		order = append(order, nd)
		return nil
	}
	for _, nd := range c.g.Nodes {
		if err := visit(nd, 0); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// singleConsumer returns the op that is the only reader of v, or nil when v has other readers (or is the
// graph output), in which case v must stay materialised.
func (c *compiler) singleConsumer(v *value) *irOp {
	if v.consumers != 1 || v == c.output {
		return nil
	}
	for _, op := range c.ops {
		if op.done {
			continue
		}
		for _, in := range op.in {
			if in == v {
				return op
			}
		}
	}
	return nil
}

// otherConst returns the constant operand of a binary op whose other operand is v.
func otherConst(op *irOp, v *value) *constant {
	if len(op.in) != 2 || op.in[0] == nil || op.in[1] == nil {
		return nil
	}
	if op.in[0] == v && op.in[1].isConst() {
		return op.in[1].c
	}
	if op.in[1] == v && op.in[0].isConst() {
		return op.in[0].c
	}
	return nil
}

// newAct gives an op's output an activation shape and a buffer.
func (c *compiler) newAct(v *value, shape []int) {
	v.shape = shape
	v.b = &buf{size: prod(shape)}
}

// alias makes v share src's storage (Reshape, Flatten, Identity, Dropout).
func (c *compiler) alias(v, src *value, shape []int) {
	v.shape = shape
	v.b = src.b
	c.descs = append(c.descs, fmt.Sprintf("(view) %s -> %s", dims(src.shape), dims(shape)))
}

func (c *compiler) addStep(s step, desc string) {
	c.steps = append(c.steps, s)
	c.descs = append(c.descs, desc)
}

// act returns the op's i-th input, which must be an activation.
func act(op *irOp, i int) (*value, error) {
	if i >= len(op.in) || op.in[i] == nil {
		return nil, fmt.Errorf("input %d missing", i)
	}
	if op.in[i].isConst() {
		return nil, fmt.Errorf("input %d must be computed from the graph input, not constant", i)
	}
	return op.in[i], nil
}

// cnst returns the op's i-th input, which must be constant (nil, nil when absent and optional).
func cnst(op *irOp, i int, optional bool) (*constant, error) {
	if i >= len(op.in) || op.in[i] == nil {
		if optional {
			return nil, nil
		}
		return nil, fmt.Errorf("input %d missing", i)
	}
	if !op.in[i].isConst() {
		return nil, fmt.Errorf("input %d (%q) must be a constant (initializer) in this runtime", i, op.in[i].name)
	}
	return op.in[i].c, nil
}

// layout assigns arena offsets (per-sample units) reusing buffers whose last reader has run.
func (c *compiler) layout() (*plan, error) {
	for i, s := range c.steps {
		ins, _ := s.bufs()
		for _, b := range ins {
			b.last = i
		}
	}
	outBuf := c.output.b
	outBuf.last = len(c.steps)
	if c.tap != nil {
		c.tap.b.last = len(c.steps)
	}
	type region struct{ off, size int }
	var free []region
	arena := 0
	placed := map[*buf]bool{}
	for i, s := range c.steps {
		_, out := s.bufs()
		if out.off >= 0 && !placed[out] {
			placed[out] = true
			best := -1
			for j, r := range free {
				if r.size >= out.size && (best < 0 || r.size < free[best].size) {
					best = j
				}
			}
			if best >= 0 {
				out.off = free[best].off
				if free[best].size > out.size {
					free[best] = region{free[best].off + out.size, free[best].size - out.size}
				} else {
					free = slices.Delete(free, best, best+1)
				}
			} else {
				out.off = arena
				arena += out.size
			}
		}
		ins, _ := s.bufs()
		for _, b := range ins {
			if b.last == i && b.off >= 0 && b != out {
				free = append(free, region{b.off, b.size})
				b.last = -1 // freed once even when read twice by one step
			}
		}
	}
	p := &plan{
		steps:      c.steps,
		descs:      c.descs,
		inShape:    c.input.shape,
		inSize:     c.input.b.size,
		outSize:    c.output.b.size,
		out:        outBuf,
		arena:      arena,
		tmp:        c.tmpSize + c.tmpWide,
		tmpPrivate: c.tmpSize,
		kernel:     c.kr.name,
	}
	if c.tap != nil {
		p.tap = c.tap.b
	}
	for _, s := range c.steps {
		switch cs := s.(type) {
		case *convStep:
			cs.wideBase = c.tmpSize
		case *qconvStep:
			cs.wideBase = c.tmpSize
		}
	}
	// Views after the Softmax (Identity, Reshape, ...) keep probabilities probabilities.
	for v := c.output; v.producer != nil && len(v.producer.in) > 0 && v.producer.in[0] != nil; v = v.producer.in[0] {
		if v.producer.typ == "Softmax" {
			p.probability = true
			break
		}
		if v.b != v.producer.in[0].b { // not a view: some other computation
			break
		}
	}
	if p.inSize <= 0 || p.outSize <= 0 {
		return nil, errors.New("empty input or output")
	}
	if p.inSize > maxSampleFloats || p.arena > maxSampleFloats || p.tmp > maxSampleFloats {
		return nil, fmt.Errorf("model too large for this runtime: %d input, %d activation, %d scratch floats per sample (limit %d)",
			p.inSize, p.arena, p.tmp, maxSampleFloats)
	}
	p.chunk = max(1, min(maxChunk, maxChunkFloats/max(1, p.arena)))
	return p, nil
}

// constFromIR converts a validated graph tensor into a constant (with its own copy of the data: lowering may
// rewrite constants in place, and a Graph can be compiled more than once).
func constFromIR(t *Tensor) *constant {
	c := &constant{shape: slices.Clone(t.Shape), dtype: t.DType}
	if t.DType.IsInt() {
		c.ints, c.isInt = slices.Clone(t.Int), true
		c.f = make([]float32, len(t.Int))
		for i, x := range t.Int {
			c.f[i] = float32(x)
		}
		return c
	}
	c.f = slices.Clone(t.Float)
	return c
}

// foldConstant evaluates an op whose inputs are all constants.
func foldConstant(op *irOp, opset int64) (*constant, error) {
	switch op.typ {
	case "Constant":
		t, ok := op.attrs["value"].(*Tensor)
		if !ok {
			return nil, errors.New("only the tensor form (attribute value) is supported")
		}
		return constFromIR(t), nil
	case "Identity", "Dropout":
		if len(op.in) == 0 || op.in[0] == nil {
			return nil, errors.New("input missing")
		}
		return op.in[0].c, nil
	case "Reshape", "Flatten":
		x, err := cnst(op, 0, false)
		if err != nil {
			return nil, err
		}
		var shape []int
		if op.typ == "Reshape" {
			shape, err = reshapeTarget(op, x.shape)
		} else {
			shape, err = flattenShape(op, x.shape)
		}
		if err != nil {
			return nil, err
		}
		out := *x
		out.shape = shape
		out.q = nil // the quantisation axis refers to the old shape; the float view stays right
		return &out, nil
	case "Transpose":
		x, err := cnst(op, 0, false)
		if err != nil {
			return nil, err
		}
		if len(x.shape) != 2 {
			return nil, fmt.Errorf("only 2-D constants can be transposed, got %v", x.shape)
		}
		perm, ok := attrInts(op, "perm")
		if ok && !(len(perm) == 2 && perm[0] == 1 && perm[1] == 0) {
			return nil, fmt.Errorf("unsupported perm %v", perm)
		}
		r, cols := x.shape[0], x.shape[1]
		out := &constant{shape: []int{cols, r}, f: make([]float32, len(x.f))}
		for i := 0; i < r; i++ {
			for j := 0; j < cols; j++ {
				out.f[j*r+i] = x.f[i*cols+j]
			}
		}
		return out, nil
	case "DequantizeLinear":
		return dequantizeConst(op, opset)
	case "Cast":
		return castConst(op)
	}
	return nil, fmt.Errorf("operator %s on constant inputs is not supported (constant folding)", op.typ)
}

// reshapeTarget resolves a Reshape's shape input against the input shape (0 copies, -1 infers).
func reshapeTarget(op *irOp, in []int) ([]int, error) {
	s, err := cnst(op, 1, false)
	if err != nil {
		return nil, err
	}
	if !s.isInt || len(s.shape) != 1 {
		return nil, errors.New("shape input must be a 1-D integer tensor")
	}
	if az, _ := attrInt(op, "allowzero", 0); az != 0 {
		return nil, errors.New("allowzero=1 is not supported")
	}
	out := make([]int, len(s.ints))
	infer := -1
	known := 1
	for i, d := range s.ints {
		switch {
		case d == 0:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dimension %d of %v", s.ints, i, in)
			}
			out[i] = in[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1", s.ints)
			}
			infer = i
			continue
		case d < 0 || d > math.MaxInt32:
			return nil, fmt.Errorf("bad dimension %d in shape %v", d, s.ints)
		default:
			out[i] = int(d)
		}
		known *= out[i]
		if known > MaxTensorElements {
			return nil, fmt.Errorf("shape %v too large", s.ints)
		}
	}
	total := prod(in)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", in, s.ints)
		}
		out[infer] = total / known
	}
	if prod(out) != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", in, total, s.ints)
	}
	return out, nil
}

func flattenShape(op *irOp, in []int) ([]int, error) {
	axis, _ := attrInt(op, "axis", 1)
	if axis < 0 {
		axis += int64(len(in))
	}
	if axis < 0 || axis > int64(len(in)) {
		return nil, fmt.Errorf("axis %d out of range for rank %d", axis, len(in))
	}
	return []int{prod(in[:axis]), prod(in[axis:])}, nil
}

// expandPerSample broadcasts a constant (full-rank view, leading batch dimension optional and 1) to one sample
// of an activation with per-sample shape ps, returning prod(ps) floats.
func expandPerSample(k *constant, ps []int) ([]float32, error) {
	cs := k.shape
	if len(cs) == len(ps)+1 {
		if cs[0] != 1 {
			return nil, fmt.Errorf("constant of shape %v would broadcast over the batch", cs)
		}
		cs = cs[1:]
	}
	if len(cs) > len(ps) {
		return nil, fmt.Errorf("constant of shape %v does not broadcast to per-sample shape %v", k.shape, ps)
	}
	full := make([]int, len(ps))
	for i := range full {
		full[i] = 1
	}
	copy(full[len(ps)-len(cs):], cs)
	for i, d := range full {
		if d != 1 && d != ps[i] {
			return nil, fmt.Errorf("constant of shape %v does not broadcast to per-sample shape %v", k.shape, ps)
		}
	}
	n := prod(ps)
	out := make([]float32, n)
	// Strides of the constant in the broadcast view (0 along broadcast dimensions).
	strides := make([]int, len(ps))
	s := 1
	for i := len(ps) - 1; i >= 0; i-- {
		if full[i] != 1 {
			strides[i] = s
		}
		s *= full[i]
	}
	idx := make([]int, len(ps))
	for i := range out {
		src := 0
		for d := range idx {
			src += idx[d] * strides[d]
		}
		out[i] = k.f[src]
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < ps[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

// perRow reports whether e (rows x cols) is constant along each row, and returns the per-row values.
func perRow(e []float32, rows, cols int) ([]float32, bool) {
	r := make([]float32, rows)
	for i := 0; i < rows; i++ {
		r[i] = e[i*cols]
		for _, x := range e[i*cols : (i+1)*cols] {
			if x != r[i] {
				return nil, false
			}
		}
	}
	return r, true
}

func attrInt(op *irOp, name string, def int64) (int64, bool) {
	v, ok := op.attrs[name].(int64)
	if !ok {
		return def, false
	}
	return v, true
}

func attrInts(op *irOp, name string) ([]int64, bool) {
	v, ok := op.attrs[name].([]int64)
	return v, ok
}

func attrFloat(op *irOp, name string, def float32) float32 {
	if v, ok := op.attrs[name].(float32); ok {
		return v
	}
	return def
}

func attrString(op *irOp, name, def string) string {
	if v, ok := op.attrs[name].(string); ok {
		return v
	}
	return def
}

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

func dims(s []int) string {
	out := ""
	for i, d := range s {
		if i > 0 {
			out += "x"
		}
		out += fmt.Sprint(d)
	}
	return out
}
