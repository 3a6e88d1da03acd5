package train

import "flag"

// RegisterFlags binds the command-line flags of `digitpad train` to c's fields on fs; values already in c are
// the flag defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Out, "out", c.Out, "output directory for model.onnx, model.json and report/ (default assets)")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "epochs (0 = 12)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed (0 = 1)")
	fs.IntVar(&c.Limit, "limit", c.Limit, "use only the first N training samples (0 = all)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "stop after N optimiser steps (0 = all epochs; for CI)")
	fs.IntVar(&c.Val, "val", c.Val, "validation split size, taken from the end of the training set (0 = 5000)")
	fs.StringVar(&c.MNIST, "mnist", c.MNIST, "MNIST idx directory (default $DIGITPAD_MNIST or the GoMNIST module)")
	fs.IntVar(&c.Workers, "workers", c.Workers, "data-parallel workers (0 = 2)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "global batch size (0 = 128)")
	fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate of the one-cycle schedule (0 = 3e-3)")
	fs.StringVar(&c.Arch, "arch", c.Arch, "layer stack, e.g. conv5x24p2-bn-relu-pool-...-fc10 (empty = default)")
	fs.BoolVar(&c.NoAugment, "no-augment", c.NoAugment, "train without augmentation")
	fs.BoolVar(&c.ExportBatch1, "batch1", c.ExportBatch1, "also write model-b1.onnx with a fixed batch dimension of 1")
	fs.IntVar(&c.Synth, "synth", c.Synth, "add N digits of synthetic training writers to the training split")
	fs.Float64Var(&c.SynthSlanted, "synth-slanted", c.SynthSlanted, "share of the --synth writers given a strong slant (rare among steady hands)")
	fs.Float64Var(&c.SynthHairline, "synth-hairline", c.SynthHairline, "share of the --synth writers given a hairline pen (strong-contrast nib or very thin pen)")
	fs.Float64Var(&c.SynthFlatThree, "synth-flat3", c.SynthFlatThree, "share of the --synth writers whose 3 has a flat top")
	fs.IntVar(&c.SynthVal, "synth-val", c.SynthVal, "add N digits of synthetic validation writers to the validation split")
	fs.IntVar(&c.Canvas, "canvas", c.Canvas, "add N MNIST training digits redrawn as canvases and re-read by the pad pipeline")
	fs.IntVar(&c.Codes, "codes", c.Codes, "add N digit crops cut from 5-digit codes of synthetic training writers (most tight)")
	fs.IntVar(&c.Outliers, "outliers", c.Outliers, "add N wrong cuts of those codes (half or merged digits) with the uniform target")
	fs.StringVar(&c.Init, "init", c.Init, "fine-tune from this ONNX model (BatchNorm folded; --arch is ignored)")
	fs.Float64Var(&c.Wise, "wise", c.Wise, "with --init: keep this share of the fine-tuned weights, the rest from --init (WiSE-FT; 0 = all fine-tuned)")
	fs.StringVar(&c.Checkpoint, "checkpoint", c.Checkpoint, "also save the chosen weights (gob) to this file")
}
