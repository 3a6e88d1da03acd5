// Package model is digitpad's model runtime: it compiles a digit classifier Graph once into an execution plan
// and runs that plan with allocation-free float32 and int8 kernels. A *Model is immutable after Compile and safe
// for concurrent use by many goroutines. ONNX files are decoded into a Graph by the onnxload subpackage (with
// github.com/owulveryck/onnx-go); this package links neither onnx-go nor protobuf, so the browser's WebAssembly
// can carry the runtime and receive graphs decoded by onnx-go elsewhere (MarshalBinary, UnmarshalGraph).
//
// How a model gets run:
//
//   - compile folds constant subgraphs (Reshape of weights, Constant, Transpose), infers per-sample shapes (the
//     batch dimension is implicit and leading), and fuses: Conv absorbs a per-channel Add/Sub, BatchNormalization,
//     Relu and one MaxPool/AveragePool; MatMul/Gemm absorb a bias Add and Relu. Weights are packed once.
//
//   - Convolutions run as implicit GEMM (no im2col for stride 1) through one tile kernel: AVX-512 (8x32) or
//     AVX2+FMA (4x24) assembly when the CPU has it, portable Go (2x4 register blocks) on wasm, with -tags purego
//     or elsewhere. Bias and ReLU are applied in the kernel's epilogue.
//
//   - Activations live in one arena per goroutine whose layout is computed once in per-sample units, so any
//     batch size reuses it; arenas come from a sync.Pool.
//
//   - Quantised models (QDQ: QuantizeLinear/DequantizeLinear around Conv/MatMul with int8 weights, see quant.go)
//     run on int8 kernels: uint8 activations x int8 weights -> int32 (AVX-512 VNNI VPDPBUSD, portable Go with two
//     MACs per 64-bit multiply elsewhere), requantised per output channel in the epilogue.
//
// Supported operators: Conv (group 1), Relu, MaxPool, AveragePool, Reshape, Flatten, MatMul, Gemm, Add, Sub, Mul,
// Div (with broadcast constants; Add/Sub/Mul also between equal-shaped tensors), Softmax, BatchNormalization
// (inference), Dropout, Identity, Constant, Transpose of constants, QuantizeLinear and DequantizeLinear
// (per-tensor for activations, per-axis for constants), Cast of constants (and float-to-float). Anything else is
// a compile error naming it.
package model

import (
	"fmt"
	"slices"
	"sync"
)

// maxChunk bounds the samples one pass of the plan handles: bigger batches run in chunks (smaller ones for big
// models, see maxChunkFloats), which keeps scratch memory bounded while every chunk still amortises weight reads.
const maxChunk = 64

// Model is a compiled ONNX graph ready to run on batches of inputs.
type Model struct {
	p       *plan
	sha     string
	scratch sync.Pool // *scratch, one per concurrently running Run
}

// Option changes how Load compiles a model.
type Option func(*options)

type options struct{ kernel, tap string }

// WithKernel selects a kernel by name (see Kernels) instead of the fastest one this CPU supports; it exists so
// tests and benchmarks can compare implementations on one machine.
func WithKernel(name string) Option { return func(o *options) { o.kernel = name } }

// Kernels lists the GEMM kernels this build can use on this CPU, fastest first ("avx512", "avx2", "go").
func Kernels() []string {
	var names []string
	for _, k := range availableKernels() {
		names = append(names, k.name)
	}
	return names
}

// Int8Kernel names the int8 kernel quantised models run on with the default (fastest) kernel: "avx512-vnni" when
// the CPU has AVX-512 VNNI, else the portable "go-int8" (faster than portable float32, but slower than the AVX2
// and AVX-512 float32 kernels), so a server should prefer an int8 model only when this is not "go-int8".
func Int8Kernel() string { return availableKernels()[0].q.name }

