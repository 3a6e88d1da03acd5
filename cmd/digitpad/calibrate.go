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
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
	"digitpad/train"
	"digitpad/train/mnist"
	"digitpad/train/report"
)

// calibration is the "calibration" object of a model card: the temperature, the confirm policy of images (its
// fields inline, as before stroke input had one of its own) and that of strokes.
type calibration struct {
	Temperature float64 `json:"temperature"`
	confirmPolicy
	Rule              string  `json:"confirm_rule"`
	TargetSilentError float64 `json:"target_silent_error_rate"`
	// PerDigit is the per-digit rule's operating point on the same codes and target (a code asks when a digit's
	// confidence is below the threshold), for comparison.
	PerDigit train.RiskPoint `json:"per_digit_rule"`
	// Second is the second reader the codes were read with (recognize.SecondReader), its temperature fitted on the
	// same validation digits as the digit model's.
	Second *onnxrec.SecondCard `json:"second_reader,omitempty"`
	// Strokes is the confirm policy of stroke input (recognize.Config.StrokeThreshold), chosen the same way on
	// validation codes read from their pen paths in writing order (the pad's and the kiosk's input).
	Strokes *strokeCalibration `json:"strokes,omitempty"`
}

// confirmPolicy is a confirm policy as a card states it: the threshold chosen on the risk–coverage curve of
// validation codes, the confirm model fitted on the same codes, and how it fares.
type confirmPolicy struct {
	// Threshold is the confirm score under which a code asks the clerk (recognize.ConfirmDigits).
	Threshold float64 `json:"confirm_threshold"`
	// Confirm is the confirm model fitted on the same codes (recognize.ConfirmModel): the digits' scores whose
	// product is compared with Threshold.
	Confirm         recognize.ConfirmModel `json:"confirm_model"`
	MetTarget       bool                   `json:"met_target"`
	ConfirmRate     float64                `json:"validation_confirm_rate"`
	SilentErrorRate float64                `json:"validation_silent_error_rate"`
	Validation      string                 `json:"validation"`
	Curve           []train.RiskPoint      `json:"risk_coverage"`
	// Product is the rule without the confirm model (the code's confidence, the product of its digits'
	// calibrated confidences, below a threshold) on the same codes and target, for comparison.
	Product train.RiskPoint `json:"product_rule"`
	// Holdout is both rules at their thresholds on validation codes of other writers (other seeds), which
	// chose nothing: what to expect of the chosen threshold on codes it has not seen.
	Holdout *holdout `json:"holdout,omitempty"`
}

// strokeCalibration is the confirm policy of stroke input, with the image policy's operating point on the same
// codes for comparison.
type strokeCalibration struct {
	confirmPolicy
	// ImagePolicy is the image confirm model and threshold on the same stroke codes (what stroke input got
	// before it had a policy of its own).
	ImagePolicy train.RiskPoint `json:"image_policy"`
}

// holdout is the confirm rule, and the product rule before it, at the thresholds chosen on validation, on
// codes of validation writers that took no part in the choice (for stroke input also the image policy).
type holdout struct {
	Codes           int              `json:"codes"`
	Seeds           string           `json:"seeds"`
	ConfirmRate     float64          `json:"confirm_rate"`
	SilentErrorRate float64          `json:"silent_error_rate"`
	Product         train.RiskPoint  `json:"product_rule"`
	ImagePolicy     *train.RiskPoint `json:"image_policy,omitempty"`
}

// codesPerSeed is how many validation codes calibrate reads per seed of synthetic writers (100 writers per seed,
// so 5 codes each): the threshold rests on ~6 silent errors per 1,000 codes, and writers differ more than codes
// of one writer do (seed 1's codes are wrong 19%, seed 11's 15%), so many writers beat many codes per writer.
// The default 3,000 codes use seeds 1-6; seed 11 stays out for reporting.
const codesPerSeed = 500

// confirmRule names recognize.ConfirmDigits in the card.
const confirmRule = "confirm score below confirm_threshold: the product over the digits of the calibrated " +
	"confidence (raised to 1 - pair for a digit the pair reader read) times exp(-(short + short_one if read as 1) * " +
	"ln(median digit height / digit height, if shorter) + edge if the digit touches the canvas's left or right edge) (confirm_model); the lowest-scoring digits that keep it below are flagged"

