package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Param is one weight tensor shared by all replicas.
type Param struct {
	Name      string
	Shape     []int
	Data      []float32
	Trainable bool // false for BatchNorm running statistics
	Decay     bool // weight decay applies (conv and dense weights)
}

// Net holds an architecture and its weights. Replicas read the weights concurrently; only the trainer writes
// them, between steps.
type Net struct {
	Arch   Arch
	Params []*Param
	shapes []Shape
	// byLayer[i] lists layer i's params: conv/dense [w, b?], bn [gamma, beta, mean, var].
	byLayer [][]*Param
}

// New builds a network with He-initialised weights drawn from a PCG stream seeded with seed.
func New(arch Arch, seed uint64) (*Net, error) {
	shapes, err := arch.Shapes(InputShape)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed_c0de))
	n := &Net{Arch: arch, shapes: shapes, byLayer: make([][]*Param, len(arch))}
	add := func(i int, p *Param) {
		n.Params = append(n.Params, p)
		n.byLayer[i] = append(n.byLayer[i], p)
	}
	in := InputShape
	for i, l := range arch {
		name := fmt.Sprintf("%d_%s", i, l.Kind)
		switch l.Kind {
		case KindConv, KindDense:
			fanIn := in.Size()
			if l.Kind == KindConv {
				fanIn = l.K * l.K * in.C
			}
			w := &Param{Name: name + "_w", Shape: []int{fanIn, l.Out}, Data: make([]float32, fanIn*l.Out),
				Trainable: true, Decay: true}
			std := math.Sqrt(2 / float64(fanIn))
			for j := range w.Data {
				w.Data[j] = float32(rng.NormFloat64() * std)
			}
			add(i, w)
			if l.Bias {
				add(i, &Param{Name: name + "_b", Shape: []int{l.Out}, Data: make([]float32, l.Out), Trainable: true})
			}
		case KindBatchNorm:
			c := in.C
			gamma := &Param{Name: name + "_gamma", Shape: []int{c}, Data: make([]float32, c), Trainable: true}
			vari := &Param{Name: name + "_var", Shape: []int{c}, Data: make([]float32, c)}
			for j := 0; j < c; j++ {
				gamma.Data[j], vari.Data[j] = 1, 1
			}
			add(i, gamma)
			add(i, &Param{Name: name + "_beta", Shape: []int{c}, Data: make([]float32, c), Trainable: true})
			add(i, &Param{Name: name + "_mean", Shape: []int{c}, Data: make([]float32, c)})
			add(i, vari)
		}
		in = shapes[i]
	}
	return n, nil
}

// LayerParams returns layer i's parameters: conv/dense [w] or [w, b]; bn [gamma, beta, mean, var]; else none.
func (n *Net) LayerParams(i int) []*Param { return n.byLayer[i] }

// LayerShapes returns every layer's output shape.
func (n *Net) LayerShapes() []Shape { return append([]Shape(nil), n.shapes...) }

// Snapshot copies all parameters (weights and running statistics).
func (n *Net) Snapshot() [][]float32 {
	s := make([][]float32, len(n.Params))
	for i, p := range n.Params {
		s[i] = append([]float32(nil), p.Data...)
	}
	return s
}

// Restore loads a Snapshot taken from a net of the same architecture.
func (n *Net) Restore(s [][]float32) error {
	if len(s) != len(n.Params) {
		return fmt.Errorf("restore: snapshot has %d tensors, net has %d", len(s), len(n.Params))
	}
	for i, p := range n.Params {
		if len(s[i]) != len(p.Data) {
			return fmt.Errorf("restore %s: %d values, want %d", p.Name, len(s[i]), len(p.Data))
		}
		copy(p.Data, s[i])
	}
	return nil
}

// Replica is one worker's view of a Net: its own activations and gradients over the shared weights. A Replica is
// not safe for concurrent use; use one per goroutine.
type Replica struct {
	net    *Net
	layers []layer
	bns    []*batchNorm
	// Grads[i] is the gradient of net.Params[i] (nil for non-trainable parameters).
	Grads  [][]float32
	rng    *rand.Rand
	logits []float32
	dlog   []float32
	rows   int
}

