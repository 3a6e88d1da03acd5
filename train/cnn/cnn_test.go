package cnn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func randSlice(rng *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = (rng.Float32()*2 - 1) * scale
	}
	return s
}

// checkLayer compares backward's dL/dx and parameter gradients with central finite differences of
// L = Σ r·forward(x) for a fixed random r.
func checkLayer(t *testing.T, l layer, x []float32, n int, params []*Param, grads [][]float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 9))
	y := l.forward(x, n, true)
	r := randSlice(rng, len(y), 1)
	loss := func() float64 {
		y := l.forward(x, n, true)
		var s float64
		for i, v := range y {
			s += float64(v) * float64(r[i])
		}
		return s
	}
	for _, g := range grads {
		clear(g)
	}
	l.forward(x, n, true)
	dx := slices.Clone(l.backward(slices.Clone(r), n, true))
	const h = 1e-2
	check := func(what string, v []float32, analytic []float32) {
		t.Helper()
		idx := rng.Perm(len(v))
		if len(idx) > 40 {
			idx = idx[:40]
		}
		for _, i := range idx {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			num := (lp - lm) / (2 * h)
			if d := math.Abs(num - float64(analytic[i])); d > 2e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: analytic %.5f, numeric %.5f", what, i, analytic[i], num)
			}
		}
	}
	check("dx", x, dx)
	for k, p := range params {
		check(p.Name, p.Data, grads[k])
	}
}

func TestGradients_PerLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	param := func(name string, n int, scale float32) *Param {
		return &Param{Name: name, Shape: []int{n}, Data: randSlice(rng, n, scale), Trainable: true}
	}
	const n = 2
	t.Run("conv3x3_pad1", func(t *testing.T) {
		in, out := Shape{6, 5, 3}, Shape{6, 5, 4}
		w, b := param("w", 27*4, 0.5), param("b", 4, 0.5)
		c := &conv{in: in, out: out, k: 3, pad: 1, w: w, b: b, gw: make([]float32, 27*4), gb: make([]float32, 4)}
		checkLayer(t, c, randSlice(rng, n*in.Size(), 1), n, []*Param{w, b}, [][]float32{c.gw, c.gb})
	})
	t.Run("conv5x5_valid_nobias", func(t *testing.T) {
		in, out := Shape{7, 7, 2}, Shape{3, 3, 3}
		w := param("w", 50*3, 0.5)
		c := &conv{in: in, out: out, k: 5, w: w, gw: make([]float32, 150)}
		checkLayer(t, c, randSlice(rng, n*in.Size(), 1), n, []*Param{w}, [][]float32{c.gw})
	})
	t.Run("dense", func(t *testing.T) {
		w, b := param("w", 12*5, 0.5), param("b", 5, 0.5)
		d := &dense{in: 12, out: 5, w: w, b: b, gw: make([]float32, 60), gb: make([]float32, 5)}
		checkLayer(t, d, randSlice(rng, n*12, 1), n, []*Param{w, b}, [][]float32{d.gw, d.gb})
	})
	t.Run("batchnorm", func(t *testing.T) {
		const c = 3
		gamma, beta := param("gamma", c, 1), param("beta", c, 1)
		bn := &batchNorm{c: c, gamma: gamma, beta: beta, mean: param("mean", c, 0), vari: param("var", c, 0),
			ggamma: make([]float32, c), gbeta: make([]float32, c),
			bmean: make([]float32, c), bvar: make([]float32, c), invStd: make([]float32, c)}
		checkLayer(t, bn, randSlice(rng, 4*5*c, 2), 4, []*Param{gamma, beta}, [][]float32{bn.ggamma, bn.gbeta})
	})
	t.Run("relu", func(t *testing.T) {
		x := randSlice(rng, 40, 1)
		for i := range x { // keep clear of the kink, where finite differences are meaningless
			if math.Abs(float64(x[i])) < 0.05 {
				x[i] = 0.3
			}
		}
		checkLayer(t, &relu{}, x, 2, nil, nil)
	})
	t.Run("maxpool", func(t *testing.T) {
		in := Shape{5, 4, 2}
		x := make([]float32, n*in.Size())
		for i, p := range rng.Perm(len(x)) { // distinct values: no ties for the finite differences to cross
			x[i] = float32(p) * 0.1
		}
		checkLayer(t, &maxPool{in: in, out: Shape{2, 2, 2}}, x, n, nil, nil)
	})
}