func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibrate", "calibrate --model FILE [--codes N] [--digits N] [--target RATE] [--plot PNG]", stderr)
	modelPath := fs.String("model", "", "ONNX model whose card (FILE with .json) gets the calibration (required)")
	codes := fs.Int("codes", 10000, "validation codes (5 digits, synthetic validation writers; 500 per seed from --seed on) for the confirm threshold (0.5% of 3,000 is 15 codes: with the pair reader, chosen on 3,000 at 0.50% silent, 0.63% on the held-out ones)")
	digits := fs.Int("digits", 5000, "synthetic validation-writer digits added to the MNIST validation split for the temperature")
	val := fs.Int("val", 5000, "MNIST validation split: the last N training samples (as in training)")
	target := fs.Float64("target", 0.005, "highest silent-error rate of codes accepted on validation")
	format := fs.String("format", "5", "code format the threshold is chosen for")
	plotPath := fs.String("plot", "", "risk-coverage PNG (default: report/risk_coverage.png beside the model)")
	mnistDir := fs.String("mnist", "", "folder with the MNIST idx files (default: found in the GoMNIST Go module)")
	seed := fs.Uint64("seed", 33, "seed of the synthetic validation data (codes from it on: 33-52 for 10,000, apart from the held-out and stroke seeds)")
	holdoutCodes := fs.Int("holdout", 3000, "validation codes of other writers (500 per seed from --holdout-seed on) the chosen rule is reported on (0: none; fewer than ~3,000 codes say little: 0.1% is 1 code in 1,000)")
	holdoutSeed := fs.Uint64("holdout-seed", 11, "first seed of the held-out validation codes (must not overlap the --codes seeds)")
	strokeCodes := fs.Int("stroke-codes", 10000, "validation codes read from their strokes (500 per seed from --stroke-seed on) for the confirm policy of stroke input (0: none; stroke input then follows the image policy; stroke codes are wrong 2%, so 3,000 rest on too few errors: chosen on 3,000, 0.65% silent on the held-out ones)")
	strokeSeed := fs.Uint64("stroke-seed", 13, "first seed of the stroke validation codes (must not overlap the held-out stroke seeds)")
	strokeHoldout := fs.Int("stroke-holdout", 2000, "held-out validation codes read from their strokes (1,000 per seed from --stroke-holdout-seed on) the stroke policy is reported on (0: none)")
	strokeHoldoutSeed := fs.Uint64("stroke-holdout-seed", 11, "first seed of the held-out stroke codes")
	secondCard := fs.String("second-card", "", "fit the shipped second reader's temperature on the digits it is consulted on (those of the validation codes below its level, read without it) and write it into this card (assets/second.json); without it, the card's temperature is used")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *modelPath == "" {
		fs.Usage()
		return errors.New("calibrate: --model is required")
	}
	if *target <= 0 || *target >= 1 || *codes < 50 || *digits < 0 || *val < 0 || *holdoutCodes < 0 || *strokeCodes < 0 || *strokeHoldout < 0 {
		return errors.New("calibrate: want 0 < target < 1, codes >= 50, digits, val, holdout, stroke-codes and stroke-holdout >= 0")
	}
	if overlap(*holdoutSeed, *holdoutCodes, codesPerSeed, *seed, *codes, codesPerSeed) {
		return fmt.Errorf("calibrate: held-out seeds from %d overlap the validation seeds %s", *holdoutSeed, seedRange(*seed, *codes, codesPerSeed))
	}
	if overlap(*strokeHoldoutSeed, *strokeHoldout, strokeHoldoutPerSeed, *strokeSeed, *strokeCodes, codesPerSeed) {
		return fmt.Errorf("calibrate: held-out stroke seeds from %d overlap the stroke validation seeds %s", *strokeHoldoutSeed,
			seedRange(*strokeSeed, *strokeCodes, codesPerSeed))
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
	// Threshold on validation codes read end to end (segmentation and the shipped pair reader included, as
	// every native shell reads them) with the tempered probabilities.
	pair, err := onnxrec.PairReader()
	if err != nil {
		return err
	}
	cfg := recognize.Config{InputScale: lm.Card.InputScale, Temperature: temp, Format: *format, Pair: pair}
	second, info, err := secondReader(ctx, lm, cfg, *secondCard, *seed, *codes)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "second reader %s: temperature %.3f, weight %.3g, consulted below %.3g\n", info.SHA256[:12], info.Temperature, info.Weight, info.ConsultBelow)
	for _, m := range info.More {
		fmt.Fprintf(stdout, "  and %s %s: temperature %.3f, weight %.3g\n", m.File, m.SHA256[:12], m.Temperature, m.Weight)
	}
	cfg.Second = second
	rec, err := recognize.New(lm.Model, recognize.ModelInfo{Name: lm.Card.Name}, cfg)
	if err != nil {
		return err
	}
	readings, err := readCodes(ctx, rec, images, *seed, *codes, codesPerSeed)
	if err != nil {
		return err
	}
	img := fitPolicy(readings, *target, "images", false, stderr)
	chosen, cm := img.chosen, img.model
	perDigit, _ := train.ChooseThreshold(train.RiskCoverage(train.PerDigit(readings)), *target)
	cal := calibration{Temperature: round4(temp), Rule: confirmRule, TargetSilentError: *target, PerDigit: perDigit, Second: &info,
		confirmPolicy: img.card(fmt.Sprintf("temperature: %d digits (last %d MNIST training samples + %d of synthetic validation writers); "+
			"confirm model and threshold: %d 5-digit codes of synthetic validation writers (seeds %s, %d per seed) read end to end",
			len(labels), *val, *digits, *codes, seedRange(*seed, *codes, codesPerSeed), codesPerSeed))}
	img.print(stdout, "", *target)
	fmt.Fprintf(stdout, "  per-digit rule at the same target: threshold %.4f, confirm rate %.2f%%, silent errors %.2f%%\n",
		perDigit.Threshold, 100*perDigit.ConfirmRate, 100*perDigit.SilentErrorRate)
	if *holdoutCodes > 0 {
		held, err := readCodes(ctx, rec, images, *holdoutSeed, *holdoutCodes, codesPerSeed)
		if err != nil {
			return err
		}
		cal.Holdout = img.heldOut(held, seedRange(*holdoutSeed, *holdoutCodes, codesPerSeed))
		cal.Holdout.print(stdout, "")
	}
	var st *policyFit
	if *strokeCodes > 0 {
		sr, err := readCodes(ctx, rec, strokes, *strokeSeed, *strokeCodes, codesPerSeed)
		if err != nil {
			return err
		}
		f := fitPolicy(sr, *target, "strokes", true, stderr)
		st = &f
		cal.Strokes = &strokeCalibration{ImagePolicy: operatingPoint(sr, cm, chosen.Threshold),
			confirmPolicy: f.card(fmt.Sprintf("confirm model and threshold: %d 5-digit codes of synthetic validation writers (seeds %s, "+
				"%d per seed) read from their pen paths in writing order, as the pad and the kiosk send them", *strokeCodes,
				seedRange(*strokeSeed, *strokeCodes, codesPerSeed), codesPerSeed))}
		f.print(stdout, "strokes: ", *target)
		fmt.Fprintf(stdout, "  strokes, image policy: confirm rate %.2f%%, silent errors %.2f%%\n",
			100*cal.Strokes.ImagePolicy.ConfirmRate, 100*cal.Strokes.ImagePolicy.SilentErrorRate)
		if *strokeHoldout > 0 {
			held, err := readCodes(ctx, rec, strokes, *strokeHoldoutSeed, *strokeHoldout, strokeHoldoutPerSeed)
			if err != nil {
				return err
			}
			h := f.heldOut(held, seedRange(*strokeHoldoutSeed, *strokeHoldout, strokeHoldoutPerSeed))
			ip := operatingPoint(held, cm, chosen.Threshold)
			h.ImagePolicy = &ip
			cal.Strokes.Holdout = h
			h.print(stdout, "strokes ")
		}
	}
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
	// The title fits the plot's width: the counts go with the curves.
	title := fmt.Sprintf("Confirm policy (T=%.2f): images < %.3f", temp, chosen.Threshold)
	curves := []report.RiskCoverageCurve{
		{Name: fmt.Sprintf("images, %d codes: confirm model (shipped)", *codes), Points: plotPoints(img.curve)},
		{Name: "images: code confidence alone", Points: plotPoints(img.productCurve)},
	}
	if st != nil {
		title += fmt.Sprintf(", strokes < %.3f", st.chosen.Threshold)
		curves = append(curves, report.RiskCoverageCurve{Name: fmt.Sprintf("from strokes, %d codes (shipped)", *strokeCodes), Points: plotPoints(st.curve)})
	}
	return report.RiskCoverage(plot, title, curves, report.RiskCoveragePoint{ConfirmRate: chosen.ConfirmRate, SilentErrorRate: chosen.SilentErrorRate}, *target)
}

