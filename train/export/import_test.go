package export_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"digitpad/train/export"
)

// TestImport_RoundTrip: a net exported, imported (BatchNorm folded away) and exported again computes the same
// probabilities, so fine-tuning starts exactly from the shipped model.
func TestImport_RoundTrip(t *testing.T) {
	net := randomNet(t, "conv5x8p2-bn-relu-pool-conv3x8-bn-relu-pool-fc16-bn-relu-fc10", 3)
	b, err := export.ONNX(net, export.Options{Name: "rt"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := export.Import(b)
	if err != nil {
		t.Fatal(err)
	}
	if s := back.Arch.String(); strings.Contains(s, "bn") || !strings.HasPrefix(s, "conv5x8p2-relu-pool") {
		t.Errorf("imported arch %q, want the folded layers without bn", s)
	}
	a, err := export.Fold(net)
	if err != nil {
		t.Fatal(err)
	}
	c, err := export.Fold(back)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 4*784)
	for i := range x {
		x[i] = rng.Float32()
	}
	pa, pc := export.Forward(a, x, 4), export.Forward(c, x, 4)
	for i := range pa {
		if math.Abs(float64(pa[i]-pc[i])) > 1e-5 {
			t.Fatalf("probability %d: %g after the round trip, want %g", i, pc[i], pa[i])
		}
	}
	// The imported net trains: its parameters are the trainer's own.
	if len(back.Params) == 0 || !back.Params[0].Trainable {
		t.Error("imported parameters are not trainable")
	}
}

func TestImport_RejectsOtherGraphs(t *testing.T) {
	if _, err := export.Import([]byte("not onnx at all")); err == nil {
		t.Error("garbage imported without error")
	}
}
