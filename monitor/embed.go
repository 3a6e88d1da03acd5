package monitor

import (
	"fmt"
	"sync"

	"digitpad/shared/model"
)

// Embedder computes penultimate-layer embeddings of 28×28 inputs (0..1, ink = 1).
type Embedder interface {
	// Dim is the number of floats per embedding.
	Dim() int
	// Embed writes n embeddings (n*Dim floats) of n inputs (n*784 floats) into out.
	Embed(inputs []float32, n int, out []float32) error
}

// ModelEmbedder embeds with a model compiled with model.WithTap (see NewModelEmbedder).
type ModelEmbedder struct {
	m     *model.Model
	scale float32
	bufs  sync.Pool // *[]float32 for scaled inputs and discarded outputs
}

// NewModelEmbedder compiles g with a tap on its penultimate value; scale multiplies inputs as the model card says
// (1 for digitpad's models). It returns the embedder and the tapped value's name.
func NewModelEmbedder(g *model.Graph, scale float32) (*ModelEmbedder, string, error) {
	tap, err := model.Penultimate(g)
	if err != nil {
		return nil, "", fmt.Errorf("monitor: %w", err)
	}
	m, err := model.Compile(g, model.WithTap(tap))
	if err != nil {
		return nil, "", fmt.Errorf("monitor: %w", err)
	}
	if m.InputSize() != 784 {
		return nil, "", fmt.Errorf("monitor: model takes %d inputs, want 784", m.InputSize())
	}
	if scale == 0 {
		scale = 1
	}
	return &ModelEmbedder{m: m, scale: scale}, tap, nil
}

// Dim is the tapped value's size.
func (e *ModelEmbedder) Dim() int { return e.m.TapSize() }

// Embed runs the tapped model.
func (e *ModelEmbedder) Embed(inputs []float32, n int, out []float32) error {
	need := n*784 + n*e.m.OutputSize()
	bp, _ := e.bufs.Get().(*[]float32)
	if bp == nil || cap(*bp) < need {
		b := make([]float32, need)
		bp = &b
	}
	defer e.bufs.Put(bp)
	buf := (*bp)[:need]
	in, probs := buf[:n*784], buf[n*784:]
	if e.scale == 1 {
		copy(in, inputs)
	} else {
		for i, v := range inputs[:n*784] {
			in[i] = v * e.scale
		}
	}
	return e.m.RunTap(in, n, probs, out)
}

// servedEmbeddings joins the digits' embeddings from the serving pass (nil unless every digit has one of dim
// floats).
func servedEmbeddings(ds []Digit, dim int) []float32 {
	if len(ds) == 0 || dim == 0 {
		return nil
	}
	out := make([]float32, 0, len(ds)*dim)
	for _, d := range ds {
		if len(d.Embedding) != dim {
			return nil
		}
		out = append(out, d.Embedding...)
	}
	return out
}

// embedAll embeds the digits of one prediction (nil when a digit has no input).
func embedAll(e Embedder, ds []Digit) ([]float32, error) {
	if e == nil || len(ds) == 0 {
		return nil, nil
	}
	in := make([]float32, len(ds)*784)
	for i, d := range ds {
		if d.Input == nil {
			return nil, nil
		}
		copy(in[i*784:], d.Input[:])
	}
	out := make([]float32, len(ds)*e.Dim())
	if err := e.Embed(in, len(ds), out); err != nil {
		return nil, fmt.Errorf("monitor: embed: %w", err)
	}
	return out, nil
}
