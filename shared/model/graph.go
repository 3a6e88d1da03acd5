package model

import (
	"errors"
	"fmt"
	"strconv"
)

// Limits that keep a hostile or corrupt file from making a loader allocate without bound (an out-of-memory crash
// cannot be recovered like a panic). Loaders (onnxload, UnmarshalGraph) check them before allocating.
const (
	MaxTensorElements = 1 << 26 // elements of one tensor
	MaxTotalElements  = 1 << 27 // elements of all constants of a graph
	maxSampleFloats   = 1 << 22 // input, activation or scratch floats per sample
	maxChunkFloats    = 1 << 23 // activation floats of one chunk of samples
	maxNodes          = 1 << 16 // operations of a graph
)

// DataType is a tensor element type, numbered as ONNX's TensorProto.DataType.
type DataType int32

// The element types constants may have in a graph (what an ONNX file stores, before any widening).
const (
	Float   DataType = 1
	Uint8   DataType = 2
	Int8    DataType = 3
	Uint16  DataType = 4
	Int16   DataType = 5
	Int32   DataType = 6
	Int64   DataType = 7
	Float16 DataType = 10
	Double  DataType = 11
)

var dataTypeNames = map[DataType]string{Float: "FLOAT", Uint8: "UINT8", Int8: "INT8", Uint16: "UINT16",
	Int16: "INT16", Int32: "INT32", Int64: "INT64", Float16: "FLOAT16", Double: "DOUBLE"}

// String is the ONNX name of the type ("FLOAT", "INT8", ...), or its number when it has none here.
func (d DataType) String() string {
	if s, ok := dataTypeNames[d]; ok {
		return s
	}
	return strconv.Itoa(int(d))
}

// IsInt reports whether the type holds integers (kept exactly in Tensor.Int).
func (d DataType) IsInt() bool {
	switch d {
	case Uint8, Int8, Uint16, Int16, Int32, Int64:
		return true
	}
	return false
}

// Graph is a digit classifier as the model runtime compiles it: one input, one output, constants and
// operations named as in the ONNX file it was decoded from. onnxload builds a Graph from ONNX bytes with
// github.com/owulveryck/onnx-go; MarshalBinary/UnmarshalGraph carry it to places that should not link onnx-go (the
// browser's WebAssembly, where onnx-go and gorgonia.org/tensor alone would be a 4+ MB gzip download).
type Graph struct {
	// SHA256 is the hex sha256 of the ONNX file the graph was decoded from: the model's identity everywhere
	// (feedback records, announcements), whichever form it travelled in.
	SHA256 string
	// Opset is the default-domain operator set version.
	Opset int64
	// Input and Output name the graph's single input and output values.
	Input, Output string
	// InputShape is the per-sample input shape without the (implicit, leading) batch dimension, e.g. [1 28 28].
	InputShape []int
	// Constants are initializers by name.
	Constants map[string]*Tensor
	// Nodes are the operations (any order; compile sorts them topologically).
	Nodes []*Node
}

// Node is one operation.
type Node struct {
	Op string
	// Inputs name the values the operation reads, in ONNX order; "" marks an absent optional input.
	Inputs []string
	// Output names the value it produces (further outputs, like Dropout's mask, are not supported).
	Output string
	// Attrs holds attributes of the types int64, []int64, float32, []float32, string and *Tensor.
	Attrs map[string]any
}

// Tensor is constant data: integer types keep exact values in Int, float types in Float.
type Tensor struct {
	Shape []int
	DType DataType
	Float []float32
	Int   []int64
}

// Len is the number of elements the shape describes.
func (t *Tensor) Len() int { return prod(t.Shape) }

// check validates t's shape against its data.
func (t *Tensor) check() error {
	n := 1
	for _, d := range t.Shape {
		if d < 0 || d > MaxTensorElements {
			return fmt.Errorf("bad dimension %d", d)
		}
		n *= d
		if n > MaxTensorElements {
			return errors.New("tensor too large")
		}
	}
	if _, ok := dataTypeNames[t.DType]; !ok {
		return fmt.Errorf("data type %v is not supported", t.DType)
	}
	have := len(t.Float)
	if t.DType.IsInt() {
		if t.Float != nil {
			return fmt.Errorf("%v tensor with float data", t.DType)
		}
		have = len(t.Int)
	} else if t.Int != nil {
		return fmt.Errorf("%v tensor with integer data", t.DType)
	}
	if have != n {
		return fmt.Errorf("shape %v needs %d elements, tensor has %d", t.Shape, n, have)
	}
	return nil
}

// Validate checks the parts of g compile relies on: names, sizes and attribute types. Compile calls it.
func (g *Graph) Validate() error {
	if g == nil || len(g.Nodes) == 0 {
		return errors.New("model has no graph")
	}
	if len(g.Nodes) > maxNodes {
		return fmt.Errorf("graph has %d operations, more than %d", len(g.Nodes), maxNodes)
	}
	if g.Input == "" || g.Output == "" {
		return errors.New("graph input or output unnamed")
	}
	if len(g.InputShape) == 0 {
		return fmt.Errorf("graph input %q has no per-sample shape", g.Input)
	}
	n := 1
	for _, d := range g.InputShape {
		if d <= 0 || d > maxSampleFloats {
			return fmt.Errorf("graph input %q has shape %v: only the batch dimension may be symbolic", g.Input, g.InputShape)
		}
		n *= d
		if n > maxSampleFloats {
			return fmt.Errorf("graph input %q of shape %v is too large", g.Input, g.InputShape)
		}
	}
	total := 0
	count := func(where string, t *Tensor) error {
		if t == nil {
			return fmt.Errorf("%s: missing tensor", where)
		}
		if err := t.check(); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		total += t.Len()
		if total > MaxTotalElements {
			return errors.New("constants too large")
		}
		return nil
	}
	for name, t := range g.Constants {
		if err := count(fmt.Sprintf("initializer %q", name), t); err != nil {
			return err
		}
	}
	for _, nd := range g.Nodes {
		if nd == nil || nd.Op == "" || nd.Output == "" {
			return errors.New("operation without type or output")
		}
		for k, a := range nd.Attrs {
			switch a := a.(type) {
			case int64, []int64, float32, []float32, string:
			case *Tensor:
				if err := count(fmt.Sprintf("operator %s attribute %s", nd.Op, k), a); err != nil {
					return err
				}
			default:
				return fmt.Errorf("operator %s attribute %s has unsupported type %T", nd.Op, k, a)
			}
		}
	}
	return nil
}
