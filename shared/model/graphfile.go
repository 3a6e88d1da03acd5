package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
)

// The graph file is a Graph in a compact binary form, for clients that should not link onnx-go (the browser):
//
//	"DPGRAPH" version(1 byte) body crc32(body, IEEE, 4 bytes little-endian)
//	body:     sha256 opset input output inputShape constants nodes
//	constants: count, then (name tensor) sorted by name
//	nodes:     count, then (op inputs output attrs); attrs: count, then (name kind value) sorted by name
//	tensor:    dtype rank dims data — INT8/UINT8 one byte per element, other integers zigzag varints,
//	           float types little-endian float32
//
// Strings are a uvarint length and bytes, counts and dims uvarints, opset and int64 values zigzag varints.
// The form is deterministic: marshalling one Graph always gives the same bytes.
const (
	graphMagic   = "DPGRAPH"
	graphVersion = 1
)

// Attribute kinds in the graph file.
const (
	kindInt = iota + 1
	kindInts
	kindFloat
	kindFloats
	kindString
	kindTensor
)

// MarshalBinary encodes g as a graph file (see UnmarshalGraph).
func (g *Graph) MarshalBinary() ([]byte, error) {
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	b := append([]byte(graphMagic), graphVersion)
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	ints := func(v []int) {
		b = binary.AppendUvarint(b, uint64(len(v)))
		for _, x := range v {
			b = binary.AppendUvarint(b, uint64(x))
		}
	}
	tensor := func(t *Tensor) {
		b = binary.AppendUvarint(b, uint64(t.DType))
		ints(t.Shape)
		switch {
		case t.DType == Int8 || t.DType == Uint8:
			for _, x := range t.Int {
				b = append(b, byte(x))
			}
		case t.DType.IsInt():
			for _, x := range t.Int {
				b = binary.AppendVarint(b, x)
			}
		default:
			for _, x := range t.Float {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
			}
		}
	}
	str(g.SHA256)
	b = binary.AppendVarint(b, g.Opset)
	str(g.Input)
	str(g.Output)
	ints(g.InputShape)
	names := sortedKeys(g.Constants)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		str(n)
		tensor(g.Constants[n])
	}
	b = binary.AppendUvarint(b, uint64(len(g.Nodes)))
	for _, nd := range g.Nodes {
		str(nd.Op)
		b = binary.AppendUvarint(b, uint64(len(nd.Inputs)))
		for _, in := range nd.Inputs {
			str(in)
		}
		str(nd.Output)
		keys := sortedKeys(nd.Attrs)
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			str(k)
			switch a := nd.Attrs[k].(type) {
			case int64:
				b = append(b, kindInt)
				b = binary.AppendVarint(b, a)
			case []int64:
				b = append(b, kindInts)
				b = binary.AppendUvarint(b, uint64(len(a)))
				for _, x := range a {
					b = binary.AppendVarint(b, x)
				}
			case float32:
				b = append(b, kindFloat)
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(a))
			case []float32:
				b = append(b, kindFloats)
				b = binary.AppendUvarint(b, uint64(len(a)))
				for _, x := range a {
					b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
				}
			case string:
				b = append(b, kindString)
				str(a)
			case *Tensor:
				b = append(b, kindTensor)
				tensor(a)
			}
		}
	}
	sum := crc32.ChecksumIEEE(b[len(graphMagic)+1:])
	return binary.LittleEndian.AppendUint32(b, sum), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ErrNotGraph is returned by UnmarshalGraph for bytes that are not a graph file (e.g. an ONNX file).
var ErrNotGraph = errors.New("not a digitpad graph file")

