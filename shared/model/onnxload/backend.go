package onnxload

import (
	"fmt"
	"math"

	"github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"
)

// backend is digitpad's onnx.Backend: onnx-go decodes a model into it, and compile turns what it recorded into
// an execution plan. It only records; nothing here runs.
type backend struct {
	*simple.WeightedDirectedGraph
	ops []*opRecord
}

// opRecord is one ONNX node as onnx-go applied it.
type opRecord struct {
	op      onnx.Operation
	outputs []*node
}

// node is one ONNX value (graph input, initializer, intermediate or output). Edges go from the value an operation
// produces to each of the operation's inputs, weighted by the input's position.
type node struct {
	id     int64
	name   string
	t      tensor.Tensor
	record *opRecord // the operation producing this value, nil for inputs and initializers
}

var (
	_ onnx.Backend     = (*backend)(nil)
	_ onnx.Namer       = (*node)(nil)
	_ onnx.DataCarrier = (*node)(nil)
)

func newBackend() *backend {
	return &backend{WeightedDirectedGraph: simple.NewWeightedDirectedGraph(math.Inf(1), math.Inf(1))}
}

// NewNode returns a node of digitpad's type so onnx-go can name it and hand it tensors.
func (b *backend) NewNode() graph.Node {
	return &node{id: b.WeightedDirectedGraph.NewNode().ID()}
}

// ApplyOperation records op as the producer of outputs.
func (b *backend) ApplyOperation(op onnx.Operation, outputs ...graph.Node) error {
	if len(outputs) == 0 {
		return fmt.Errorf("operator %s has no output", op.Name)
	}
	rec := &opRecord{op: op}
	for _, o := range outputs {
		n, ok := o.(*node)
		if !ok {
			return fmt.Errorf("operator %s: output node of foreign type %T", op.Name, o)
		}
		if n.record != nil {
			return fmt.Errorf("operator %s: value %q is produced twice", op.Name, n.name)
		}
		n.record = rec
		rec.outputs = append(rec.outputs, n)
	}
	b.ops = append(b.ops, rec)
	return nil
}

// inputs returns the operation's input nodes in ONNX order; absent optional inputs (empty names) are nil.
func (b *backend) inputs(rec *opRecord) ([]*node, error) {
	out := rec.outputs[0]
	it := b.From(out.ID())
	ins := make([]*node, it.Len())
	for it.Next() {
		in := it.Node().(*node)
		w, ok := b.Weight(out.ID(), in.ID())
		i := int(w)
		if !ok || float64(i) != w || i < 0 || i >= len(ins) || ins[i] != nil {
			return nil, fmt.Errorf("operator %s: inconsistent input edges", rec.op.Name)
		}
		ins[i] = in
	}
	for i, in := range ins {
		if in == nil {
			// Two inputs naming the same value share one edge, so a slot stays empty.
			return nil, fmt.Errorf("operator %s: input %d missing (the same value used twice is not supported)", rec.op.Name, i)
		}
		if in.name == "" && in.record == nil {
			ins[i] = nil
		}
	}
	return ins, nil
}

// ID implements graph.Node.
func (n *node) ID() int64 { return n.id }

// SetName implements onnx.Namer.
func (n *node) SetName(s string) { n.name = s }

// GetName implements onnx.Namer.
func (n *node) GetName() string { return n.name }

// SetTensor implements onnx.DataCarrier.
func (n *node) SetTensor(t tensor.Tensor) error { n.t = t; return nil }

// GetTensor implements onnx.DataCarrier.
func (n *node) GetTensor() tensor.Tensor { return n.t }
