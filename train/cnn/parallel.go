package cnn

import "sync"

// Parallel trains a Net data-parallel, one Replica per worker: worker w takes the w-th contiguous shard of each
// batch, gradients are summed in worker order (results do not depend on scheduling), the BatchNorm statistics
// are pooled over the workers, and AdamW updates the shared weights. train.Run and retrain.Fit both step with it.
type Parallel struct {
	Net  *Net
	Reps []*Replica
	Opt  *Adam
	xs   [][]float32
	ls   [][]uint8
}

// NewParallel makes workers (at least one) replicas of net, whose dropout draws from the PCG streams
// (seed, stream0+w), and an AdamW optimiser with the given weight decay.
func NewParallel(net *Net, workers int, seed, stream0 uint64, weightDecay float64) *Parallel {
	p := &Parallel{Net: net, Opt: NewAdam(weightDecay)}
	for w := 0; w < max(1, workers); w++ {
		p.Reps = append(p.Reps, net.NewReplica(seed, stream0+uint64(w)))
	}
	p.xs = make([][]float32, len(p.Reps))
	p.ls = make([][]uint8, len(p.Reps))
	return p
}

// Step runs one optimiser step with learning rate lr and label smoothing eps on the batch idx (sample indices).
// fill(w, si, dst) writes sample si's input (InputShape.Size() values) into dst and returns its label; it runs
// on worker w's goroutine, so it may use per-worker state indexed by w. Step returns the workers' summed loss
// (each the mean over the batch's share) and the number of samples classified right.
func (p *Parallel) Step(idx []int, lr float64, eps float32, fill func(w, si int, dst []float32) uint8) (loss float64, correct int) {
	W := len(p.Reps)
	size := InputShape.Size()
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
			if cap(p.xs[w]) < len(shard)*size {
				p.xs[w] = make([]float32, len(shard)*size)
			}
			x := p.xs[w][:len(shard)*size]
			labels := p.ls[w][:0]
			for i, si := range shard {
				labels = append(labels, fill(w, si, x[i*size:(i+1)*size]))
			}
			p.ls[w] = labels
			r := p.Reps[w]
			r.ZeroGrad()
			losses[w], corrects[w] = r.TrainStep(x, labels, scale, eps)
		}()
	}
	wg.Wait()
	ReduceGrads(p.Reps)
	p.Net.UpdateBatchNorm(p.Reps, 0.1)
	p.Opt.Step(p.Net, p.Reps[0].Grads, lr)
	for w := range losses {
		loss += losses[w]
		correct += corrects[w]
	}
	return loss, correct
}