// Compile checks g and compiles its execution plan. Errors name the unsupported op or the problem in the graph;
// Compile never panics on a bad graph. The Model's SHA256 is g.SHA256.
func Compile(g *Graph, opts ...Option) (*Model, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ks := availableKernels()
	kr := &ks[0]
	if o.kernel != "" {
		kr = nil
		for i := range ks {
			if ks[i].name == o.kernel {
				kr = &ks[i]
			}
		}
		if kr == nil {
			return nil, fmt.Errorf("model: kernel %q not available (have %v)", o.kernel, Kernels())
		}
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	p, err := compileSafe(g, kr, o.tap)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m := &Model{p: p, sha: g.SHA256}
	m.scratch.New = func() any { return &scratch{tmp: make([]float32, p.tmp)} }
	return m, nil
}

// LoadGraph compiles a graph file written by Graph.MarshalBinary (see UnmarshalGraph).
func LoadGraph(data []byte, opts ...Option) (*Model, error) {
	g, err := UnmarshalGraph(data)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return Compile(g, opts...)
}

// compileSafe compiles, turning a panic on an unforeseen graph shape into an error.
func compileSafe(g *Graph, kr *kernel, tap string) (p *plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("compiling: %v", r)
		}
	}()
	return compile(g, kr, tap)
}

// InputShape is the per-sample input shape without the batch dimension, e.g. [1 28 28].
func (m *Model) InputShape() []int { return slices.Clone(m.p.inShape) }

// InputSize is the product of InputShape: floats per sample.
func (m *Model) InputSize() int { return m.p.inSize }

// OutputSize is the number of output floats per sample (10 for digit models).
func (m *Model) OutputSize() int { return m.p.outSize }

// OutputIsProbability reports whether the graph ends in Softmax (otherwise outputs are logits).
func (m *Model) OutputIsProbability() bool { return m.p.probability }

// SHA256 is the hex sha256 of the ONNX file the model was decoded from (Graph.SHA256).
func (m *Model) SHA256() string { return m.sha }

// Ops describes the compiled plan, one line per step (fused operations are listed on one line), ending with the
// kernel in brackets, e.g. "Conv 1x28x28 -> 8x28x28 k5x5 s1 +bias +relu +maxpool2x2/2 -> 8x14x14 [avx512]".
func (m *Model) Ops() []string { return slices.Clone(m.p.descs) }

// Kernel names the GEMM kernel the plan runs on.
func (m *Model) Kernel() string { return m.p.kernel }

// Run computes out (n*OutputSize floats) from in (n*InputSize floats) for a batch of n samples, any n >= 1.
// Steady state allocates nothing; scratch buffers come from an internal pool.
func (m *Model) Run(in []float32, n int, out []float32) error {
	return m.run(in, n, out, nil)
}

func (m *Model) run(in []float32, n int, out, tap []float32) error {
	p := m.p
	if n < 1 {
		return fmt.Errorf("model: batch size %d, want >= 1", n)
	}
	if len(in) != n*p.inSize {
		return fmt.Errorf("model: input has %d floats, want %d (%d samples of %d)", len(in), n*p.inSize, n, p.inSize)
	}
	if len(out) < n*p.outSize {
		return fmt.Errorf("model: output has room for %d floats, want %d (%d samples of %d)", len(out), n*p.outSize, n, p.outSize)
	}
	s := m.scratch.Get().(*scratch)
	defer m.scratch.Put(s)
	for start := 0; start < n; start += p.chunk {
		c := min(p.chunk, n-start)
		if need := c * p.arena; cap(s.act) < need {
			s.act = make([]float32, need)
		}
		s.act = s.act[:cap(s.act)]
		s.in = in[start*p.inSize : (start+c)*p.inSize]
		for _, st := range p.steps {
			st.run(s, c)
		}
		copy(out[start*p.outSize:(start+c)*p.outSize], s.get(p.out, c))
		if tap != nil {
			copy(tap[start*p.tap.size:(start+c)*p.tap.size], s.get(p.tap, c))
		}
	}
	s.in = nil
	return nil
}