// policyFit is a confirm policy fitted on readings of validation codes: the confirm model, its risk–coverage
// curve and the threshold chosen on it for the silent-error target, and the product rule (no confirm model) at
// the same target for comparison.
type policyFit struct {
	model        recognize.ConfirmModel
	curve        []train.RiskPoint
	chosen       train.RiskPoint
	ok           bool
	productCurve []train.RiskPoint
	product      train.RiskPoint
}

// fitPolicy fits the confirm model on readings (what names them in a warning when it cannot: then the code's
// confidence alone decides), with an edge weight when edge is set (stroke input: recognize.ConfirmModel.Edge),
// and chooses the threshold for target.
func fitPolicy(rs []train.Reading, target float64, what string, edge bool, stderr io.Writer) policyFit {
	cm, err := train.FitConfirm(rs, edge)
	if err != nil {
		fmt.Fprintf(stderr, "calibrate: %s: %v; the code's confidence alone decides\n", what, err)
	}
	f := policyFit{model: cm, curve: train.RiskCoverage(train.Rescore(rs, cm)), productCurve: train.RiskCoverage(rs)}
	f.chosen, f.ok = train.ChooseThreshold(f.curve, target)
	f.product, _ = train.ChooseThreshold(f.productCurve, target)
	return f
}

// card is the fitted policy as the card states it, chosen on the codes validation names.
func (f policyFit) card(validation string) confirmPolicy {
	return confirmPolicy{Threshold: f.chosen.Threshold, Confirm: f.model, MetTarget: f.ok, ConfirmRate: f.chosen.ConfirmRate,
		SilentErrorRate: f.chosen.SilentErrorRate, Validation: validation, Curve: thin(f.curve, 60), Product: f.product}
}

