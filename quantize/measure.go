package quantize

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"time"

	"digitpad/shared/model"
	"digitpad/train/augment"
	"digitpad/train/mnist"
)

// PadLikeSeed fixes the augmentation of the pad-like validation set, so every variant is scored on the same
// images.
const PadLikeSeed = 20261127

// PadLike returns the validation split augmented once per sample with the training augmentation (rotation,
// shear, stroke thickness, elastic distortion, re-normalisation): digits as the pad produces them.
func PadLike(val *mnist.Set) *mnist.Set {
	rng := rand.New(rand.NewPCG(PadLikeSeed, 5))
	aug := augment.New(augment.Default())
	out := &mnist.Set{Images: make([]float32, len(val.Images)), Labels: append([]uint8(nil), val.Labels...), Rows: val.Rows, Cols: val.Cols}
	for i := 0; i < val.Len(); i++ {
		aug.Apply(rng, val.Image(i), out.Image(i))
	}
	return out
}

// Scores are a model's predictions on a labelled set.
type Scores struct {
	Accuracy  float64
	Errors    int
	Confusion [10][10]int
	Preds     []uint8
}

// Score runs m on every image of set (pixel values multiplied by inputScale) in batches of 64.
func Score(m *model.Model, set *mnist.Set, inputScale float32) (*Scores, error) {
	const batch = 64
	n := set.Len()
	if m.InputSize() != set.Size() || m.OutputSize() < 10 {
		return nil, fmt.Errorf("model takes %d inputs and gives %d outputs, set has %d pixels and 10 classes", m.InputSize(), m.OutputSize(), set.Size())
	}
	in := make([]float32, batch*set.Size())
	out := make([]float32, batch*m.OutputSize())
	s := &Scores{Preds: make([]uint8, n)}
	for start := 0; start < n; start += batch {
		b := min(batch, n-start)
		for i, v := range set.Images[start*set.Size() : (start+b)*set.Size()] {
			in[i] = v * inputScale
		}
		if err := m.Run(in[:b*set.Size()], b, out[:b*m.OutputSize()]); err != nil {
			return nil, err
		}
		for i := 0; i < b; i++ {
			row := out[i*m.OutputSize() : (i+1)*m.OutputSize()]
			best := 0
			for j, v := range row[:10] {
				if v > row[best] {
					best = j
				}
			}
			p := uint8(best)
			s.Preds[start+i] = p
			s.Confusion[set.Labels[start+i]][p]++
			if p != set.Labels[start+i] {
				s.Errors++
			}
		}
	}
	s.Accuracy = 1 - float64(s.Errors)/float64(n)
	return s, nil
}

// Agreement is the fraction of equal predictions.
func Agreement(a, b []uint8) float64 {
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(len(a))
}

// MeasureLatency is the mean wall time per digit of m.Run at batch size batch, measured for about d after warm-up.
func MeasureLatency(m *model.Model, batch int, d time.Duration) (time.Duration, error) {
	in := make([]float32, batch*m.InputSize())
	for i := range in {
		in[i] = float32(i%7) / 7
	}
	out := make([]float32, batch*m.OutputSize())
	for range 3 + 200/batch {
		if err := m.Run(in, batch, out); err != nil {
			return 0, err
		}
	}
	iters := 0
	start := time.Now()
	for time.Since(start) < d || iters < 3 {
		if err := m.Run(in, batch, out); err != nil {
			return 0, err
		}
		iters++
	}
	return time.Since(start) / time.Duration(iters*batch), nil
}

// GzipSize is the size of b compressed with gzip -9 (what a browser download costs with compression on).
func GzipSize(b []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Len()
}
