package export_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"digitpad/train/cnn"
	"digitpad/train/export"
)

// randomNet returns a net whose BatchNorm statistics are not the identity, so folding is exercised.
func randomNet(t *testing.T, spec string, seed uint64) *cnn.Net {
	t.Helper()
	arch, err := cnn.ParseArch(spec)
	if err != nil {
		t.Fatal(err)
	}
	net, err := cnn.New(arch, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, p := range net.Params {
		switch {
		case len(p.Name) > 4 && p.Name[len(p.Name)-4:] == "_var":
			for i := range p.Data {
				p.Data[i] = 0.5 + rng.Float32()
			}
		case !p.Decay:
			for i := range p.Data {
				p.Data[i] = rng.Float32() - 0.5 + map[bool]float32{true: 1}[p.Name[len(p.Name)-6:] == "_gamma"]
			}
		}
	}
	return net
}

func TestFold_MatchesTrainerForward(t *testing.T) {
	for _, spec := range []string{cnn.DefaultArch, "conv3x4p1-relu-pool-fc16-relu-fc10", "conv3x6-bn-relu-pool-conv5x8p2-bn-relu-pool-fc10"} {
		t.Run(spec, func(t *testing.T) {
			net := randomNet(t, spec, 3)
			const n = 3
			rng := rand.New(rand.NewPCG(1, 1))
			x := make([]float32, n*784)
			for i := range x {
				x[i] = rng.Float32()
			}
			want := net.NewReplica(0, 0).Probabilities(x, n)
			layers, err := export.Fold(net)
			if err != nil {
				t.Fatal(err)
			}
			got := export.Forward(layers, x, n)
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
					t.Fatalf("prob %d: folded %v, trainer %v", i, got[i], want[i])
				}
			}
		})
	}
}
