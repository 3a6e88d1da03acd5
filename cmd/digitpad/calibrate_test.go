package main

import (
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"digitpad/assets"
	"digitpad/shared/synth"
	"digitpad/train/calibrate"
)

// TestCalibrate_WritesCardAndPlot: calibration on (small) validation data stores temperature, threshold and
// curve in the card beside the model, and the stroke input's own beside them (held out on seed 11), keeps the
// card's other fields, draws the risk-coverage PNG, and the recogniser then uses the calibrated thresholds.
func TestCalibrate_WritesCardAndPlot(t *testing.T) {
	dir := t.TempDir()
	onnx, card := assets.Variant("fp32")
	mp := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(mp, onnx, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), card, 0o644); err != nil {
		t.Fatal(err)
	}
	_, secondJSON := assets.Second()
	sp := filepath.Join(dir, "second.json")
	if err := os.WriteFile(sp, secondJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := mustRun(t, "calibrate", "--model", mp, "--codes", "60", "--digits", "300", "--val", "500", "--holdout", "40",
		"--stroke-codes", "60", "--stroke-holdout", "40", "--second-card", sp)
	if err != nil {
		t.Fatalf("calibrate: %v\n%s%s", err, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name string      `json:"name"`
		Cal  calibration `json:"calibration"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	c := got.Cal
	if got.Name == "" || c.Temperature < 0.2 || c.Temperature > 5 || c.Threshold <= 0 || c.Threshold > 1 ||
		len(c.Curve) < 2 || c.TargetSilentError != 0.005 || c.Rule == "" || c.PerDigit.Threshold <= 0 || c.Product.Threshold <= 0 ||
		c.Confirm.Short < 0 || c.Confirm.ShortOne < 0 || c.Confirm.Pair > 1 || c.Confirm.Edge != 0 || c.Holdout == nil || c.Holdout.Codes != 40 || c.Holdout.Seeds != "11-11" {
		t.Errorf("card after calibration: name %q, calibration %+v", got.Name, c)
	}
	// The second reader's temperature, fitted on the digits it is consulted on, goes into its card and this one.
	var sc struct {
		SHA256      string  `json:"sha256"`
		Temperature float64 `json:"temperature"`
		Purpose     string  `json:"purpose"`
	}
	if b, err := os.ReadFile(sp); err != nil || json.Unmarshal(b, &sc) != nil {
		t.Fatalf("second card: %v", err)
	}
	if s := c.Second; s == nil || s.Temperature != sc.Temperature || s.SHA256 != sc.SHA256 || sc.Temperature < 0.2 || sc.Temperature > 5 ||
		sc.Purpose == "" || s.ConsultBelow <= 0 || s.ConsultBelow > 1 {
		t.Errorf("second reader in the card %+v, second card %+v", c.Second, sc)
	}
	if c.MetTarget && c.SilentErrorRate > c.TargetSilentError {
		t.Errorf("met target with silent errors %v > %v", c.SilentErrorRate, c.TargetSilentError)
	}
	// The edge weight is fitted for stroke input only (recognize.ConfirmModel.Edge).
	if s := c.Strokes; s == nil || s.Threshold <= 0 || s.Confirm.Edge < 0 || s.Threshold > 1 || len(s.Curve) < 2 || s.Product.Threshold <= 0 ||
		s.ImagePolicy.Threshold != c.Threshold || s.Holdout == nil || s.Holdout.Codes != 40 || s.Holdout.Seeds != "11-11" ||
		s.Holdout.ImagePolicy == nil || s.MetTarget && s.SilentErrorRate > c.TargetSilentError {
		t.Errorf("stroke calibration %+v", s)
	}
	if st, err := os.Stat(filepath.Join(dir, "report", "risk_coverage.png")); err != nil || st.Size() < 1000 {
		t.Errorf("risk-coverage plot: %v", err)
	}
	lm, err := loadModel(mp, "fp32")
	if err != nil {
		t.Fatal(err)
	}
	if lm.Card.Calibration.Threshold != c.Threshold || lm.Card.Calibration.Temperature != c.Temperature ||
		lm.Card.Calibration.Confirm != c.Confirm || c.Strokes != nil && (lm.Card.Calibration.Strokes.Threshold != c.Strokes.Threshold ||
		lm.Card.Calibration.Strokes.Confirm != c.Strokes.Confirm) {
		t.Errorf("loaded card calibration %+v, want %v / %v", lm.Card.Calibration, c.Temperature, c.Threshold)
	}
}

// TestWriteCalibration_KeepsTheCardsOtherFieldsInPlace: recalibrating changes the card's calibration object
// only; the other fields keep their order and their text.
func TestWriteCalibration_KeepsTheCardsOtherFieldsInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.json")
	before := "{\n  \"zeta\": 1e-7,\n  \"calibration\": {\"temperature\": 2},\n  \"alpha\": [\n    0.10\n  ]\n}\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeCalibration(path, "calibration", calibration{Temperature: 0.5, ConfirmPolicy: calibrate.ConfirmPolicy{Threshold: 0.9}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	zeta, cal, alpha := strings.Index(got, `"zeta": 1e-7,`), strings.Index(got, `"calibration": {`), strings.Index(got, "\"alpha\": [\n    0.10\n  ]")
	if zeta < 0 || cal < zeta || alpha < cal || !strings.Contains(got, `"confirm_threshold": 0.9`) {
		t.Errorf("card after writeCalibration:\n%s", got)
	}
	// The calibration without the second reader goes beside it and leaves it as it was.
	if err := writeCalibration(path, withoutSecondField, calibration{Temperature: 0.7, ConfirmPolicy: calibrate.ConfirmPolicy{Threshold: 0.3}}); err != nil {
		t.Fatal(err)
	}
	var both struct {
		With    map[string]any `json:"calibration"`
		Without map[string]any `json:"calibration_without_second"`
	}
	if b, err := os.ReadFile(path); err != nil || json.Unmarshal(b, &both) != nil ||
		both.With["confirm_threshold"] != 0.9 || both.Without["confirm_threshold"] != 0.3 {
		t.Errorf("card after writing %s: %v (%v)", withoutSecondField, both, err)
	}
	// A model without a card gets one with the calibration alone.
	bare := filepath.Join(t.TempDir(), "bare.json")
	if err := writeCalibration(bare, "calibration", calibration{Temperature: 0.5}); err != nil {
		t.Fatal(err)
	}
	var card map[string]any
	if b, err := os.ReadFile(bare); err != nil || json.Unmarshal(b, &card) != nil || len(card) != 1 || card["calibration"] == nil {
		t.Errorf("new card: %v %v", card, err)
	}
}

// TestEval_MNISTDigitsAreCodesOfTheirOwn: raw MNIST digits are read in batches, but the confirm rule sees
// each digit as a code of one: at a threshold of 0.5 almost none asks (a batch read as one code of 256 digits,
// whose product is far below 0.5, would ask for nearly every digit).
func TestEval_MNISTDigitsAreCodesOfTheirOwn(t *testing.T) {
	out, _, err := mustRun(t, "eval", "--limit", "300", "--threshold", "0.5", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Accuracy    float64 `json:"accuracy"`
		ConfirmRate float64 `json:"confirm_rate"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if m.Accuracy < 0.95 || m.ConfirmRate > 0.05 {
		t.Errorf("MNIST raw at threshold 0.5: accuracy %v, confirm rate %v; want >= 0.95 and <= 0.05", m.Accuracy, m.ConfirmRate)
	}
}

// TestEval_MNISTItems: --items on MNIST writes one line per digit, by index, whose readings and asks add up to the
// JSON's accuracy and confirm rate (raw digits and digits drawn as canvases).
func TestEval_MNISTItems(t *testing.T) {
	const n = 40
	for _, args := range [][]string{nil, {"--canvas", "76x64:grey"}} {
		items := filepath.Join(t.TempDir(), "items.tsv")
		out, _, err := mustRun(t, append([]string{"eval", "--limit", fmt.Sprint(n), "--json", "--items", items}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			N           int     `json:"n"`
			Accuracy    float64 `json:"accuracy"`
			ConfirmRate float64 `json:"confirm_rate"`
		}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		b, err := os.ReadFile(items)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != n+1 || lines[0] != "file\tlabel\treading\tasked" {
			t.Fatalf("%v: %d lines, header %q; want %d and the folder's header", args, len(lines), lines[0], n+1)
		}
		right, asked := 0, 0
		for i, line := range lines[1:] {
			f := strings.Split(line, "\t")
			if len(f) != 4 || f[0] != fmt.Sprint(i) {
				t.Fatalf("%v: line %d is %q; want index %d and 4 columns", args, i+1, line, i)
			}
			if f[1] == f[2] {
				right++
			}
			if f[3] == "true" {
				asked++
			}
		}
		if m.N != n || float64(right)/n != m.Accuracy || float64(asked)/n != m.ConfirmRate {
			t.Errorf("%v: items say %d right and %d asked of %d; JSON n %d, accuracy %v, confirm rate %v",
				args, right, asked, n, m.N, m.Accuracy, m.ConfirmRate)
		}
	}
}

// TestEval_ReportsConfirmAndSilentErrors: the new eval JSON fields are there and consistent with accuracy.
func TestEval_ReportsConfirmAndSilentErrors(t *testing.T) {
	dir := t.TempDir()
	codes := []string{"94107", "10115", "75008"}
	var labels []byte
	labels = append(labels, "file,code\n"...)
	for i, code := range codes {
		name := code + ".png"
		writeCode(t, filepath.Join(dir, name), code, synth.Pen{Width: 6, Background: color.White})
		labels = append(labels, name+","+codes[(i+1)%3]+"\n"...) // every label wrong: all are misread
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.csv"), labels, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := mustRun(t, "eval", "--data", dir, "--format", "5", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accuracy", "digit_accuracy", "confusion", "confirm_rate", "silent_error_rate",
		"digit_confirm_rate", "digit_silent_error_rate"} {
		if _, ok := m[k]; !ok {
			t.Errorf("eval JSON lacks %q", k)
		}
	}
	acc, ask, silent := m["accuracy"].(float64), m["confirm_rate"].(float64), m["silent_error_rate"].(float64)
	if acc != 0 || ask+silent < 0.999 || ask+silent > 1.001 {
		t.Errorf("every code misread: accuracy %v, asked %v + silent %v should make 1", acc, ask, silent)
	}
}

// TestCalibrate_HeldOutSeedsMustNotOverlap: the held-out codes that report the chosen rule cannot be codes the
// rule was chosen on.
func TestCalibrate_HeldOutSeedsMustNotOverlap(t *testing.T) {
	_, _, err := mustRun(t, "calibrate", "--model", "x.onnx", "--seed", "1", "--codes", "1000", "--holdout-seed", "2")
	if err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("held-out seed 2 with validation seeds 1-2: %v", err)
	}
}

// TestCalibrate_StrokeSeedsMustNotOverlapTheirHoldout: the stroke policy is chosen on seeds its held-out
// report does not use.
func TestCalibrate_StrokeSeedsMustNotOverlapTheirHoldout(t *testing.T) {
	_, _, err := mustRun(t, "calibrate", "--model", "x.onnx", "--stroke-seed", "12", "--stroke-holdout", "2000", "--stroke-holdout-seed", "11")
	if err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlapping stroke seeds: %v, want an overlap error", err)
	}
}

// TestCalibrate_OneReadingPerFit: --without-second reads with the pair reader and --digit-model-only without it,
// so one fit cannot be both (nor fit the second reader it does not read with).
func TestCalibrate_OneReadingPerFit(t *testing.T) {
	for _, args := range [][]string{{"--without-second", "--digit-model-only"}, {"--digit-model-only", "--second-card", "s.json"}} {
		_, _, err := mustRun(t, append([]string{"calibrate", "--model", "x.onnx"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "--digit-model-only") {
			t.Errorf("calibrate %v: %v, want an error naming --digit-model-only", args, err)
		}
	}
}
