package model

import (
	"fmt"
)

// WithTap keeps the named intermediate value of the graph (for example the penultimate layer, see Penultimate) so
// RunTap can return it beside the output: monitoring compares these embeddings with a reference. The tapped value
// is not fused away and its storage is not reused before the end of a pass; a tap on a quantised model's
// DequantizeLinear output adds one dequantising step. The output is computed exactly as without the tap.
func WithTap(name string) Option { return func(o *options) { o.tap = name } }

// TapSize is the number of floats per sample of the tapped value, 0 when the model was compiled without WithTap.
func (m *Model) TapSize() int {
	if m.p.tap == nil {
		return 0
	}
	return m.p.tap.size
}

// RunTap is Run that also copies the tapped value (n*TapSize floats) into tap. Like Run it allocates nothing in
// steady state.
func (m *Model) RunTap(in []float32, n int, out, tap []float32) error {
	if m.p.tap == nil {
		return fmt.Errorf("model: compiled without a tap (WithTap)")
	}
	if n >= 1 && len(tap) < n*m.p.tap.size {
		return fmt.Errorf("model: tap has room for %d floats, want %d (%d samples of %d)", len(tap), n*m.p.tap.size, n, m.p.tap.size)
	}
	return m.run(in, n, out, tap)
}

// Penultimate names the value a classifier's last layer reads: the activation input of the last MatMul or Gemm
// on the way back from the output (through Softmax, bias Add and views). That value is the embedding monitoring
// compares between reference and live traffic.
func Penultimate(g *Graph) (string, error) {
	producer := make(map[string]*Node, len(g.Nodes))
	for _, nd := range g.Nodes {
		producer[nd.Output] = nd
	}
	// live marks values computed from the input (the rest are folded constants such as Cast weights).
	live := map[string]bool{g.Input: true}
	for changed := true; changed; {
		changed = false
		for _, nd := range g.Nodes {
			if live[nd.Output] {
				continue
			}
			for _, in := range nd.Inputs {
				if live[in] {
					live[nd.Output], changed = true, true
					break
				}
			}
		}
	}
	v := g.Output
	for range len(g.Nodes) + 1 {
		nd := producer[v]
		if nd == nil {
			break
		}
		switch nd.Op {
		case "MatMul", "Gemm":
			if len(nd.Inputs) == 0 || nd.Inputs[0] == "" {
				return "", fmt.Errorf("model: %s without input", nd.Op)
			}
			return nd.Inputs[0], nil
		case "Add", "Sub":
			// Follow the operand computed from the input, not the bias.
			next := ""
			for _, in := range nd.Inputs {
				if live[in] {
					next = in
				}
			}
			v = next
		case "Softmax", "Identity", "Reshape", "Flatten", "Dropout", "Cast", "QuantizeLinear", "DequantizeLinear":
			if len(nd.Inputs) == 0 {
				return "", fmt.Errorf("model: %s without input", nd.Op)
			}
			v = nd.Inputs[0]
		default:
			return "", fmt.Errorf("model: no final MatMul/Gemm before the output (found %s)", nd.Op)
		}
	}
	return "", fmt.Errorf("model: no final MatMul/Gemm before the output %q", g.Output)
}
