package model_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"digitpad/onnxpb"
	"digitpad/quantize"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"google.golang.org/protobuf/proto"
)

// int8Shaped quantises a trainer-shaped model (see trainerShaped) with quantize.Int8, calibrated on synthetic
// digit-like inputs.
func int8Shaped(tb testing.TB, seed uint64, c1, c2, fc int64) []byte {
	tb.Helper()
	const n = 64
	b, _, err := quantize.Int8(trainerShaped(tb, seed, -1, c1, c2, fc), digitLike(seed+100, n, 784), n)
	if err != nil {
		tb.Fatalf("quantize.Int8: %v", err)
	}
	return b
}

// withFloatPath inserts Mul-by-1 after every activation DequantizeLinear. The graph computes the same values,
// but the runtime can no longer hand uint8 activations to int8 kernels, so it runs the float path with explicit
// quantise/dequantise steps: the reference for the int8 lowering.
func withFloatPath(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	g := m.Graph
	inits := map[string]bool{}
	for _, t := range g.Initializer {
		inits[t.GetName()] = true
	}
	one := "test_one"
	g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: proto.String(one), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: []float32{1}})
	var nodes []*onnxpb.NodeProto
	for _, n := range g.Node {
		nodes = append(nodes, n)
		if n.GetOpType() != "DequantizeLinear" || inits[n.Input[0]] {
			continue
		}
		out := n.Output[0]
		n.Output[0] = out + "_pre"
		nodes = append(nodes, &onnxpb.NodeProto{OpType: proto.String("Mul"), Name: proto.String(out + "_mul"),
			Input: []string{out + "_pre", one}, Output: []string{out}})
	}
	g.Node = nodes
	data, err := proto.Marshal(&m)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestInt8_LowersQDQToInt8Steps(t *testing.T) {
	m := mustLoad(t, int8Shaped(t, 1, 8, 16, 32))
	ops := m.Ops()
	want := []string{
		"QuantizeLinear 1x28x28 -> uint8",
		"Conv(int8) 1x28x28 -> 8x28x28 k3x3 s1 +bias +relu +maxpool2x2/2 +quantize uint8 -> 8x14x14",
		"Conv(int8) 8x14x14 -> 16x14x14 k3x3 s1 +bias +relu +maxpool2x2/2 +quantize uint8 -> 16x7x7",
		"(view) 16x7x7 -> 784",
		"MatMul(int8) 784 x 784x32 +bias +relu +quantize uint8 -> 32",
		"MatMul(int8) 32 x 32x10 +bias -> 10",
		"Softmax 10",
	}
	if len(ops) != len(want) {
		t.Fatalf("Ops = %q, want %d steps", ops, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(ops[i], want[i]) {
			t.Errorf("Ops[%d] = %q, want prefix %q", i, ops[i], want[i])
		}
	}
	if !m.OutputIsProbability() {
		t.Error("OutputIsProbability = false, want true (float Softmax at the end)")
	}
}

// The int8 kernels compute what the QDQ graph means: the same outputs as the float path through explicit
// quantise/dequantise steps, except where a requantised value lands on a rounding tie.
func TestInt8_MatchesFloatPathOfSameGraph(t *testing.T) {
	for _, shape := range [][3]int64{{8, 16, 32}, {16, 32, 40}, {4, 6, 10}} {
		q := int8Shaped(t, 7, shape[0], shape[1], shape[2])
		ref := mustLoad(t, withFloatPath(t, q))
		if strings.Contains(strings.Join(ref.Ops(), "\n"), "(int8)") {
			t.Fatalf("reference still runs int8 steps: %q", ref.Ops())
		}
		for _, kernel := range model.Kernels() {
			t.Run(fmt.Sprintf("%v/%s", shape, kernel), func(t *testing.T) {
				m := mustLoad(t, q, model.WithKernel(kernel))
				const n = 20
				in := digitLike(3, n, 784)
				got, want := make([]float32, n*10), make([]float32, n*10)
				if err := m.Run(in, n, got); err != nil {
					t.Fatal(err)
				}
				if err := ref.Run(in, n, want); err != nil {
					t.Fatal(err)
				}
				if err := closeTo(got, want, 0.02); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

func TestInt8_StaysCloseToFloatModel(t *testing.T) {
	f := mustLoad(t, trainerShaped(t, 2, -1, 16, 32, 40))
	q := mustLoad(t, int8Shaped(t, 2, 16, 32, 40))
	const n = 64
	in := digitLike(11, n, 784)
	got, want := make([]float32, n*10), make([]float32, n*10)
	if err := q.Run(in, n, got); err != nil {
		t.Fatal(err)
	}
	if err := f.Run(in, n, want); err != nil {
		t.Fatal(err)
	}
	if err := closeTo(got, want, 0.03); err != nil {
		t.Errorf("int8 probabilities differ from float beyond quantisation error: %v", err)
	}
}

func TestFP16_LoadsHalfWeightsAsFloat(t *testing.T) {
	src := trainerShaped(t, 3, -1, 8, 16, 32)
	half, err := quantize.FP16(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(half) > len(src)*6/10 {
		t.Errorf("fp16 file is %d bytes, fp32 %d: want about half", len(half), len(src))
	}
	f, h := mustLoad(t, src), mustLoad(t, half)
	const n = 8
	in := digitLike(5, n, 784)
	got, want := make([]float32, n*10), make([]float32, n*10)
	if err := h.Run(in, n, got); err != nil {
		t.Fatal(err)
	}
	if err := f.Run(in, n, want); err != nil {
		t.Fatal(err)
	}
	if err := closeTo(got, want, 2e-3); err != nil {
		t.Error(err)
	}
}

// qdqGraph is a minimal quantised model: x -> QuantizeLinear -> DequantizeLinear -> MatMul(DequantizeLinear(W))
// with the pieces a test wants to corrupt given as initializers.
type qdqGraph struct {
	wData              []int32 // int8 values (as int32_data)
	wType              onnxpb.TensorProto_DataType
	wScale             []float32
	wScaleDims         []int64
	wZP                *onnxpb.TensorProto // nil: absent
	xScale             []float32
	xZPType, xDQZPType onnxpb.TensorProto_DataType
	wRaw               []byte
}

func validQDQ() qdqGraph {
	return qdqGraph{
		wData: []int32{1, -2, 3, -4, 5, -6, 7, -8}, wType: onnxpb.TensorProto_INT8,
		wScale: []float32{0.1, 0.2}, wScaleDims: []int64{2},
		xScale: []float32{1.0 / 255}, xZPType: onnxpb.TensorProto_UINT8, xDQZPType: onnxpb.TensorProto_UINT8,
	}
}

func (q qdqGraph) bytes(tb testing.TB) []byte {
	b := newGraph(1, -1, 4)
	add := func(t *onnxpb.TensorProto) { b.g.Initializer = append(b.g.Initializer, t) }
	w := &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{4, 2}, DataType: proto.Int32(int32(q.wType)), Int32Data: q.wData, RawData: q.wRaw}
	add(w)
	add(&onnxpb.TensorProto{Name: proto.String("ws"), Dims: q.wScaleDims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: q.wScale})
	wIn := []string{"w", "ws"}
	if q.wZP != nil {
		add(q.wZP)
		wIn = append(wIn, q.wZP.GetName())
	}
	var xsDims []int64
	if len(q.xScale) > 1 {
		xsDims = []int64{int64(len(q.xScale))}
	}
	add(&onnxpb.TensorProto{Name: proto.String("xs"), Dims: xsDims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: q.xScale})
	xz := &onnxpb.TensorProto{Name: proto.String("xz"), DataType: proto.Int32(int32(q.xZPType)), Int32Data: []int32{0}}
	if q.xZPType == onnxpb.TensorProto_FLOAT {
		xz.Int32Data, xz.FloatData = nil, []float32{0}
	}
	add(xz)
	add(&onnxpb.TensorProto{Name: proto.String("xz2"), DataType: proto.Int32(int32(q.xDQZPType)), Int32Data: []int32{0}})
	wd := b.op("DequantizeLinear", wIn, intAttr("axis", 1))
	xq := b.op("QuantizeLinear", []string{"x", "xs", "xz"})
	xd := b.op("DequantizeLinear", []string{xq, "xs", "xz2"})
	y := b.op("MatMul", []string{xd, wd})
	return b.bytes(tb, y, -1, 2)
}

func TestInt8_SmallQDQGraphComputesExactly(t *testing.T) {
	for _, kernel := range model.Kernels() {
		m := mustLoad(t, validQDQ().bytes(t), model.WithKernel(kernel))
		if !strings.Contains(strings.Join(m.Ops(), "\n"), "MatMul(int8)") {
			t.Fatalf("%s: Ops = %q, want an int8 MatMul", kernel, m.Ops())
		}
		in := []float32{1, 0.5, 0, 100.0 / 255, 2, -1, 0.2, 0.7} // two samples; 2 and -1 saturate
		got := make([]float32, 4)
		if err := m.Run(in, 2, got); err != nil {
			t.Fatal(err)
		}
		// ONNX QuantizeLinear: round half to even of x / scale in float32, saturated to 0..255.
		quant := func(x float32) float64 {
			return math.Max(0, math.Min(255, math.RoundToEven(float64(x/float32(1.0/255)))))
		}
		w := [4][2]float64{{1, -2}, {3, -4}, {5, -6}, {7, -8}}
		for s := 0; s < 2; s++ {
			for j := 0; j < 2; j++ {
				var acc float64
				for k := 0; k < 4; k++ {
					acc += quant(in[s*4+k]) * w[k][j]
				}
				want := acc / 255 * []float64{0.1, 0.2}[j]
				if d := math.Abs(float64(got[s*2+j]) - want); d > 1e-5 {
					t.Errorf("%s: out[%d][%d] = %v, want %v", kernel, s, j, got[s*2+j], want)
				}
			}
		}
	}
}

func TestLoad_RejectsBadQuantisationParameters(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		name   string
		modify func(q *qdqGraph)
		want   string
	}{
		{"weight scale of the wrong length", func(q *qdqGraph) { q.wScale, q.wScaleDims = []float32{0.1, 0.2, 0.3}, []int64{3} }, "scale has 3 values, want 1 or 2"},
		{"zero weight scale", func(q *qdqGraph) { q.wScale = []float32{0.1, 0} }, "scale[1] = 0: scales must be positive and finite"},
		{"negative weight scale", func(q *qdqGraph) { q.wScale = []float32{-0.1, 0.2} }, "scale[0] = -0.1"},
		{"NaN weight scale", func(q *qdqGraph) { q.wScale = []float32{nan, 0.2} }, "scale[0] = NaN"},
		{"infinite activation scale", func(q *qdqGraph) { q.xScale = []float32{float32(math.Inf(1))} }, "scales must be positive and finite"},
		{"zero activation scale", func(q *qdqGraph) { q.xScale = []float32{0} }, "scale[0] = 0"},
		{"per-axis activation scale", func(q *qdqGraph) { q.xScale = []float32{0.1, 0.1} }, "per-axis quantisation of activations is not supported"},
		{"weight zero point of another type", func(q *qdqGraph) {
			q.wZP = &onnxpb.TensorProto{Name: proto.String("wz"), Dims: []int64{2}, DataType: proto.Int32(int32(onnxpb.TensorProto_UINT8)), Int32Data: []int32{0, 0}}
		}, "zero point has type UINT8, want INT8 like x"},
		{"weight zero point of the wrong length", func(q *qdqGraph) {
			q.wZP = &onnxpb.TensorProto{Name: proto.String("wz"), Dims: []int64{3}, DataType: proto.Int32(int32(onnxpb.TensorProto_INT8)), Int32Data: []int32{0, 0, 0}}
		}, "zero point has shape [3], scale has shape [2]"},
		{"activation zero points of different types", func(q *qdqGraph) { q.xDQZPType = onnxpb.TensorProto_INT8 }, "zero point type int8 does not match the quantised input (uint8)"},
		{"float activation zero point", func(q *qdqGraph) { q.xZPType = onnxpb.TensorProto_FLOAT }, "zero point has type FLOAT, want uint8 or int8"},
		{"int8 value out of range", func(q *qdqGraph) { q.wData[3] = 300 }, "element 3 = 300 is out of range for INT8"},
		{"raw int8 data too short", func(q *qdqGraph) { q.wData, q.wRaw = nil, []byte{1, 2, 3} }, "dimensions [4 2] need 8 values, tensor has 3"},
		{"float weights", func(q *qdqGraph) { q.wType = onnxpb.TensorProto_FLOAT; q.wData = nil }, "need 8 values"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := validQDQ()
			q.wData = slices.Clone(q.wData)
			tc.modify(&q)
			m, err := onnxload.Load(q.bytes(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load error = %v (model %v), want it to contain %q", err, m != nil, tc.want)
			}
		})
	}
}

func TestInt8Kernel_NamesTheDefaultPlansKernel(t *testing.T) {
	m := mustLoad(t, int8Shaped(t, 1, 4, 8, 16))
	want := "[" + model.Int8Kernel() + "]"
	for _, op := range m.Ops() {
		if strings.Contains(op, "(int8)") && !strings.HasSuffix(op, want) {
			t.Errorf("op %q does not run on %s", op, want)
		}
	}
}