// NewReplica makes a replica whose dropout draws from a PCG stream seeded with (seed, stream).
func (n *Net) NewReplica(seed, stream uint64) *Replica {
	r := &Replica{net: n, Grads: make([][]float32, len(n.Params)), rng: rand.New(rand.NewPCG(seed, stream))}
	gradOf := func(p *Param) []float32 {
		for i, q := range n.Params {
			if q == p {
				if r.Grads[i] == nil {
					r.Grads[i] = make([]float32, len(p.Data))
				}
				return r.Grads[i]
			}
		}
		panic("cnn: parameter not in net") // unreachable: params come from n.byLayer
	}
	in := InputShape
	for i, l := range n.Arch {
		ps := n.byLayer[i]
		out := n.shapes[i]
		switch l.Kind {
		case KindConv:
			c := &conv{in: in, out: out, k: l.K, pad: l.Pad, w: ps[0], gw: gradOf(ps[0])}
			if l.Bias {
				c.b, c.gb = ps[1], gradOf(ps[1])
			}
			r.layers = append(r.layers, c)
		case KindDense:
			d := &dense{in: in.Size(), out: l.Out, w: ps[0], gw: gradOf(ps[0])}
			if l.Bias {
				d.b, d.gb = ps[1], gradOf(ps[1])
			}
			r.layers = append(r.layers, d)
		case KindBatchNorm:
			c := in.C
			b := &batchNorm{c: c, gamma: ps[0], beta: ps[1], mean: ps[2], vari: ps[3],
				ggamma: gradOf(ps[0]), gbeta: gradOf(ps[1]),
				bmean: make([]float32, c), bvar: make([]float32, c), invStd: make([]float32, c)}
			r.bns = append(r.bns, b)
			r.layers = append(r.layers, b)
		case KindReLU:
			r.layers = append(r.layers, &relu{})
		case KindMaxPool:
			r.layers = append(r.layers, &maxPool{in: in, out: out})
		case KindDropout:
			r.layers = append(r.layers, &dropout{p: l.P, rng: r.rng})
		}
		in = out
	}
	return r
}

// Forward returns the logits (n×10) for n samples of 784 floats each. The result is reused by the next call.
func (r *Replica) Forward(x []float32, n int, train bool) []float32 {
	r.rows = n
	h := x
	for _, l := range r.layers {
		h = l.forward(h, n, train)
	}
	r.logits = h
	return h
}

// Probabilities returns softmax outputs (n×10) in inference mode; the result is reused by the next call.
func (r *Replica) Probabilities(x []float32, n int) []float32 {
	logits := r.Forward(x, n, false)
	r.dlog = grow(r.dlog, len(logits))
	for i := 0; i < n; i++ {
		softmax(logits[i*Classes:(i+1)*Classes], r.dlog[i*Classes:(i+1)*Classes])
	}
	return r.dlog
}

func softmax(z, p []float32) {
	m := z[0]
	for _, v := range z[1:] {
		m = max(m, v)
	}
	var s float64
	for j, v := range z {
		e := math.Exp(float64(v - m))
		p[j] = float32(e)
		s += e
	}
	for j := range p {
		p[j] = float32(float64(p[j]) / s)
	}
}

// ZeroGrad clears the replica's gradients.
func (r *Replica) ZeroGrad() {
	for _, g := range r.Grads {
		clear(g)
	}
}

// TrainStep runs forward and backward in training mode on n samples and accumulates gradients of
// scale·Σ loss (pass scale = 1/global batch so summing replicas gives the batch mean). Targets are one-hot with
// label smoothing eps. It returns the summed (unscaled) loss and the number of correct argmax predictions.
func (r *Replica) TrainStep(x []float32, labels []uint8, scale, eps float32) (loss float64, correct int) {
	n := len(labels)
	logits := r.Forward(x, n, true)
	r.dlog = grow(r.dlog, len(logits))
	loss, correct = lossGrad(logits, labels, scale, eps, r.dlog)
	g := r.dlog
	for i := len(r.layers) - 1; i >= 0; i-- {
		g = r.layers[i].backward(g, n, i > 0)
	}
	return loss, correct
}

