package onnxload

import (
	"errors"
	"fmt"

	"digitpad/onnxpb"
	"digitpad/shared/model"
	"google.golang.org/protobuf/proto"
)

// Limits that keep a hostile or corrupt file from making onnx-go allocate without bound (an out-of-memory
// crash cannot be recovered like a panic): the runtime's own.
const (
	maxElements      = model.MaxTensorElements
	maxTotalElements = model.MaxTotalElements
)

// protoInfo is what digitpad reads from the ONNX protobuf itself, before onnx-go decodes the graph: onnx-go
// drops symbolic dimensions (so [N,1,28,28] and [1,28,28] look alike) and trusts every declared size.
type protoInfo struct {
	initializers map[string]bool
	// narrowed maps initializers and Constant outputs that the file stores as INT8, UINT8, INT16, UINT16 or
	// FLOAT16 (and Load widened for onnx-go, see widen) to their original data type.
	narrowed    map[string]onnxpb.TensorProto_DataType
	inputShapes map[string][]int // per-sample shapes (leading batch dimension removed) of the real inputs
	opset       int64
}

// inspect validates the parts of the file onnx-go would trust and returns what compile needs, with the bytes
// onnx-go should decode: data itself, or a re-marshalled copy with narrow tensors widened (see widen).
func inspect(data []byte) (*protoInfo, []byte, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("not an ONNX protobuf: %w", err)
	}
	info, err := inspectModel(&m)
	if err != nil {
		return nil, nil, err
	}
	widened, err := widen(&m, info)
	if err != nil {
		return nil, nil, err
	}
	if !widened {
		return info, data, nil
	}
	out, err := proto.Marshal(&m)
	if err != nil {
		return nil, nil, fmt.Errorf("re-encoding widened model: %w", err)
	}
	return info, out, nil
}

func inspectModel(m *onnxpb.ModelProto) (*protoInfo, error) {
	g := m.GetGraph()
	if g == nil || len(g.GetNode()) == 0 {
		return nil, errors.New("model has no graph")
	}
	info := &protoInfo{initializers: map[string]bool{}, inputShapes: map[string][]int{}, opset: 1,
		narrowed: map[string]onnxpb.TensorProto_DataType{}}
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			info.opset = o.GetVersion()
		}
	}
	total := 0
	for _, t := range g.GetInitializer() {
		n, err := checkTensor(t)
		if err != nil {
			return nil, fmt.Errorf("initializer %q: %w", t.GetName(), err)
		}
		total += n
		if total > maxTotalElements {
			return nil, errors.New("initializers too large")
		}
		info.initializers[t.GetName()] = true
	}
	for _, n := range g.GetNode() {
		if n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
			return nil, fmt.Errorf("operator %s of domain %q is not supported", n.GetOpType(), n.GetDomain())
		}
		for _, a := range n.GetAttribute() {
			if a.GetType() == onnxpb.AttributeProto_TENSOR || a.GetT() != nil {
				if _, err := checkTensor(a.GetT()); err != nil {
					return nil, fmt.Errorf("operator %s attribute %s: %w", n.GetOpType(), a.GetName(), err)
				}
			}
		}
	}
	values := append(append(append([]*onnxpb.ValueInfoProto(nil), g.GetInput()...), g.GetOutput()...), g.GetValueInfo()...)
	for _, v := range values {
		if _, err := valueDims(v); err != nil {
			return nil, fmt.Errorf("value %q: %w", v.GetName(), err)
		}
	}
	for _, v := range g.GetInput() {
		if info.initializers[v.GetName()] {
			continue
		}
		d, _ := valueDims(v)
		if len(d) < 2 {
			return nil, fmt.Errorf("input %q has shape %v: want a leading batch dimension", v.GetName(), d)
		}
		if d[0] > 1 {
			return nil, fmt.Errorf("input %q has a fixed batch size of %d: want 1 or symbolic", v.GetName(), d[0])
		}
		for _, x := range d[1:] {
			if x <= 0 {
				return nil, fmt.Errorf("input %q has shape %v: only the batch dimension may be symbolic", v.GetName(), d)
			}
		}
		info.inputShapes[v.GetName()] = d[1:]
	}
	return info, nil
}

// valueDims returns a value's declared dimensions, -1 for symbolic ones.
func valueDims(v *onnxpb.ValueInfoProto) ([]int, error) {
	shape := v.GetType().GetTensorType().GetShape()
	var d []int
	known := 1
	for _, dim := range shape.GetDim() {
		if _, ok := dim.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); !ok {
			d = append(d, -1)
			continue
		}
		x := dim.GetDimValue()
		if x <= 0 || x > maxElements {
			return nil, fmt.Errorf("bad dimension %d", x)
		}
		known *= int(x)
		if known > maxElements {
			return nil, errors.New("tensor too large")
		}
		d = append(d, int(x))
	}
	return d, nil
}

// checkTensor checks that a tensor's data matches its dimensions and type, returning its element count.
func checkTensor(t *onnxpb.TensorProto) (int, error) {
	if t == nil {
		return 0, errors.New("missing tensor")
	}
	if t.GetSegment() != nil || t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return 0, errors.New("segmented or external tensor data is not supported")
	}
	n := 1
	for _, d := range t.GetDims() {
		if d < 0 || d > maxElements {
			return 0, fmt.Errorf("bad dimension %d", d)
		}
		n *= int(d)
		if n > maxElements {
			return 0, errors.New("tensor too large")
		}
	}
	var size, have int
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_FLOAT:
		size, have = 4, len(t.GetFloatData())
	case onnxpb.TensorProto_DOUBLE:
		size, have = 8, len(t.GetDoubleData())
	case onnxpb.TensorProto_INT64:
		size, have = 8, len(t.GetInt64Data())
	case onnxpb.TensorProto_INT32:
		size, have = 4, len(t.GetInt32Data())
	case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8:
		size, have = 1, len(t.GetInt32Data())
	case onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16, onnxpb.TensorProto_FLOAT16:
		size, have = 2, len(t.GetInt32Data())
	default:
		return 0, fmt.Errorf("data type %v is not supported (float, float16, double, int8, uint8, int16, uint16, int32, int64 only)",
			onnxpb.TensorProto_DataType(t.GetDataType()))
	}
	if raw := t.GetRawData(); raw != nil {
		if have != 0 || len(raw)%size != 0 {
			return 0, errors.New("raw data of the wrong length")
		}
		have = len(raw) / size
	}
	if have != n {
		return 0, fmt.Errorf("dimensions %v need %d values, tensor has %d", t.GetDims(), n, have)
	}
	return n, nil
}
