package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"digitpad/shared/model"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
	"digitpad/train"
	"digitpad/train/calibrate"
	"digitpad/train/mnist"
	"digitpad/train/report"
)

// calibration is the "calibration" object of a model card (calibrate.Calibration).
type calibration = calibrate.Calibration

func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibrate", "calibrate --model FILE [--codes N] [--digits N] [--target RATE] [--plot PNG]", stderr)
	d := calibrate.Defaults()
	modelPath := fs.String("model", "", "ONNX model whose card (FILE with .json) gets the calibration (required)")
	codes := fs.Int("codes", d.Codes, "validation codes (5 digits, synthetic validation writers; 500 per seed from --seed on) for the confirm threshold (0.5% of 3,000 is 15 codes: with the pair reader, chosen on 3,000 at 0.50% silent, 0.63% on the held-out ones)")
	digits := fs.Int("digits", d.Digits, "synthetic validation-writer digits added to the MNIST validation split for the temperature")
	val := fs.Int("val", 5000, "MNIST validation split: the last N training samples (as in training)")
	target := fs.Float64("target", d.Target, "highest silent-error rate of codes accepted on validation")
	format := fs.String("format", d.Format, "code format the threshold is chosen for")
	plotPath := fs.String("plot", "", "risk-coverage PNG (default: report/risk_coverage.png beside the model; none with --without-second or --digit-model-only)")
	mnistDir := fs.String("mnist", "", "folder with the MNIST idx files (default: found in the GoMNIST Go module)")
	seed := fs.Uint64("seed", d.Seed, "seed of the synthetic validation data (codes from it on: 33-52 for 10,000, apart from the held-out and stroke seeds)")
	holdoutCodes := fs.Int("holdout", d.HoldoutCodes, "validation codes of other writers (500 per seed from --holdout-seed on) the chosen rule is reported on (0: none; fewer than ~3,000 codes say little: 0.1% is 1 code in 1,000)")
	holdoutSeed := fs.Uint64("holdout-seed", d.HoldoutSeed, "first seed of the held-out validation codes (must not overlap the --codes seeds)")
	strokeCodes := fs.Int("stroke-codes", d.StrokeCodes, "validation codes read from their strokes (500 per seed from --stroke-seed on) for the confirm policy of stroke input (0: none; stroke input then follows the image policy; stroke codes are wrong 2%, so 3,000 rest on too few errors: chosen on 3,000, 0.65% silent on the held-out ones; seeds 13-32 and 33-52 differ, 1.23% and 1.81% wrong: the default takes both)")
	strokeSeed := fs.Uint64("stroke-seed", d.StrokeSeed, "first seed of the stroke validation codes (must not overlap the held-out stroke seeds)")
	strokeHoldout := fs.Int("stroke-holdout", d.StrokeHoldout, "held-out validation codes read from their strokes (1,000 per seed from --stroke-holdout-seed on) the stroke policy is reported on (0: none)")
	strokeHoldoutSeed := fs.Uint64("stroke-holdout-seed", d.StrokeHoldoutSeed, "first seed of the held-out stroke codes")
	withoutSecond := fs.Bool("without-second", false, "read the codes without the second reader (the pair reader still reads: a native reader without the second reader) and write the policies into the card's calibration_without_second object instead of calibration")
	digitModelOnly := fs.Bool("digit-model-only", false, "read the codes with neither the pair reader nor the second reader (the digit model alone, as the browser's pad reads: it has neither) and write the policies into the card's "+digitModelOnlyField+" object instead of calibration")
	secondCard := fs.String("second-card", "", "fit the shipped second reader's temperature on the digits it is consulted on (those of the validation codes below its level, read without it) and write it into this card (assets/second.json); without it, the card's temperature is used")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *modelPath == "" {
		fs.Usage()
		return errors.New("calibrate: --model is required")
	}
	if (*withoutSecond || *digitModelOnly) && *secondCard != "" {
		return errors.New("calibrate: --second-card fits the second reader; --without-second and --digit-model-only read without it")
	}
	if *withoutSecond && *digitModelOnly {
		return errors.New("calibrate: --without-second reads with the pair reader, --digit-model-only without it: one of them")
	}
	if *target <= 0 || *target >= 1 || *codes < 50 || *digits < 0 || *val < 0 || *holdoutCodes < 0 || *strokeCodes < 0 || *strokeHoldout < 0 {
		return errors.New("calibrate: want 0 < target < 1, codes >= 50, digits, val, holdout, stroke-codes and stroke-holdout >= 0")
	}
	if calibrate.Overlap(*holdoutSeed, *holdoutCodes, calibrate.CodesPerSeed, *seed, *codes, calibrate.CodesPerSeed) {
		return fmt.Errorf("calibrate: held-out seeds from %d overlap the validation seeds %s", *holdoutSeed, calibrate.SeedRange(*seed, *codes, calibrate.CodesPerSeed))
	}
	if calibrate.Overlap(*strokeHoldoutSeed, *strokeHoldout, calibrate.StrokeHoldoutPerSeed, *strokeSeed, *strokeCodes, calibrate.CodesPerSeed) {
		return fmt.Errorf("calibrate: held-out stroke seeds from %d overlap the stroke validation seeds %s", *strokeHoldoutSeed,
			calibrate.SeedRange(*strokeSeed, *strokeCodes, calibrate.CodesPerSeed))
	}
	lm, err := loadModel(*modelPath, "fp32")
	if err != nil {
		return err
	}
	dir, err := mnist.Locate(ctx, *mnistDir)
	if err != nil {
		return err
	}
	trainAll, _, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	fit, err := calibrate.Fit(ctx, lm, calibrate.Options{MNISTVal: trainAll.Slice(trainAll.Len()-*val, trainAll.Len()), Digits: *digits,
		Codes: *codes, Seed: *seed, HoldoutCodes: *holdoutCodes, HoldoutSeed: *holdoutSeed,
		StrokeCodes: *strokeCodes, StrokeSeed: *strokeSeed, StrokeHoldout: *strokeHoldout, StrokeHoldoutSeed: *strokeHoldoutSeed,
		Target: *target, Format: *format, Out: stdout, Warn: stderr, WithoutSecond: *withoutSecond || *digitModelOnly, WithoutPair: *digitModelOnly,
		Second: func(ctx context.Context, cfg recognize.Config) (*recognize.SecondReader, onnxrec.SecondCard, error) {
			return secondReader(ctx, lm, cfg, *secondCard, *seed, *codes)
		}})
	if err != nil {
		return err
	}
	cal, img, st := fit.Calibration, fit.Image, fit.Stroke
	temp, chosen := fit.Temperature, img.Chosen
	field := "calibration"
	switch {
	case *withoutSecond:
		field = withoutSecondField
	case *digitModelOnly:
		field = digitModelOnlyField
	}
	if err := writeCalibration(strings.TrimSuffix(*modelPath, ".onnx")+".json", field, cal); err != nil {
		return err
	}
	plot := *plotPath
	if plot == "" && field != "calibration" {
		return nil // the report's plot is the shipped reading's
	}
	if plot == "" {
		plot = filepath.Join(filepath.Dir(*modelPath), "report", "risk_coverage.png")
	}
	if err := os.MkdirAll(filepath.Dir(plot), 0o755); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	// The title fits the plot's width: the counts go with the curves.
	title := fmt.Sprintf("Confirm policy (T=%.2f): images < %.3f", temp, chosen.Threshold)
	curves := []report.RiskCoverageCurve{
		{Name: fmt.Sprintf("images, %d codes: confirm model (shipped)", *codes), Points: plotPoints(img.Curve)},
		{Name: "images: code confidence alone", Points: plotPoints(img.ProductCurve)},
	}
	if st != nil {
		title += fmt.Sprintf(", strokes < %.3f", st.Chosen.Threshold)
		curves = append(curves, report.RiskCoverageCurve{Name: fmt.Sprintf("from strokes, %d codes (shipped)", *strokeCodes), Points: plotPoints(st.Curve)})
	}
	return report.RiskCoverage(plot, title, curves, report.RiskCoveragePoint{ConfirmRate: chosen.ConfirmRate, SilentErrorRate: chosen.SilentErrorRate}, *target)
}