// lossGrad computes summed smoothed cross-entropy and writes scale·dL/dlogits into d. A label of Classes or
// more marks a sample that is not a digit: its target is the uniform distribution (it never counts as correct).
func lossGrad(logits []float32, labels []uint8, scale, eps float32, d []float32) (loss float64, correct int) {
	off := eps / Classes
	for i, lab := range labels {
		z := logits[i*Classes : (i+1)*Classes]
		p := d[i*Classes : (i+1)*Classes]
		softmax(z, p)
		best := 0
		for j := range z {
			if z[j] > z[best] {
				best = j
			}
			t := off
			switch {
			case int(lab) >= Classes:
				t = 1.0 / Classes // not a digit (a wrong cut): the uniform target
			case j == int(lab):
				t += 1 - eps
			}
			loss -= float64(t) * math.Log(max(float64(p[j]), 1e-30))
			p[j] = (p[j] - t) * scale
		}
		if best == int(lab) {
			correct++
		}
	}
	return loss, correct
}

// ReduceGrads sums the replicas' gradients into reps[0].Grads, in replica order so results are reproducible.
func ReduceGrads(reps []*Replica) {
	for i, g := range reps[0].Grads {
		if g == nil {
			continue
		}
		for _, r := range reps[1:] {
			for j, v := range r.Grads[i] {
				g[j] += v
			}
		}
	}
}

// UpdateBatchNorm folds the replicas' last training-batch statistics, pooled over replicas in order, into the
// running mean and variance with the given momentum (weight of the new batch).
func (n *Net) UpdateBatchNorm(reps []*Replica, momentum float64) {
	if len(reps) == 0 {
		return
	}
	for k, b0 := range reps[0].bns {
		var total float64
		for _, r := range reps {
			total += float64(r.rows)
		}
		for j := 0; j < b0.c; j++ {
			var mean float64
			for _, r := range reps {
				mean += float64(r.bns[k].bmean[j]) * float64(r.rows) / total
			}
			var v float64
			for _, r := range reps {
				d := float64(r.bns[k].bmean[j]) - mean
				v += (float64(r.bns[k].bvar[j]) + d*d) * float64(r.rows) / total
			}
			b0.mean.Data[j] = float32((1-momentum)*float64(b0.mean.Data[j]) + momentum*mean)
			b0.vari.Data[j] = float32((1-momentum)*float64(b0.vari.Data[j]) + momentum*v)
		}
	}
}

// Adam is the AdamW optimiser (decoupled weight decay on parameters marked Decay).
type Adam struct {
	Beta1, Beta2, Eps, WeightDecay float64
	m, v                           [][]float32
	t                              int
}

// NewAdam returns AdamW with the usual betas and the given decoupled weight decay.
func NewAdam(weightDecay float64) *Adam {
	return &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay}
}

// Step applies one update with learning rate lr from grads (aligned with net.Params).
func (o *Adam) Step(net *Net, grads [][]float32, lr float64) {
	if o.m == nil {
		o.m = make([][]float32, len(net.Params))
		o.v = make([][]float32, len(net.Params))
		for i, p := range net.Params {
			if p.Trainable {
				o.m[i] = make([]float32, len(p.Data))
				o.v[i] = make([]float32, len(p.Data))
			}
		}
	}
	o.t++
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	c1 := 1 - math.Pow(o.Beta1, float64(o.t))
	c2 := 1 - math.Pow(o.Beta2, float64(o.t))
	stepSize := float32(lr * math.Sqrt(c2) / c1)
	eps := float32(o.Eps * math.Sqrt(c2))
	for i, p := range net.Params {
		if !p.Trainable {
			continue
		}
		g, m, v := grads[i], o.m[i], o.v[i]
		decay := float32(0)
		if p.Decay {
			decay = float32(lr * o.WeightDecay)
		}
		for j := range p.Data {
			m[j] = b1*m[j] + (1-b1)*g[j]
			v[j] = b2*v[j] + (1-b2)*g[j]*g[j]
			p.Data[j] -= stepSize*m[j]/(float32(math.Sqrt(float64(v[j])))+eps) + decay*p.Data[j]
		}
	}
}
