package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"digitpad/monitor"
	"digitpad/monitor/traffic"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/train/mnist"
)

// Reference data of the profile: the last 5,000 MNIST training images, the validation slice the trainer picks
// checkpoints on (never the test set), composited into 5-digit codes.
const (
	profileFrom = 55000
	profileTo   = 60000
)

func runProfile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile", "profile --model FILE.onnx [--card FILE.json] [--mnist DIR] [--seed S]", stderr)
	modelPath := fs.String("model", "", "ONNX model file (required); its card is FILE with .json unless --card is given")
	cardPath := fs.String("card", "", "model card to write the reference profile into (default: the model's .json)")
	mnistDir := fs.String("mnist", "", "folder with the MNIST idx files (default: found in the GoMNIST Go module)")
	seed := fs.Uint64("seed", 1, "seed of the code layout, the embedding sample and the bootstrap")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *modelPath == "" {
		return fmt.Errorf("profile: --model is required")
	}
	if *cardPath == "" {
		*cardPath = strings.TrimSuffix(*modelPath, ".onnx") + ".json"
	}
	lm, err := loadModel(*modelPath, "fp32")
	if err != nil {
		return err
	}
	rec, err := lm.Recognizer(recognize.Config{})
	if err != nil {
		return err
	}
	onnx, err := os.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	g, err := onnxload.Decode(onnx)
	if err != nil {
		return err
	}
	emb, tap, err := monitor.NewModelEmbedder(g, lm.Card.InputScale)
	if err != nil {
		return err
	}
	dir, err := mnist.Locate(ctx, *mnistDir)
	if err != nil {
		return err
	}
	train, _, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	if train.Len() < profileTo {
		return fmt.Errorf("profile: MNIST training set has %d images, want %d", train.Len(), profileTo)
	}
	start := time.Now()
	source := fmt.Sprintf("MNIST training images %d-%d (the validation slice), composited into 5-digit codes "+
		"(monitor/traffic.MNISTCode, seed %d)", profileFrom, profileTo-1, *seed)
	b := monitor.NewBuilder(emb, tap, source)
	if err := addMNISTCodes(ctx, b, rec, train, profileFrom, profileTo, *seed); err != nil {
		return err
	}
	p, err := b.Build(*seed)
	if err != nil {
		return err
	}
	card, err := os.ReadFile(*cardPath)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	out, err := monitor.SetCardField(card, monitor.CardField, p)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*cardPath, out, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "profile: %s: %d codes, %d digits, reference accuracy %.4f, false alarms at window %v: %v (%.1fs)\n",
		*cardPath, p.Codes, p.Digits, p.Accuracy, monitor.WindowSizes, falseAlarms(p), time.Since(start).Seconds())
	return nil
}

func falseAlarms(p *monitor.Profile) []float64 {
	var fa []float64
	for _, w := range p.Windows {
		fa = append(fa, w.FalseAlarm)
	}
	return fa
}

// addMNISTCodes recognises MNIST images [from, to) composited 5 to a code and adds them to the builder.
func addMNISTCodes(ctx context.Context, b *monitor.Builder, rec *recognize.Recognizer, set *mnist.Set, from, to int, seed uint64) error {
	for i := from; i+5 <= to; i += 5 {
		if err := ctx.Err(); err != nil {
			return err
		}
		digits := make([][784]float32, 5)
		labels := make([]int, 5)
		for k := range 5 {
			copy(digits[k][:], set.Image(i+k))
			labels[k] = int(set.Labels[i+k])
		}
		c, err := traffic.MNISTCode(digits, labels, seed+uint64(i))
		if err != nil {
			return err
		}
		res, err := rec.Image(c.Image, recognize.Options{})
		if err != nil {
			continue // a canvas the recogniser rejects is not part of any window either
		}
		p := monitor.FromResult(res, "", time.Time{})
		p.Labels = labels
		if err := b.Add(&p); err != nil {
			return err
		}
	}
	return nil
}