func plotPoints(c []train.RiskPoint) []report.RiskCoveragePoint {
	pts := make([]report.RiskCoveragePoint, len(c))
	for i, p := range c {
		pts[i] = report.RiskCoveragePoint{ConfirmRate: p.ConfirmRate, SilentErrorRate: p.SilentErrorRate}
	}
	return pts
}

// withoutSecondField is the card's object for a reader without the second reader (the browser's pad):
// calibration's fields, fitted on the same codes read without it (assets.Card.WithoutSecond).
const withoutSecondField = "calibration_without_second"

// digitModelOnlyField is the card's object for a reader with neither the pair nor the second reader (the
// browser's pad): calibration's fields, fitted on the same codes read by the digit model alone
// (assets.Card.DigitModelOnly).
const digitModelOnlyField = "calibration_digit_model_only"

// writeCalibration sets the calibration object field ("calibration", withoutSecondField or digitModelOnlyField) of a model card,
// keeping every other field where it was (a recalibrated card differs from the old one only in that object).
func writeCalibration(path, field string, cal calibration) error {
	return writeCardFields(path, map[string]any{field: cal})
}

// writeCardFields sets top-level fields of a JSON card, keeping every other field where it was (new ones go
// last, in key order).
func writeCardFields(path string, set map[string]any) error {
	var fields []cardField
	if b, err := os.ReadFile(path); err == nil {
		if fields, err = cardFields(b); err != nil {
			return fmt.Errorf("calibrate: card %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("calibrate: %w", err)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := json.Marshal(set[k])
		if err != nil {
			return fmt.Errorf("calibrate: %w", err)
		}
		i := slices.IndexFunc(fields, func(f cardField) bool { return f.key == k })
		if i < 0 {
			i = len(fields)
			fields = append(fields, cardField{key: k})
		}
		fields[i].value = v
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for k, f := range fields {
		if k > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(f.key)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(f.value)
	}
	buf.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	out.WriteByte('\n')
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	return nil
}

// cardField is one top-level field of a model card, its value as written.
type cardField struct {
	key   string
	value json.RawMessage
}

// cardFields reads a JSON object's top-level fields in their order.
func cardFields(b []byte) ([]cardField, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	var fields []cardField
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		fields = append(fields, cardField{key: t.(string), value: v})
	}
	return fields, nil
}

// secondReader is the shipped second reader at its card's level. With card set, its models' temperatures are
// fitted on the digits it is consulted on: the non-pair digits below its level of n validation codes (from seed
// on, 5 read for 5 written, labelled by position) read with cfg (no second reader), each model's on its own
// reading of them, and written into card with the models' sha256s; otherwise the card's temperatures stand.
func secondReader(ctx context.Context, lm *onnxrec.Model, cfg recognize.Config, card string, seed uint64, n int) (*recognize.SecondReader, onnxrec.SecondCard, error) {
	ms, sc, err := onnxrec.SecondModels()
	if err != nil {
		return nil, onnxrec.SecondCard{}, err
	}
	info := sc
	info.More = slices.Clone(sc.More)
	if card != "" {
		atCard, err := sc.Reader(ms) // the card's level picks the digits; the temperatures are refitted below
		if err != nil {
			return nil, info, err
		}
		rec, err := recognize.New(lm.Model, recognize.ModelInfo{Name: lm.Card.Name}, cfg)
		if err != nil {
			return nil, info, err
		}
		var in []float32
		var labels []uint8
		err = forEachOrdered(ctx, n, runtime.GOMAXPROCS(0), func(i int) *recognize.Result {
			img, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, seed+uint64(i/calibrate.CodesPerSeed), i%calibrate.CodesPerSeed, 100)
			if err != nil {
				return nil
			}
			r, err := rec.Image(img, recognize.Options{})
			if err != nil || len(r.Digits) != len(sh.Code.Text) {
				return nil
			}
			r.Code = sh.Code.Text // the truth, for the labels
			return r
		}, func(r *recognize.Result) error {
			if r == nil {
				return nil
			}
			for _, k := range atCard.Consulted(r) {
				in = append(in, r.Inputs[k][:]...)
				labels = append(labels, r.Code[k]-'0')
			}
			return nil
		})
		if err != nil {
			return nil, info, err
		}
		for i, m := range ms {
			t, err := fitReaderTemperature(m, in, labels)
			if err != nil {
				return nil, info, err
			}
			if i == 0 {
				info.Temperature = t
			} else {
				info.More[i-1].Temperature = t
			}
		}
		set := map[string]any{"sha256": info.SHA256, "temperature": info.Temperature}
		if len(info.More) > 0 {
			set["more_readers"] = info.More
		}
		if err := writeCardFields(card, set); err != nil {
			return nil, info, err
		}
	}
	r, err := info.Reader(ms)
	return r, info, err
}

// fitReaderTemperature is the temperature of a second reader's model m fitted on inputs (28×28 each) and their
// labels, rounded as the card states it.
func fitReaderTemperature(m *model.Model, in []float32, labels []uint8) (float64, error) {
	if !m.OutputIsProbability() {
		return 0, errors.New("calibrate: the second reader's models must output probabilities")
	}
	probs := make([]float32, len(labels)*10)
	for from := 0; from < len(labels); from += 256 {
		to := min(len(labels), from+256)
		if err := m.Run(in[from*784:to*784], to-from, probs[from*10:to*10]); err != nil {
			return 0, fmt.Errorf("calibrate: second reader: %w", err)
		}
	}
	t, err := train.FitTemperature(probs, labels)
	if err != nil {
		return 0, fmt.Errorf("calibrate: second reader: %w", err)
	}
	return calibrate.Round4(t), nil
}
