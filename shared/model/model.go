// Package model loads ONNX digit classifiers with onnx-go into digitpad's own backend, compiles them once into an
// execution plan and runs that plan with allocation-free float32 kernels. A *Model is immutable after Load and safe
// for concurrent use by many goroutines.
package model

// Model is a compiled ONNX graph ready to run on batches of inputs.
type Model struct {
	// filled by the implementation
}

// Load decodes ONNX bytes (via github.com/owulveryck/onnx-go) and compiles an execution plan.
// Errors name the unsupported op or the problem in the file; Load never panics on bad bytes.
func Load(onnxBytes []byte) (*Model, error) { panic("not yet") }

// InputShape is the per-sample input shape without the batch dimension, e.g. [1 28 28].
func (m *Model) InputShape() []int { panic("not yet") }

// InputSize is the product of InputShape: floats per sample.
func (m *Model) InputSize() int { panic("not yet") }

// OutputSize is the number of output floats per sample (10 for digit models).
func (m *Model) OutputSize() int { panic("not yet") }

// OutputIsProbability reports whether the graph ends in Softmax (otherwise outputs are logits).
func (m *Model) OutputIsProbability() bool { panic("not yet") }

// SHA256 is the hex sha256 of the ONNX bytes the model was loaded from.
func (m *Model) SHA256() string { panic("not yet") }

// Run computes out (n*OutputSize floats) from in (n*InputSize floats) for a batch of n samples, any n >= 1.
// Steady state allocates nothing; scratch buffers come from an internal pool.
func (m *Model) Run(in []float32, n int, out []float32) error { panic("not yet") }
