package retrain

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"digitpad/train/augment"
	"digitpad/train/cnn"
	"digitpad/train/report"
)

// Mix is the training data of one retrain: images (n×784, 0..1), labels, and which samples the pad-style
// augmentation applies to (MNIST's clean digits; clerks' inputs are already pad-made).
type Mix struct {
	Images  []float32
	Labels  []uint8
	Augment []bool
}

// Len is the number of samples.
func (m *Mix) Len() int { return len(m.Labels) }

// Add appends one sample repeated times.
func (m *Mix) Add(img []float32, label uint8, aug bool, times int) {
	for k := 0; k < times; k++ {
		m.Images = append(m.Images, img...)
		m.Labels = append(m.Labels, label)
		m.Augment = append(m.Augment, aug)
	}
}

// FitConfig are the optimiser settings of a retrain.
type FitConfig struct {
	Steps, Batch, Workers int
	LR, WeightDecay       float64
	Seed                  uint64
	// LabelSmoothing is the target smoothing epsilon.
	LabelSmoothing float64
	// CurveEvery records a learning-curve point every so many steps, evaluated on Val.
	CurveEvery int
}

// Fit trains net on mix with AdamW and a cosine-decayed learning rate, returning the learning curve (one point
// per CurveEvery steps; ValAcc on val when given). progress gets one line per curve point.
func Fit(ctx context.Context, net *cnn.Net, mix *Mix, val *Mix, c FitConfig, progress io.Writer) ([]report.Epoch, error) {
	if mix.Len() < c.Batch {
		return nil, fmt.Errorf("retrain: %d training samples, fewer than one batch of %d", mix.Len(), c.Batch)
	}
	par := cnn.NewParallel(net, c.Workers, c.Seed, 2000, c.WeightDecay)
	augs := make([]*augment.Augmenter, len(par.Reps))
	for w := range augs {
		augs[w] = augment.New(augment.Default())
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x7e7a))
	perm := rng.Perm(mix.Len())
	pos := 0
	var curve []report.Epoch
	var lossSum float64
	var correct, seen int
	for step := 0; step < c.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("retrain: %w", err)
		}
		if pos+c.Batch > len(perm) {
			perm, pos = rng.Perm(mix.Len()), 0
		}
		idx := perm[pos : pos+c.Batch]
		pos += c.Batch
		lr := c.LR * (0.02 + 0.98*0.5*(1+math.Cos(math.Pi*float64(step)/float64(c.Steps))))
		loss, right := par.Step(idx, lr, float32(c.LabelSmoothing), func(w, si int, dst []float32) uint8 {
			src := mix.Images[si*784 : (si+1)*784]
			if mix.Augment[si] {
				augs[w].Apply(rand.New(rand.NewPCG(c.Seed^0x5a5a, uint64(step)<<32|uint64(si))), src, dst)
			} else {
				copy(dst, src)
			}
			return mix.Labels[si]
		})
		lossSum += loss
		correct += right
		seen += len(idx)
		if c.CurveEvery > 0 && ((step+1)%c.CurveEvery == 0 || step+1 == c.Steps) {
			ep := report.Epoch{Epoch: step + 1, Steps: step + 1, TrainLoss: lossSum / float64(seen),
				TrainAcc: float64(correct) / float64(seen), LR: lr}
			if val != nil && val.Len() > 0 {
				ep.ValAcc = accuracy(net, val)
			}
			curve = append(curve, ep)
			fmt.Fprintf(progress, "retrain: step %d/%d loss %.4f train acc %.2f%% val acc %.2f%%\n", step+1, c.Steps,
				ep.TrainLoss, 100*ep.TrainAcc, 100*ep.ValAcc)
			lossSum, correct, seen = 0, 0, 0
		}
	}
	return curve, nil
}

// accuracy is the trainer-side accuracy of net on m (inference mode).
func accuracy(net *cnn.Net, m *Mix) float64 {
	r := net.NewReplica(0, 0)
	right := 0
	const chunk = 256
	for from := 0; from < m.Len(); from += chunk {
		to := min(from+chunk, m.Len())
		p := r.Probabilities(m.Images[from*784:to*784], to-from)
		for i := from; i < to; i++ {
			if argmax(p[(i-from)*10:(i-from+1)*10]) == int(m.Labels[i]) {
				right++
			}
		}
	}
	return float64(right) / float64(m.Len())
}

func argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
