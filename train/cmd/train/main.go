// Command train trains the digit model and writes model.onnx, model.json and report/*.png (until the digitpad
// CLI's train subcommand is wired, `go run ./train/cmd/train -out assets` does the same).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"digitpad/train"
)

func main() {
	var c train.Config
	flag.StringVar(&c.Out, "out", "assets", "output directory")
	flag.IntVar(&c.Epochs, "epochs", 0, "epochs (0 = default)")
	flag.Uint64Var(&c.Seed, "seed", 1, "random seed")
	flag.IntVar(&c.Limit, "limit", 0, "use only the first N training samples")
	flag.IntVar(&c.Steps, "steps", 0, "stop after N optimiser steps (CI)")
	flag.IntVar(&c.Val, "val", 0, "validation split size from the end of the training set (0 = 5000)")
	flag.StringVar(&c.MNIST, "mnist", "", "MNIST directory (default $DIGITPAD_MNIST or the GoMNIST module)")
	flag.IntVar(&c.Workers, "workers", 2, "data-parallel workers")
	flag.IntVar(&c.Batch, "batch", 0, "global batch size (0 = 128)")
	flag.Float64Var(&c.LR, "lr", 0, "peak learning rate (0 = 3e-3)")
	flag.StringVar(&c.Arch, "arch", "", "architecture (see cnn.ParseArch)")
	flag.BoolVar(&c.NoAugment, "no-augment", false, "train without augmentation")
	flag.BoolVar(&c.ExportBatch1, "batch1", false, "also write model-b1.onnx with batch dimension 1")
	flag.StringVar(&c.Checkpoint, "checkpoint", "", "also save the chosen weights (gob) to this file")
	flag.Parse()
	c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := train.Run(ctx, c, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
	fmt.Printf("model %s (sha256 %s)\nval accuracy %.4f, MNIST test accuracy %.4f, best epoch %d, %.0f s\n",
		rep.ModelPath, rep.SHA256, rep.ValAccuracy, rep.TestAccuracy, rep.BestEpoch, rep.Seconds)
}