// UnmarshalGraph decodes and validates a graph file written by MarshalBinary. Corrupt, truncated or hostile bytes
// get an error, never a panic or an allocation beyond the limits (MaxTensorElements, MaxTotalElements).
func UnmarshalGraph(data []byte) (*Graph, error) {
	if len(data) < len(graphMagic)+1+4 || string(data[:len(graphMagic)]) != graphMagic {
		return nil, ErrNotGraph
	}
	if v := data[len(graphMagic)]; v != graphVersion {
		return nil, fmt.Errorf("graph file version %d, this runtime reads version %d", v, graphVersion)
	}
	body := data[len(graphMagic)+1 : len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, errors.New("graph file is corrupt (checksum mismatch)")
	}
	r := &graphReader{b: body}
	g := &Graph{Constants: map[string]*Tensor{}}
	g.SHA256 = r.str()
	g.Opset = r.varint()
	g.Input = r.str()
	g.Output = r.str()
	g.InputShape = r.dims()
	for n := r.count(2); n > 0 && r.err == nil; n-- {
		name := r.str()
		if _, dup := g.Constants[name]; dup {
			r.fail(fmt.Errorf("initializer %q twice", name))
		}
		g.Constants[name] = r.tensor()
	}
	for n := r.count(2); n > 0 && r.err == nil; n-- {
		nd := &Node{Op: r.str(), Attrs: map[string]any{}}
		for k := r.count(1); k > 0 && r.err == nil; k-- {
			nd.Inputs = append(nd.Inputs, r.str())
		}
		nd.Output = r.str()
		for k := r.count(2); k > 0 && r.err == nil; k-- {
			key := r.str()
			nd.Attrs[key] = r.attr()
		}
		g.Nodes = append(g.Nodes, nd)
		if len(g.Nodes) > maxNodes {
			r.fail(fmt.Errorf("more than %d operations", maxNodes))
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Errorf("%d bytes after the last operation", len(r.b)))
	}
	if r.err != nil {
		return nil, fmt.Errorf("graph file: %w", r.err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("graph file: %w", err)
	}
	return g, nil
}

// graphReader reads a graph file body; the first problem sticks in err and later reads return zero values.
type graphReader struct {
	b     []byte
	err   error
	total int // tensor elements read so far
}

func (r *graphReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *graphReader) uvarint() uint64 { return readNumber(r, binary.Uvarint) }

func (r *graphReader) varint() int64 { return readNumber(r, binary.Varint) }

// readNumber reads one varint-encoded number with decode (binary.Uvarint or binary.Varint).
func readNumber[T uint64 | int64](r *graphReader, decode func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := decode(r.b)
	if n <= 0 {
		r.fail(errors.New("truncated or malformed number"))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads an element count, each element taking at least min bytes of what is left.
func (r *graphReader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.fail(fmt.Errorf("count %d exceeds the file", n))
		return 0
	}
	return int(n)
}

func (r *graphReader) str() string {
	n := r.count(1)
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *graphReader) dims() []int {
	n := r.count(1)
	if n > 16 {
		r.fail(fmt.Errorf("rank %d", n))
		return nil
	}
	d := make([]int, 0, n)
	for ; n > 0 && r.err == nil; n-- {
		x := r.uvarint()
		if x > MaxTensorElements {
			r.fail(fmt.Errorf("bad dimension %d", x))
		}
		d = append(d, int(x))
	}
	return d
}

func (r *graphReader) tensor() *Tensor {
	dt := r.uvarint()
	t := &Tensor{DType: DataType(dt), Shape: r.dims()}
	if r.err != nil {
		return nil
	}
	if _, ok := dataTypeNames[t.DType]; !ok || dt > math.MaxInt32 {
		r.fail(fmt.Errorf("data type %d is not supported", dt))
		return nil
	}
	n := 1
	for _, d := range t.Shape {
		n *= d
		if n > MaxTensorElements {
			r.fail(errors.New("tensor too large"))
			return nil
		}
	}
	if r.total += n; r.total > MaxTotalElements {
		r.fail(errors.New("constants too large"))
		return nil
	}
	switch {
	case t.DType == Int8 || t.DType == Uint8:
		if n > len(r.b) {
			r.fail(errors.New("tensor data truncated"))
			return nil
		}
		t.Int = make([]int64, n)
		for i, x := range r.b[:n] {
			if t.DType == Int8 {
				t.Int[i] = int64(int8(x))
			} else {
				t.Int[i] = int64(x)
			}
		}
		r.b = r.b[n:]
	case t.DType.IsInt():
		if n > len(r.b) {
			r.fail(errors.New("tensor data truncated"))
			return nil
		}
		t.Int = make([]int64, n)
		for i := range t.Int {
			t.Int[i] = r.varint()
		}
	default:
		if n > len(r.b)/4 {
			r.fail(errors.New("tensor data truncated"))
			return nil
		}
		t.Float = make([]float32, n)
		for i := range t.Float {
			t.Float[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.b[4*i:]))
		}
		r.b = r.b[4*n:]
	}
	return t
}

func (r *graphReader) attr() any {
	if r.err != nil {
		return nil
	}
	if len(r.b) == 0 {
		r.fail(errors.New("attribute truncated"))
		return nil
	}
	kind := r.b[0]
	r.b = r.b[1:]
	switch kind {
	case kindInt:
		return r.varint()
	case kindInts:
		n := r.count(1)
		v := make([]int64, 0, n)
		for ; n > 0 && r.err == nil; n-- {
			v = append(v, r.varint())
		}
		return v
	case kindFloat:
		if len(r.b) < 4 {
			r.fail(errors.New("attribute truncated"))
			return nil
		}
		x := math.Float32frombits(binary.LittleEndian.Uint32(r.b))
		r.b = r.b[4:]
		return x
	case kindFloats:
		n := r.count(4)
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.b[4*i:]))
		}
		r.b = r.b[4*n:]
		return v
	case kindString:
		return r.str()
	case kindTensor:
		return r.tensor()
	}
	r.fail(fmt.Errorf("unknown attribute kind %d", kind))
	return nil
}