// print reports the fitted policy (prefix names the input).
func (f policyFit) print(w io.Writer, prefix string, target float64) {
	fmt.Fprintf(w, "%sconfirm threshold %.4f: validation confirm rate %.2f%%, silent errors %.2f%% (target %.2f%%%s)\n", prefix,
		f.chosen.Threshold, 100*f.chosen.ConfirmRate, 100*f.chosen.SilentErrorRate, 100*target, map[bool]string{true: "", false: ", NOT met"}[f.ok])
	fmt.Fprintf(w, "  %sconfirm model: short %.3f, short_one %.3f, pair %.3f, edge %.3f\n", prefix, f.model.Short, f.model.ShortOne, f.model.Pair, f.model.Edge)
	fmt.Fprintf(w, "  %sproduct rule (code confidence) at the same target: threshold %.4f, confirm rate %.2f%%, silent errors %.2f%%\n",
		prefix, f.product.Threshold, 100*f.product.ConfirmRate, 100*f.product.SilentErrorRate)
}

// heldOut is the fitted policy, and the product rule, at their thresholds on held-out readings (of seeds).
func (f policyFit) heldOut(held []train.Reading, seeds string) *holdout {
	p := operatingPoint(held, f.model, f.chosen.Threshold)
	return &holdout{Codes: len(held), Seeds: seeds, ConfirmRate: p.ConfirmRate, SilentErrorRate: p.SilentErrorRate,
		Product: operatingPoint(held, recognize.ConfirmModel{}, f.product.Threshold)}
}

