package retrain

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"

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
	W := max(1, c.Workers)
	reps := make([]*cnn.Replica, W)
	augs := make([]*augment.Augmenter, W)
	for w := range reps {
		reps[w] = net.NewReplica(c.Seed, uint64(2000+w))
		augs[w] = augment.New(augment.Default())
	}
	opt := cnn.NewAdam(c.WeightDecay)
	rng := rand.New(rand.NewPCG(c.Seed, 0x7e7a))
	perm := rng.Perm(mix.Len())
	pos := 0
	var curve []report.Epoch
	var lossSum float64
	var correct, seen int
	xs := make([][]float32, W)
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
		losses := make([]float64, W)
		corrects := make([]int, W)
		scale := float32(1 / float64(len(idx)))
		var wg sync.WaitGroup
		for w := 0; w < W; w++ {
			lo, hi := w*len(idx)/W, (w+1)*len(idx)/W
			wg.Add(1)
			go func() {
				defer wg.Done()
				shard := idx[lo:hi]
				if cap(xs[w]) < len(shard)*784 {
					xs[w] = make([]float32, len(shard)*784)
				}
				x := xs[w][:len(shard)*784]
				labels := make([]uint8, len(shard))
				for i, si := range shard {
					src := mix.Images[si*784 : (si+1)*784]
					dst := x[i*784 : (i+1)*784]
					if mix.Augment[si] {
						r := rand.New(rand.NewPCG(c.Seed^0x5a5a, uint64(step)<<32|uint64(si)))
						augs[w].Apply(r, src, dst)
					} else {
						copy(dst, src)
					}
					labels[i] = mix.Labels[si]
				}
				reps[w].ZeroGrad()
				losses[w], corrects[w] = reps[w].TrainStep(x, labels, scale, float32(c.LabelSmoothing))
			}()
		}
		wg.Wait()
		cnn.ReduceGrads(reps)
		net.UpdateBatchNorm(reps, 0.1)
		opt.Step(net, reps[0].Grads, lr)
		for w := range losses {
			lossSum += losses[w]
			correct += corrects[w]
		}
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
