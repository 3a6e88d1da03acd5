package quantize

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"digitpad/onnxpb"
	"google.golang.org/protobuf/proto"
)

// graph indexes a model for rewriting.
type graph struct {
	m     *onnxpb.ModelProto
	g     *onnxpb.GraphProto
	inits map[string]*onnxpb.TensorProto
	n     int // counter for fresh names
}

func parse(src []byte) (*graph, error) {
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(src, m); err != nil {
		return nil, fmt.Errorf("not an ONNX model: %w", err)
	}
	if m.GetGraph() == nil || len(m.GetGraph().GetNode()) == 0 {
		return nil, errors.New("model has no graph")
	}
	gr := &graph{m: m, g: m.Graph, inits: map[string]*onnxpb.TensorProto{}}
	for _, t := range m.Graph.Initializer {
		gr.inits[t.GetName()] = t
	}
	return gr, nil
}

func (gr *graph) bytes() ([]byte, error) {
	b, err := proto.Marshal(gr.m)
	if err != nil {
		return nil, fmt.Errorf("encoding ONNX: %w", err)
	}
	return b, nil
}

func (gr *graph) fresh(base string) string {
	for {
		gr.n++
		name := fmt.Sprintf("%s_%d", base, gr.n)
		if _, ok := gr.inits[name]; !ok && !gr.valueExists(name) {
			return name
		}
	}
}

func (gr *graph) valueExists(name string) bool {
	for _, n := range gr.g.Node {
		if slices.Contains(n.Output, name) {
			return true
		}
	}
	return false
}

func (gr *graph) opset() int64 {
	v := int64(1)
	for _, o := range gr.m.OpsetImport {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			v = o.GetVersion()
		}
	}
	return v
}

// requireOpset raises the default-domain opset to at least v. Only used on graphs whose operators mean the same
// in both versions (checked by the callers' operator allow-list).
func (gr *graph) requireOpset(v int64) {
	for _, o := range gr.m.OpsetImport {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			if o.GetVersion() < v {
				o.Version = proto.Int64(v)
			}
			return
		}
	}
	gr.m.OpsetImport = append(gr.m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String(""), Version: proto.Int64(v)})
}

func (gr *graph) addInit(t *onnxpb.TensorProto) {
	gr.g.Initializer = append(gr.g.Initializer, t)
	gr.inits[t.GetName()] = t
}

func (gr *graph) removeInit(name string) {
	gr.g.Initializer = slices.DeleteFunc(gr.g.Initializer, func(t *onnxpb.TensorProto) bool { return t.GetName() == name })
	delete(gr.inits, name)
	// Old exporters also list initializers as graph inputs.
	gr.g.Input = slices.DeleteFunc(gr.g.Input, func(v *onnxpb.ValueInfoProto) bool { return v.GetName() == name })
}

// producer returns the node producing name and its index, or nil.
func (gr *graph) producer(name string) (*onnxpb.NodeProto, int) {
	for i, n := range gr.g.Node {
		if slices.Contains(n.Output, name) {
			return n, i
		}
	}
	return nil, -1
}

// rename makes every node input reading from read `to` instead, except in the nodes listed in skip.
func (gr *graph) rename(from, to string, skip ...*onnxpb.NodeProto) {
	for _, n := range gr.g.Node {
		if slices.Contains(skip, n) {
			continue
		}
		for i, in := range n.Input {
			if in == from {
				n.Input[i] = to
			}
		}
	}
}

// insertAt inserts nodes at position i of the node list.
func (gr *graph) insertAt(i int, nodes ...*onnxpb.NodeProto) {
	gr.g.Node = slices.Insert(gr.g.Node, i, nodes...)
}

func node(op string, name string, inputs []string, outputs []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: inputs, Output: outputs, Attribute: attrs}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// floats returns a float initializer's values.
func floats(t *onnxpb.TensorProto) ([]float32, error) {
	if onnxpb.TensorProto_DataType(t.GetDataType()) != onnxpb.TensorProto_FLOAT {
		return nil, fmt.Errorf("initializer %q is %v, want float", t.GetName(), onnxpb.TensorProto_DataType(t.GetDataType()))
	}
	if raw := t.GetRawData(); raw != nil {
		if len(raw)%4 != 0 {
			return nil, fmt.Errorf("initializer %q: raw data of the wrong length", t.GetName())
		}
		out := make([]float32, len(raw)/4)
		for i := range out {
			out[i] = math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
		}
		return out, nil
	}
	return slices.Clone(t.GetFloatData()), nil
}

func int64s(t *onnxpb.TensorProto) ([]int64, bool) {
	if onnxpb.TensorProto_DataType(t.GetDataType()) != onnxpb.TensorProto_INT64 {
		return nil, false
	}
	if raw := t.GetRawData(); raw != nil {
		out := make([]int64, len(raw)/8)
		for i := range out {
			var v uint64
			for b := 0; b < 8; b++ {
				v |= uint64(raw[8*i+b]) << (8 * b)
			}
			out[i] = int64(v)
		}
		return out, true
	}
	return t.GetInt64Data(), true
}

func floatTensor(name string, dims []int64, data []float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: data}
}

// foldWeightReshapes replaces Reshape(initializer, constant shape) by a reshaped initializer, so weights feed
// their Conv/MatMul directly (the ONNX zoo MNIST model reshapes its dense weights at run time).
func (gr *graph) foldWeightReshapes() {
	for i := 0; i < len(gr.g.Node); i++ {
		n := gr.g.Node[i]
		if n.GetOpType() != "Reshape" || len(n.Input) != 2 || len(n.Output) != 1 {
			continue
		}
		w, ok1 := gr.inits[n.Input[0]]
		s, ok2 := gr.inits[n.Input[1]]
		if !ok1 || !ok2 || onnxpb.TensorProto_DataType(w.GetDataType()) != onnxpb.TensorProto_FLOAT {
			continue
		}
		shape, ok := int64s(s)
		if !ok {
			continue
		}
		data, err := floats(w)
		if err != nil {
			continue
		}
		dims := slices.Clone(shape)
		known, infer := int64(1), -1
		for j, d := range dims {
			switch {
			case d == 0 && j < len(w.Dims):
				dims[j] = w.Dims[j]
			case d == -1:
				infer = j
				continue
			}
			known *= dims[j]
		}
		if infer >= 0 && known > 0 {
			dims[infer] = int64(len(data)) / known
		}
		total := int64(1)
		for _, d := range dims {
			total *= d
		}
		if total != int64(len(data)) {
			continue
		}
		gr.addInit(floatTensor(n.Output[0], dims, data))
		gr.g.Node = slices.Delete(gr.g.Node, i, i+1)
		i--
	}
	gr.dropUnusedInits()
}

func (gr *graph) dropUnusedInits() {
	used := map[string]bool{}
	for _, n := range gr.g.Node {
		for _, in := range n.Input {
			used[in] = true
		}
	}
	for _, o := range gr.g.Output {
		used[o.GetName()] = true
	}
	for name := range gr.inits {
		if !used[name] {
			gr.removeInit(name)
		}
	}
}

func (gr *graph) setMeta(key, value string) {
	for _, kv := range gr.m.MetadataProps {
		if kv.GetKey() == key {
			kv.Value = proto.String(value)
			return
		}
	}
	gr.m.MetadataProps = append(gr.m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(key), Value: proto.String(value)})
}

func (gr *graph) meta(key string) string {
	for _, kv := range gr.m.MetadataProps {
		if kv.GetKey() == key {
			return kv.GetValue()
		}
	}
	return ""
}
