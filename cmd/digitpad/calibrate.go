package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"digitpad/shared/recognize"
	"digitpad/shared/synth"
	"digitpad/train"
	"digitpad/train/mnist"
	"digitpad/train/report"
)

// calibration is the "calibration" object of a model card.
type calibration struct {
	Temperature       float64           `json:"temperature"`
	Threshold         float64           `json:"confirm_threshold"`
	TargetSilentError float64           `json:"target_silent_error_rate"`
	MetTarget         bool              `json:"met_target"`
	ConfirmRate       float64           `json:"validation_confirm_rate"`
	SilentErrorRate   float64           `json:"validation_silent_error_rate"`
	Validation        string            `json:"validation"`
	Curve             []train.RiskPoint `json:"risk_coverage"`
}

func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibrate", "calibrate --model FILE [--codes N] [--digits N] [--target RATE] [--plot PNG]", stderr)
	modelPath := fs.String("model", "", "ONNX model whose card (FILE with .json) gets the calibration (required)")
	codes := fs.Int("codes", 800, "validation codes (5 digits, synthetic validation writers) for the confirm threshold")
	digits := fs.Int("digits", 5000, "synthetic validation-writer digits added to the MNIST validation split for the temperature")
	val := fs.Int("val", 5000, "MNIST validation split: the last N training samples (as in training)")
	target := fs.Float64("target", 0.004, "highest silent-error rate of codes accepted on validation")
	format := fs.String("format", "5", "code format the threshold is chosen for")
	plotPath := fs.String("plot", "", "risk-coverage PNG (default: report/risk_coverage.png beside the model)")
	mnistDir := fs.String("mnist", "", "folder with the MNIST idx files (default: found in the GoMNIST Go module)")
	seed := fs.Uint64("seed", 1, "seed of the synthetic validation data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *modelPath == "" {
		fs.Usage()
		return errors.New("calibrate: --model is required")
	}
	if *target <= 0 || *target >= 1 || *codes < 50 || *digits < 0 || *val < 0 {
		return errors.New("calibrate: want 0 < target < 1, codes >= 50, digits and val >= 0")
	}
	lm, err := loadModel(*modelPath, "fp32")
	if err != nil {
		return err
	}
	// Temperature on validation digits: the MNIST split training chose checkpoints on, plus validation writers.
	dir, err := mnist.Locate(ctx, *mnistDir)
	if err != nil {
		return err
	}
	trainAll, _, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	sets := []*mnist.Set{trainAll.Slice(trainAll.Len()-*val, trainAll.Len())}
	if *digits > 0 {
		s, err := train.SynthSet(train.SynthOptions{Writers: synth.ValWriters, N: *digits, Seed: *seed})
		if err != nil {
			return err
		}
		sets = append(sets, s)
	}
	raw, err := recognize.New(lm.Model, recognize.ModelInfo{Name: lm.Card.Name}, recognize.Config{InputScale: lm.Card.InputScale})
	if err != nil {
		return err
	}
	var probs []float32
	var labels []uint8
	for _, s := range sets {
		for from := 0; from < s.Len(); from += 256 {
			to := min(s.Len(), from+256)
			in := make([][784]float32, to-from)
			for i := range in {
				copy(in[i][:], s.Image(from+i))
			}
			r, err := raw.Digits(in, recognize.Options{})
			if err != nil {
				return err
			}
			for _, d := range r.Digits {
				for _, p := range d.Probs {
					probs = append(probs, float32(p))
				}
			}
			labels = append(labels, s.Labels[from:to]...)
		}
	}
	temp, err := train.FitTemperature(probs, labels)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "temperature %.3f fitted on %d validation digits\n", temp, len(labels))

	// Threshold on validation codes read end to end (segmentation included) with the tempered probabilities.
	rec, err := recognize.New(lm.Model, recognize.ModelInfo{Name: lm.Card.Name},
		recognize.Config{InputScale: lm.Card.InputScale, Temperature: temp, Format: *format})
	if err != nil {
		return err
	}
	readings := make([]train.Reading, 0, *codes)
	err = forEachOrdered(ctx, *codes, runtime.GOMAXPROCS(0), func(i int) train.Reading {
		img, text, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, *seed, i, 100)
		if err != nil {
			return train.Reading{FormatError: true}
		}
		r, err := rec.Image(img, recognize.Options{})
		if err != nil {
			return train.Reading{FormatError: true}
		}
		rd := train.Reading{MinConfidence: 1, FormatError: r.FormatError != "", Correct: r.Code == text}
		for _, d := range r.Digits {
			rd.MinConfidence = min(rd.MinConfidence, d.Confidence)
		}
		return rd
	}, func(r train.Reading) error {
		readings = append(readings, r)
		return nil
	})
	if err != nil {
		return err
	}
	curve := train.RiskCoverage(readings)
	chosen, ok := train.ChooseThreshold(curve, *target)
	cal := calibration{Temperature: round4(temp), Threshold: chosen.Threshold, TargetSilentError: *target, MetTarget: ok,
		ConfirmRate: chosen.ConfirmRate, SilentErrorRate: chosen.SilentErrorRate,
		Validation: fmt.Sprintf("temperature: %d digits (last %d MNIST training samples + %d of synthetic validation writers); "+
			"threshold: %d 5-digit codes of synthetic validation writers (seed %d) read end to end", len(labels), *val, *digits, *codes, *seed),
		Curve: thin(curve, 60)}
	fmt.Fprintf(stdout, "confirm threshold %.4f: validation confirm rate %.2f%%, silent errors %.2f%% (target %.2f%%%s)\n",
		chosen.Threshold, 100*chosen.ConfirmRate, 100*chosen.SilentErrorRate, 100**target, map[bool]string{true: "", false: ", NOT met"}[ok])
	if err := writeCalibration(strings.TrimSuffix(*modelPath, ".onnx")+".json", cal); err != nil {
		return err
	}
	plot := *plotPath
	if plot == "" {
		plot = filepath.Join(filepath.Dir(*modelPath), "report", "risk_coverage.png")
	}
	if err := os.MkdirAll(filepath.Dir(plot), 0o755); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	pts := make([]report.RiskCoveragePoint, len(curve))
	for i, p := range curve {
		pts[i] = report.RiskCoveragePoint{ConfirmRate: p.ConfirmRate, SilentErrorRate: p.SilentErrorRate}
	}
	title := fmt.Sprintf("Confirm policy on %d validation codes (T=%.2f, threshold %.3f)", *codes, temp, chosen.Threshold)
	return report.RiskCoverage(plot, title, pts,
		report.RiskCoveragePoint{ConfirmRate: chosen.ConfirmRate, SilentErrorRate: chosen.SilentErrorRate}, *target)
}

func round4(v float64) float64 { return float64(int64(v*1e4+0.5)) / 1e4 }

// thin keeps at most n points of a curve, evenly spread, always the first and last.
func thin(c []train.RiskPoint, n int) []train.RiskPoint {
	if len(c) <= n {
		return c
	}
	out := make([]train.RiskPoint, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, c[i*(len(c)-1)/(n-1)])
	}
	return out
}

// writeCalibration sets the "calibration" object of a model card, keeping every other field.
func writeCalibration(path string, cal calibration) error {
	card := map[string]any{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &card); err != nil {
			return fmt.Errorf("calibrate: card %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("calibrate: %w", err)
	}
	card["calibration"] = cal
	b, err := json.MarshalIndent(card, "", "  ")
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	return nil
}
