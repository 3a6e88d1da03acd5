// Package onnxload decodes ONNX files with github.com/owulveryck/onnx-go into the model runtime's Graph.
//
// How a file gets decoded:
//
//   - inspect checks the protobuf with digitpad/onnxpb first (sizes, data types, symbolic batch dimension: onnx-go
//     drops symbolic dimensions and would allocate whatever a file declares) and widens int8, uint8, int16,
//     uint16 and float16 tensors, which onnx-go cannot read (see widen.go);
//
//   - onnx-go decodes the graph into backend, which only records values and operations;
//
//   - Decode turns the record into a model.Graph, narrowing widened tensors back to their types in the file, and
//     model.Compile builds the execution plan.
//
// Native programs (server, kiosk, CLI) load ONNX through Load. The browser's WebAssembly does not link onnx-go
// (with gorgonia.org/tensor it would be a 5 MB gzip download): it gets the same Graph, decoded by Decode at build
// or serve time, as a graph file (model.Graph.MarshalBinary).
package onnxload

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"digitpad/onnxpb"
	"digitpad/shared/model"
	"github.com/owulveryck/onnx-go"
	"gorgonia.org/tensor"
)

// Load decodes ONNX bytes and compiles them into a runnable model. Errors name the unsupported op or the problem
// in the file; Load never panics on bad bytes.
func Load(onnxBytes []byte, opts ...model.Option) (*model.Model, error) {
	g, err := Decode(onnxBytes)
	if err != nil {
		return nil, err
	}
	return model.Compile(g, opts...)
}

// GraphFile decodes ONNX bytes and encodes the graph as a graph file for clients without onnx-go.
func GraphFile(onnxBytes []byte) ([]byte, error) {
	g, err := Decode(onnxBytes)
	if err != nil {
		return nil, err
	}
	return g.MarshalBinary()
}

// Decode decodes ONNX bytes with onnx-go into a Graph whose SHA256 is the sha256 of onnxBytes.
func Decode(onnxBytes []byte) (*model.Graph, error) {
	if len(onnxBytes) == 0 {
		return nil, errors.New("model: empty ONNX file")
	}
	info, decodable, err := inspect(onnxBytes)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	b, om, err := decode(decodable)
	if err != nil {
		return nil, fmt.Errorf("model: decoding ONNX: %w", err)
	}
	if len(om.Input) != 1 || len(om.Output) != 1 {
		return nil, fmt.Errorf("model: want exactly one input and one output, graph has %d and %d", len(om.Input), len(om.Output))
	}
	g, err := toGraph(b, info, om.Input[0], om.Output[0])
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	sum := sha256.Sum256(onnxBytes)
	g.SHA256 = hex.EncodeToString(sum[:])
	return g, nil
}

// decode runs onnx-go's decoder, turning its panics on malformed graphs into errors.
func decode(data []byte) (b *backend, om *onnx.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed model: %v", r)
		}
	}()
	b = newBackend()
	om = onnx.NewModel(b)
	if err := om.UnmarshalBinary(data); err != nil {
		return nil, nil, err
	}
	return b, om, nil
}

// toGraph turns what onnx-go recorded into a Graph.
func toGraph(b *backend, info *protoInfo, inputID, outputID int64) (*model.Graph, error) {
	in, ok := b.Node(inputID).(*node)
	if !ok {
		return nil, errors.New("graph input node missing")
	}
	out, ok := b.Node(outputID).(*node)
	if !ok {
		return nil, errors.New("graph output node missing")
	}
	shape, ok := info.inputShapes[in.name]
	if !ok {
		return nil, fmt.Errorf("graph input %q has no tensor shape", in.name)
	}
	g := &model.Graph{Opset: info.opset, Input: name(in), Output: name(out), InputShape: shape,
		Constants: map[string]*model.Tensor{}}
	nodes := b.Nodes()
	for nodes.Next() {
		n := nodes.Node().(*node)
		if n.record != nil || !info.initializers[n.name] || n.t == nil {
			continue
		}
		t, err := fromTensor(n.t, info.narrowed[n.name])
		if err != nil {
			return nil, fmt.Errorf("initializer %q: %w", n.name, err)
		}
		g.Constants[n.name] = t
	}
	for _, rec := range b.ops {
		ins, err := b.inputs(rec)
		if err != nil {
			return nil, err
		}
		outName := name(rec.outputs[0])
		nd := &model.Node{Op: rec.op.Name, Output: outName, Attrs: map[string]any{}}
		if nd.Op != "Constant" { // onnx-go gives input-less nodes a fake input
			for _, in := range ins {
				if in == nil {
					nd.Inputs = append(nd.Inputs, "")
				} else {
					nd.Inputs = append(nd.Inputs, name(in))
				}
			}
		}
		for k, a := range rec.op.Attributes {
			switch a := a.(type) {
			case int64, []int64, float32, []float32, string:
				nd.Attrs[k] = a
			case tensor.Tensor:
				t, err := fromTensor(a, info.narrowed[outName])
				if err != nil {
					return nil, fmt.Errorf("%s attribute %s: %w", nd.Op, k, err)
				}
				nd.Attrs[k] = t
			}
			// Other attribute types (strings lists, graphs) belong to operators the runtime does not support; it
			// names those operators itself.
		}
		g.Nodes = append(g.Nodes, nd)
	}
	return g, nil
}

// name is a node's ONNX name, or a unique stand-in for an unnamed intermediate value.
func name(n *node) string {
	if n.name != "" {
		return n.name
	}
	return fmt.Sprintf("#%d", n.id)
}

// fromTensor converts onnx-go's tensor, narrowing a widened one back to orig (its type in the file).
func fromTensor(t tensor.Tensor, orig onnxpb.TensorProto_DataType) (*model.Tensor, error) {
	shape := []int(t.Shape())
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in %v", shape)
		}
	}
	out := &model.Tensor{Shape: slices.Clone(shape)}
	switch d := t.Data().(type) {
	case []float32:
		out.DType, out.Float = model.Float, slices.Clone(d)
	case []float64:
		out.DType, out.Float = model.Double, make([]float32, len(d))
		for i, x := range d {
			out.Float[i] = float32(x)
		}
	case []int64:
		out.DType, out.Int = model.Int64, slices.Clone(d)
	case []int32:
		out.DType, out.Int = model.Int32, make([]int64, len(d))
		for i, x := range d {
			out.Int[i] = int64(x)
		}
	case float32:
		out.DType, out.Float = model.Float, []float32{d}
	case float64:
		out.DType, out.Float = model.Double, []float32{float32(d)}
	case int64:
		out.DType, out.Int = model.Int64, []int64{d}
	case int32:
		out.DType, out.Int = model.Int32, []int64{int64(d)}
	default:
		return nil, fmt.Errorf("unsupported data type %v", t.Dtype())
	}
	if orig != 0 {
		out.DType = model.DataType(orig)
	}
	if n := out.Len(); len(out.Float)+len(out.Int) != n {
		return nil, fmt.Errorf("shape %v needs %d elements, tensor has %d", shape, n, len(out.Float)+len(out.Int))
	}
	return out, nil
}
