// Command trainpair trains the two halves of a reader of digit pairs (ink.Lattice.Pair inputs): one model that
// reads the left digit of a two-digit piece and one that reads the right digit, each with the digit model's
// trainer, exporter and runtime (28×28 in, 10 out). Training data: pair pieces the recogniser's lattice offers
// for 5-digit codes of synthetic TRAINING writers (plus wrong pieces with the uniform target) and MNIST training
// digits composited in touching pairs; checkpoints are chosen on pairs of VALIDATION writers. Evaluation writers
// are never used.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"digitpad/quantize"
	"digitpad/shared/synth"
	"digitpad/train"
	"digitpad/train/mnist"
)

func main() {
	out := flag.String("out", "pair", "output folder (left/ and right/ model and card)")
	n := flag.Int("n", 30000, "training pairs")
	outliers := flag.Int("outliers", 6000, "training pieces that are not pairs (uniform target)")
	mnistShare := flag.Float64("mnist-share", 0.3, "share of the training pairs made of MNIST training digits")
	valN := flag.Int("val", 3000, "validation pairs (validation writers)")
	epochs := flag.Int("epochs", 4, "epochs")
	arch := flag.String("arch", "conv5x24p2-bn-relu-pool-conv3x32-bn-relu-pool-conv3x48-bn-relu-fc96-bn-relu-fc10", "architecture (cnn.ParseArch)")
	seed := flag.Uint64("seed", 1, "seed")
	quantizeOnly := flag.Bool("quantize-only", false, "only (re)write the int8 models from the trained ones in -out")
	flag.Parse()
	var err error
	if *quantizeOnly {
		err = quantizeAll(*out, *mnistShare, *seed)
	} else {
		err = run(*out, *n, *outliers, *valN, *epochs, *mnistShare, *arch, *seed)
	}
	if err != nil {
		slog.Error("trainpair", "err", err)
		os.Exit(1)
	}
}

func run(out string, n, outliers, valN, epochs int, mnistShare float64, arch string, seed uint64) error {
	ctx := context.Background()
	dir, err := mnist.Locate(ctx, "")
	if err != nil {
		return err
	}
	all, _, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	mtrain := all.Slice(0, all.Len()-5000) // the digit model's validation split stays out, as in train.Split
	trainSet, err := train.MakePairSet(train.PairOptions{Writers: synth.TrainWriters, N: n, Outliers: outliers,
		MNIST: mtrain, MNISTShare: mnistShare, Seed: seed})
	if err != nil {
		return err
	}
	valSet, err := train.MakePairSet(train.PairOptions{Writers: synth.ValWriters, N: valN, Seed: seed + 1000})
	if err != nil {
		return err
	}
	slog.Info("pairs", "train", trainSet.Left.Len(), "val", valSet.Left.Len())
	for _, side := range []struct {
		name       string
		train, val *mnist.Set
	}{{"left", trainSet.Left, valSet.Left}, {"right", trainSet.Right, valSet.Right}} {
		cfg := train.Config{Out: filepath.Join(out, side.name), Epochs: epochs, Seed: seed, Arch: arch,
			Name: "digitpad-pair-" + side.name}
		rep, err := train.RunData(ctx, cfg, &train.Data{Train: side.train, Val: side.val, Test: side.val}, nil)
		if err != nil {
			return err
		}
		slog.Info("trained", "side", side.name, "val_acc", rep.ValAccuracy, "seconds", rep.Seconds)
	}
	return quantizeAll(out, mnistShare, seed)
}

// quantizeAll writes out/pair-left.onnx and out/pair-right.onnx, the int8 variants of the trained models in
// out/left and out/right, calibrated on calibPairs pair inputs of training writers and MNIST training digits
// drawn apart from the training set (seed+500).
func quantizeAll(out string, mnistShare float64, seed uint64) error {
	dir, err := mnist.Locate(context.Background(), "")
	if err != nil {
		return err
	}
	all, _, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	calib, err := train.MakePairSet(train.PairOptions{Writers: synth.TrainWriters, N: calibPairs,
		MNIST: all.Slice(0, all.Len()-5000), MNISTShare: mnistShare, Seed: seed + 500})
	if err != nil {
		return err
	}
	for _, side := range []string{"left", "right"} {
		b, err := os.ReadFile(filepath.Join(out, side, "model.onnx"))
		if err != nil {
			return fmt.Errorf("trainpair: %w", err)
		}
		q, _, err := quantize.Int8(b, calib.Left.Images, calib.Left.Len())
		if err != nil {
			return fmt.Errorf("trainpair: quantise %s: %w", side, err)
		}
		if err := os.WriteFile(filepath.Join(out, "pair-"+side+".onnx"), q, 0o644); err != nil {
			return fmt.Errorf("trainpair: %w", err)
		}
	}
	return nil
}

// calibPairs is how many pair inputs calibrate the int8 quantisation (as the digit model's 1000 digits).
const calibPairs = 1000
