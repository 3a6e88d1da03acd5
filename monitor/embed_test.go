package monitor_test

import (
	"math"
	"testing"

	"digitpad/assets"
	"digitpad/monitor"
	"digitpad/monitor/traffic"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
)

// TestServedEmbeddingsAreTheModelsPenultimate checks that a recogniser loaded as the server loads it (onnxrec)
// returns, for every digit it reads, the penultimate-layer embedding the reference profile was built from: the
// same floats the monitor's own embedder computes by running the model again, so the monitor can take them from
// the serving pass.
func TestServedEmbeddingsAreTheModelsPenultimate(t *testing.T) {
	for _, variant := range []string{"fp32", "int8"} {
		onnx, card := assets.Variant(variant)
		rec, err := onnxrec.New(onnx, card, recognize.Config{})
		if err != nil {
			t.Fatal(err)
		}
		g, err := onnxload.Decode(onnx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := assets.ParseCard(card, onnx)
		if err != nil {
			t.Fatal(err)
		}
		emb, _, err := monitor.NewModelEmbedder(g, c.InputScale)
		if err != nil {
			t.Fatalf("%s: %v", variant, err)
		}
		p, err := monitor.ParseProfile(card)
		if err != nil || p == nil {
			t.Fatalf("%s: profile %v", variant, err)
		}
		code, err := traffic.WrittenCode(5, traffic.Shift{}, 3)
		if err != nil {
			t.Fatal(err)
		}
		res, err := rec.Image(code.Image, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Embeddings) != len(res.Digits) || len(res.Digits) == 0 {
			t.Fatalf("%s: %d embeddings for %d digits", variant, len(res.Embeddings), len(res.Digits))
		}
		in := make([]float32, len(res.Inputs)*784)
		for i := range res.Inputs {
			copy(in[i*784:], res.Inputs[i][:])
		}
		want := make([]float32, len(res.Inputs)*emb.Dim())
		if err := emb.Embed(in, len(res.Inputs), want); err != nil {
			t.Fatal(err)
		}
		for i, e := range res.Embeddings {
			if len(e) != p.Embedding.Dim {
				t.Fatalf("%s: digit %d: embedding of %d floats, profile has %d", variant, i, len(e), p.Embedding.Dim)
			}
			for k, v := range e {
				// The serving pass batches differently: allow float rounding, nothing more.
				if w := want[i*emb.Dim()+k]; math.Abs(float64(v-w)) > 1e-4*(1+math.Abs(float64(w))) {
					t.Fatalf("%s: digit %d float %d: served %v, rerun %v", variant, i, k, v, w)
				}
			}
		}
	}
}