// TestGradients_WholeNet checks the loss gradient of a small net end to end, including the softmax
// cross-entropy with label smoothing.
func TestGradients_WholeNet(t *testing.T) {
	arch, err := ParseArch("conv3x3p1-bn-relu-pool-conv3x4-bn-relu-pool-fc6-relu-fc10")
	if err != nil {
		t.Fatal(err)
	}
	net, err := New(arch, 5)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 3
	x := randSlice(rng, n*784, 1)
	labels := []uint8{1, 7, Classes} // the last is not a digit: uniform target
	r := net.NewReplica(1, 1)
	r.ZeroGrad()
	r.TrainStep(x, labels, 1, 0.1)
	loss := func() float64 {
		logits := r.Forward(x, n, true)
		d := make([]float32, len(logits))
		l, _ := lossGrad(logits, labels, 1, 0.1, d)
		return l
	}
	const h = 1e-3
	for pi, p := range net.Params {
		if !p.Trainable {
			continue
		}
		for _, i := range rng.Perm(len(p.Data))[:min(8, len(p.Data))] {
			old := p.Data[i]
			p.Data[i] = old + h
			lp := loss()
			p.Data[i] = old - h
			lm := loss()
			p.Data[i] = old
			num := (lp - lm) / (2 * h)
			if got := float64(r.Grads[pi][i]); math.Abs(got-num) > 3e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: analytic %.5f, numeric %.5f", p.Name, i, got, num)
			}
		}
	}
}

func TestGemm_MatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		name    string
		m, n, k int
		transA  bool
		beta    float32
	}{
		{"tiles", 8, 64, 9, false, 0},
		{"ragged", 7, 58, 13, false, 1},
		{"transA", 9, 48, 11, true, 1},
		{"narrow", 5, 10, 3, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := randSlice(rng, tc.m*tc.k, 1)
			b := randSlice(rng, tc.k*tc.n, 1)
			c := randSlice(rng, tc.m*tc.n, 1)
			want := slices.Clone(c)
			for i := 0; i < tc.m; i++ {
				for j := 0; j < tc.n; j++ {
					var s float32
					for l := 0; l < tc.k; l++ {
						av := a[i*tc.k+l]
						if tc.transA {
							av = a[l*tc.m+i]
						}
						s += av * b[l*tc.n+j]
					}
					want[i*tc.n+j] = tc.beta*want[i*tc.n+j] + s
				}
			}
			lda := tc.k
			if tc.transA {
				lda = tc.m
			}
			gemm(tc.transA, false, tc.m, tc.n, tc.k, a, lda, b, tc.n, tc.beta, c, tc.n)
			for i := range c {
				if math.Abs(float64(c[i]-want[i])) > 1e-4 {
					t.Fatalf("c[%d] = %v, want %v", i, c[i], want[i])
				}
			}
		})
	}
}

func TestParseArch(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		wantErr bool
		params  int
	}{
		{"conv3x4p1-relu-pool-fc10", false, 3*3*4 + 4 + 14*14*4*10 + 10},
		{"conv3x4-bn-relu-fc10", false, 36 + 4 + 26*26*4*10 + 10},
		{"fc10", false, 7850},
		{"conv3x4p3-fc10", true, 0},
		{"conv3x4-fc11", true, 0},
		{"conv3x4-pool-blah-fc10", true, 0},
		{"drop1.5-fc10", true, 0},
		{"", true, 0},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			a, err := ParseArch(tc.spec)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got, _ := a.Cost(); got != tc.params {
				t.Errorf("params = %d, want %d", got, tc.params)
			}
			if a.String() != tc.spec {
				t.Errorf("String() = %q, want %q", a.String(), tc.spec)
			}
		})
	}
}

func TestLossGrad_NotADigitWantsUniform(t *testing.T) {
	d := make([]float32, Classes)
	flat := make([]float32, Classes)
	loss, correct := lossGrad(flat, []uint8{Classes}, 1, 0.05, d)
	if correct != 0 || math.Abs(loss-math.Log(Classes)) > 1e-6 {
		t.Fatalf("uniform logits: loss %g (want ln 10), correct %d (want 0)", loss, correct)
	}
	for j, g := range d {
		if math.Abs(float64(g)) > 1e-7 {
			t.Fatalf("uniform logits: gradient %g at %d, want 0", g, j)
		}
	}
	peaked := make([]float32, Classes)
	peaked[3] = 5
	lossGrad(peaked, []uint8{Classes}, 1, 0.05, d)
	if d[3] <= 0 {
		t.Fatalf("a confident wrong cut: gradient %g on its top logit, want > 0 (pushed down)", d[3])
	}
}
