package model_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"digitpad/onnxpb"
	"google.golang.org/protobuf/proto"
)

// graphBuilder writes small ONNX models for tests with digitpad/onnxpb.
type graphBuilder struct {
	g     *onnxpb.GraphProto
	rng   *rand.Rand
	n     int
	opset int64
}

// newGraph starts a graph whose single input "x" has dims (-1 marks a symbolic batch dimension).
func newGraph(seed uint64, inDims ...int64) *graphBuilder {
	b := &graphBuilder{g: &onnxpb.GraphProto{Name: proto.String("test")}, rng: rand.New(rand.NewPCG(seed, 7)), opset: 13}
	b.g.Input = append(b.g.Input, valueInfo("x", inDims))
	return b
}

func valueInfo(name string, dims []int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}},
	}
}

func (b *graphBuilder) name(prefix string) string {
	b.n++
	return fmt.Sprintf("%s%d", prefix, b.n)
}

// weights adds a float initializer with values uniform in [-scale, scale].
func (b *graphBuilder) weights(scale float32, dims ...int64) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = (b.rng.Float32()*2 - 1) * scale
	}
	return b.floats(data, dims...)
}

func (b *graphBuilder) floats(data []float32, dims ...int64) string {
	name := b.name("w")
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{
		Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: data})
	return name
}

func (b *graphBuilder) ints(data ...int64) string {
	name := b.name("shape")
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{
		Name: proto.String(name), Dims: []int64{int64(len(data))}, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: data})
	return name
}

// op adds a node and returns its output name.
func (b *graphBuilder) op(typ string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	out := b.name(typ + "_out")
	b.g.Node = append(b.g.Node, &onnxpb.NodeProto{OpType: proto.String(typ), Name: proto.String(b.name(typ)), Input: inputs, Output: []string{out}, Attribute: attrs})
	return out
}

func intsAttr(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func floatAttr(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func stringAttr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// conv adds Conv(k x k, pad p) with bias; weights scaled like He initialisation so activations stay O(1).
func (b *graphBuilder) conv(x string, in, out, k, pad int64) string {
	scale := float32(1.7 / float64(in*k*k))
	w := b.weights(scale*2, out, in, k, k)
	bias := b.weights(0.1, out)
	return b.op("Conv", []string{x, w, bias}, intsAttr("kernel_shape", k, k), intsAttr("pads", pad, pad, pad, pad), intsAttr("strides", 1, 1))
}

func (b *graphBuilder) maxPool(x string, k int64) string {
	return b.op("MaxPool", []string{x}, intsAttr("kernel_shape", k, k), intsAttr("strides", k, k), intsAttr("pads", 0, 0, 0, 0))
}

// dense adds MatMul + Add (gorgonnx's Gemm is unreliable at batch 1).
func (b *graphBuilder) dense(x string, in, out int64) string {
	w := b.weights(float32(2/float64(in)), in, out)
	return b.op("Add", []string{b.op("MatMul", []string{x, w}), b.weights(0.1, out)})
}

// bytes finishes the model with output y of the given dims.
func (b *graphBuilder) bytes(tb testing.TB, y string, outDims ...int64) []byte {
	tb.Helper()
	b.g.Output = []*onnxpb.ValueInfoProto{valueInfo(y, outDims)}
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(7),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(b.opset)}},
		Graph:       b.g,
	}
	data, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// trainerShaped builds the architecture our trainer exports: conv c1 3x3, relu, pool 2, conv c2 3x3, relu,
// pool 2, flatten (Reshape), dense fc + relu, dense 10, softmax. batch < 0 makes the batch symbolic.
func trainerShaped(tb testing.TB, seed uint64, batch, c1, c2, fc int64) []byte {
	b := newGraph(seed, batch, 1, 28, 28)
	x := b.maxPool(b.op("Relu", []string{b.conv("x", 1, c1, 3, 1)}), 2)
	x = b.maxPool(b.op("Relu", []string{b.conv(x, c1, c2, 3, 1)}), 2)
	x = b.op("Reshape", []string{x, b.ints(max(batch, 1), c2*7*7)})
	if batch < 0 {
		b.g.Node[len(b.g.Node)-1].Input[1] = b.ints(-1, c2*7*7)
	}
	x = b.op("Relu", []string{b.dense(x, c2*7*7, fc)})
	y := b.op("Softmax", []string{b.dense(x, fc, 10)}, intAttr("axis", 1))
	return b.bytes(tb, y, batch, 10)
}

// digitLike returns n deterministic inputs in [0, 1] with some structure (a blob on a noisy background).
func digitLike(seed uint64, n, size int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	in := make([]float32, n*size)
	for i := range in {
		in[i] = rng.Float32() * 0.2
		if p := i % size; p%28 > 8 && p%28 < 20 && (p/28)%28 > 6 && (p/28)%28 < 22 {
			in[i] += 0.8 * rng.Float32()
		}
	}
	return in
}