// print reports the held-out rates (prefix names the input).
func (h *holdout) print(w io.Writer, prefix string) {
	fmt.Fprintf(w, "%sheld out (%d codes, seeds %s): confirm rate %.2f%%, silent errors %.2f%%; product rule %.2f%%, %.2f%%", prefix,
		h.Codes, h.Seeds, 100*h.ConfirmRate, 100*h.SilentErrorRate, 100*h.Product.ConfirmRate, 100*h.Product.SilentErrorRate)
	if h.ImagePolicy != nil {
		fmt.Fprintf(w, "; image policy %.2f%%, %.2f%%", 100*h.ImagePolicy.ConfirmRate, 100*h.ImagePolicy.SilentErrorRate)
	}
	fmt.Fprintln(w)
}

// operatingPoint is the confirm policy of model m and threshold t on readings.
func operatingPoint(rs []train.Reading, m recognize.ConfirmModel, t float64) train.RiskPoint {
	p := train.RiskPoint{Threshold: t}
	p.ConfirmRate, p.SilentErrorRate = train.RatesAt(train.Rescore(rs, m), t)
	return p
}

// seedRange names the seeds n codes take at perSeed per seed from seed on ("FIRST-LAST").
func seedRange(seed uint64, n, perSeed int) string {
	return fmt.Sprintf("%d-%d", seed, lastSeed(seed, n, perSeed))
}

// lastSeed is the last seed n codes take at perSeed per seed from seed on.
func lastSeed(seed uint64, n, perSeed int) uint64 { return seed + uint64((n-1)/perSeed) }

// overlap reports whether n codes from seed a and m codes from seed b (at their per-seed counts) share a seed.
func overlap(a uint64, n, perA int, b uint64, m, perB int) bool {
	return n > 0 && m > 0 && a <= lastSeed(b, m, perB) && b <= lastSeed(a, n, perA)
}

func plotPoints(c []train.RiskPoint) []report.RiskCoveragePoint {
	pts := make([]report.RiskCoveragePoint, len(c))
	for i, p := range c {
		pts[i] = report.RiskCoveragePoint{ConfirmRate: p.ConfirmRate, SilentErrorRate: p.SilentErrorRate}
	}
	return pts
}

// codeSource is how calibrate reads a validation code: its canvas image, or its pen paths in writing order.
type codeSource bool

const (
	images  codeSource = false
	strokes codeSource = true
)

// strokeHoldoutPerSeed is how many held-out stroke codes calibrate reads per seed (seeds 11 and 12 by default,
// the seeds of the stroke numbers in issue 12's notes; 100 writers per seed, where mkevalset's sets have 50).
const strokeHoldoutPerSeed = 1000

// readCodes reads n 5-digit validation codes (perSeed per seed from seed on) end to end from src, as the confirm
// policy sees them.
func readCodes(ctx context.Context, rec *recognize.Recognizer, src codeSource, seed uint64, n, perSeed int) ([]train.Reading, error) {
	readings := make([]train.Reading, 0, n)
	err := forEachOrdered(ctx, n, runtime.GOMAXPROCS(0), func(i int) train.Reading {
		img, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, seed+uint64(i/perSeed), i%perSeed, 100)
		if err != nil {
			return train.Reading{FormatError: true}
		}
		var r *recognize.Result
		if src == strokes {
			b := img.Bounds()
			req := protocol.Predict{Strokes: sh.Code.Paths()}
			r, err = rec.Strokes(req.InkStrokes(), b.Dx(), b.Dy(), recognize.Options{})
		} else {
			r, err = rec.Image(img, recognize.Options{})
		}
		if err != nil {
			return train.Reading{FormatError: true}
		}
		rd := train.Reading{Confidence: r.Confidence, MinConfidence: 1, FormatError: r.FormatError != "", Correct: r.Code == sh.Code.Text,
			Doubts: recognize.Doubts(r.Digits)}
		for _, d := range r.Digits {
			rd.MinConfidence = min(rd.MinConfidence, d.Confidence)
		}
		return rd
	}, func(r train.Reading) error {
		readings = append(readings, r)
		return nil
	})
	return readings, err
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

// writeCalibration sets the "calibration" object of a model card, keeping every other field where it was (a
// recalibrated card differs from the old one only in that object).
func writeCalibration(path string, cal calibration) error {
	return writeCardFields(path, map[string]any{"calibration": cal})
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
			img, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, seed+uint64(i/codesPerSeed), i%codesPerSeed, 100)
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
	return round4(t), nil
}
