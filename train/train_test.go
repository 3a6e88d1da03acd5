package train_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"digitpad/shared/model/onnxload"
	"digitpad/train"
	"digitpad/train/mnist"
	"digitpad/train/report"
)

// tinyArch keeps the tests fast; the pipeline is the same for the shipped architecture.
const tinyArch = "conv3x8p1-bn-relu-pool-fc10"

var (
	mnistOnce sync.Once
	mnistData *train.Data
	mnistErr  error
)

// mustMNIST loads MNIST from the GoMNIST module once and keeps a 500-sample validation split and the first
// 1000 test samples.
func mustMNIST(t *testing.T) *train.Data {
	t.Helper()
	mnistOnce.Do(func() {
		dir, err := mnist.Locate(t.Context(), "")
		if err != nil {
			mnistErr = err
			return
		}
		tr, te, err := mnist.Load(dir)
		if err != nil {
			mnistErr = err
			return
		}
		mnistData, mnistErr = train.Split(tr, te.Slice(0, 1000), 500, 0)
	})
	if mnistErr != nil {
		t.Fatal(mnistErr)
	}
	d := *mnistData
	return &d
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func fixedClock() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }

func TestRunData_LearnsAndWritesModelCardAndPlots(t *testing.T) {
	data := mustMNIST(t)
	data.Train = data.Train.Slice(0, 3200)
	out := t.TempDir()
	cfg := train.Config{Out: out, Arch: tinyArch, Batch: 32, Epochs: 2, Seed: 3, Logger: quiet(), Now: fixedClock}
	var progress bytes.Buffer
	rep, err := train.RunData(t.Context(), cfg, data, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Steps != 200 || len(rep.History) != 2 {
		t.Fatalf("steps %d epochs %d, want 200 and 2", rep.Steps, len(rep.History))
	}
	if first, last := rep.History[0].TrainLoss, rep.History[1].TrainLoss; last >= first {
		t.Errorf("training loss went from %.3f to %.3f, want a decrease", first, last)
	}
	if rep.TestAccuracy < 0.75 || rep.ValAccuracy < 0.75 {
		t.Errorf("val %.3f test %.3f after 200 steps, want well above chance (0.1)", rep.ValAccuracy, rep.TestAccuracy)
	}
	if !strings.Contains(progress.String(), "epoch 2/2") {
		t.Error("no progress bar output")
	}

	onnxBytes, err := os.ReadFile(filepath.Join(out, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(onnxBytes)
	var card report.Card
	cardBytes, err := os.ReadFile(filepath.Join(out, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cardBytes, &card); err != nil {
		t.Fatal(err)
	}
	if card.SHA256 != hex.EncodeToString(sum[:]) || card.SHA256 != rep.SHA256 {
		t.Errorf("card sha256 %s, file %x", card.SHA256, sum)
	}
	if card.Metrics.TestAccuracy != rep.TestAccuracy || card.Architecture.Spec != tinyArch ||
		card.Input != "float32 [N,1,28,28], 0..1, ink=1" || card.Training.Seed != 3 || card.Date != "2026-11-22T12:00:00Z" {
		t.Errorf("card does not describe the run: %+v", card)
	}
	for _, p := range []string{"learning_curves.png", "confusion.png"} {
		b, err := os.ReadFile(filepath.Join(out, "report", p))
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: not a PNG (err %v)", p, err)
		}
	}

	// The exported model reproduces the reported test accuracy in the product runtime.
	m, err := onnxload.Load(onnxBytes)
	if err != nil {
		t.Fatal(err)
	}
	probs := make([]float32, data.Test.Len()*10)
	if err := m.Run(data.Test.Images, data.Test.Len(), probs); err != nil {
		t.Fatal(err)
	}
	var correct int
	for i, lab := range data.Test.Labels {
		best := 0
		for j := range 10 {
			if probs[i*10+j] > probs[i*10+best] {
				best = j
			}
		}
		if best == int(lab) {
			correct++
		}
	}
	// One sample of slack: a near-tie may break differently under the runtime's float32 kernels.
	if got := float64(correct) / float64(data.Test.Len()); math.Abs(got-rep.TestAccuracy) > 1.5/float64(data.Test.Len()) {
		t.Errorf("runtime accuracy %.4f, trainer reported %.4f", got, rep.TestAccuracy)
	}
}

func TestRunData_DeterministicGivenSeed(t *testing.T) {
	data := mustMNIST(t)
	data.Train = data.Train.Slice(0, 640)
	run := func(seed uint64) string {
		cfg := train.Config{Out: t.TempDir(), Arch: "conv3x8p1-bn-relu-pool-fc16-relu-drop0.1-fc10", Batch: 32, Epochs: 1, Steps: 12,
			Seed: seed, Logger: quiet(), Now: fixedClock}
		rep, err := train.RunData(t.Context(), cfg, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		return rep.SHA256
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("same seed gave different models: %s vs %s", a, b)
	}
	if a == c {
		t.Error("different seeds gave the same model")
	}
}

func TestRun_RejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  train.Config
		want string
	}{
		{"negative epochs", train.Config{Epochs: -1}, "negative"},
		{"batch below workers", train.Config{Batch: 2, Workers: 3}, "batch"},
		{"bad arch", train.Config{Arch: "conv3x8-fc7"}, "fc10"},
		{"missing MNIST", train.Config{MNIST: "/nonexistent"}, "nonexistent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = quiet()
			tc.cfg.Out = t.TempDir()
			_, err := train.Run(t.Context(), tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestSplit_ValidationComesFromTheEndOfTraining(t *testing.T) {
	set := &mnist.Set{Images: make([]float32, 10*784), Labels: []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Rows: 28, Cols: 28}
	d, err := train.Split(set, set, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Val.Labels; string(got) != string([]uint8{7, 8, 9}) {
		t.Errorf("val labels %v, want the last three", got)
	}
	if got := d.Train.Labels; string(got) != string([]uint8{0, 1, 2, 3}) {
		t.Errorf("train labels %v, want the first four (limit)", got)
	}
	if _, err := train.Split(set, set, 10, 0); err == nil {
		t.Error("a validation split as large as the data was accepted")
	}
}
