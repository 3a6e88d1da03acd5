package retrain

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"digitpad/train/report"
)

// The report is a readable PNG with one tile per plot.
func TestWriteReport(t *testing.T) {
	mk := func(name string, right int) *Scores {
		s := &Scores{Set: name, N: 1000}
		for d := 0; d < 10; d++ {
			s.Confusion[d][d] = right
			s.Confusion[d][(d+1)%10] = 100 - right
			s.ClassN[d] = 100
			s.PerClass[d] = float64(right) / 100
		}
		s.Accuracy = float64(right) / 100
		return s
	}
	ev := &Evaluation{Base: ModelScores{MNIST: mk("MNIST test", 99), Holdout: mk("holdout", 70), Synth: mk("synthetic", 98)},
		Cand: ModelScores{MNIST: mk("MNIST test", 99), Holdout: mk("holdout", 80), Synth: mk("synthetic", 99)}}
	curve := []report.Epoch{{Steps: 100, TrainLoss: 0.3, ValAcc: 0.99}, {Steps: 200, TrainLoss: 0.2, ValAcc: 0.995}}
	path := filepath.Join(t.TempDir(), "retrain.png")
	if err := writeReport(path, ev, curve); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// 3 per-class plots, 2 confusion deltas, 1 learning curve: two rows of three tiles.
	if b := img.Bounds(); b.Dx() <= b.Dy() || b.Dy() < 400 {
		t.Fatalf("report is %v, want two rows of three tiles", b)
	}
	if os.Getenv("DIGITPAD_KEEP_REPORT") != "" {
		data, _ := os.ReadFile(path)
		_ = os.WriteFile(os.Getenv("DIGITPAD_KEEP_REPORT"), data, 0o644)
	}
}
