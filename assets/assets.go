// Package assets embeds the shipped digit model and its model card, so every shell works with no files around.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"digitpad/shared/model"
	"digitpad/shared/recognize"
)

//go:embed model.onnx model.json model-int8.onnx model-int8.json model-fp16.onnx model-fp16.json
var files embed.FS

// Variants of the shipped model: fp32 (the trained weights), int8 (post-training quantised, QDQ) and fp16
// (weights stored as float16, computed in float32). README's table compares them.
var Variants = []string{"fp32", "int8", "fp16"}

// Model returns the shipped fp32 ONNX model bytes. Callers must not modify them.
func Model() []byte { b, _ := Variant("fp32"); return b }

// ModelCard returns the shipped fp32 model card (JSON).
func ModelCard() []byte { _, c := Variant("fp32"); return c }

// Variant returns a shipped variant's ONNX bytes and card, or nil for an unknown name.
func Variant(name string) (onnx, card []byte) {
	base := "model"
	if name != "fp32" {
		base += "-" + name
	}
	onnx, err := files.ReadFile(base + ".onnx")
	if err != nil {
		return nil, nil
	}
	card, _ = files.ReadFile(base + ".json")
	return onnx, card
}

// Card is the part of a model card the shells need; the full card has training details and metrics.
type Card struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	// InputScale multiplies 0..1 ink before the model (1 for digitpad's models, 255 for the ONNX zoo MNIST model).
	InputScale float32 `json:"input_scale,omitempty"`
	// Calibration is the temperature, confirm threshold and confirm model chosen on validation data (`digitpad
	// calibrate`), for the reader that consults the second reader it names (native shells).
	Calibration CardCalibration `json:"calibration"`
	// WithoutSecond is the same calibration fitted on the same validation codes read without the second reader
	// (`digitpad calibrate --without-second`): what a reader without it (the browser's pad) must use, as a
	// threshold holds only for the reading it was chosen on. Nil: not stated.
	WithoutSecond *CardCalibration `json:"calibration_without_second,omitempty"`
	// DigitModelOnly is the same calibration fitted on the same validation codes read with neither the pair
	// reader nor the second reader (`digitpad calibrate --digit-model-only`): the browser's pad reads so (it has
	// neither), and the pair reader reads some 7% of codes, so calibration_without_second (read with it) does
	// not hold there. Nil: not stated.
	DigitModelOnly *CardCalibration `json:"calibration_digit_model_only,omitempty"`
}

// CardCalibration is a model card's calibration object: zero values mean uncalibrated (a card without
// confirm_model: the code's confidence decides). Strokes is the confirm policy of stroke input, chosen on
// validation codes read from their strokes (a card without it: stroke input follows the image policy).
type CardCalibration struct {
	Temperature float64                `json:"temperature"`
	Threshold   float64                `json:"confirm_threshold"`
	Confirm     recognize.ConfirmModel `json:"confirm_model"`
	Strokes     struct {
		Threshold float64                `json:"confirm_threshold"`
		Confirm   recognize.ConfirmModel `json:"confirm_model"`
	} `json:"strokes"`
	// Second names the second reader (recognize.SecondReader) the confirm policies were fitted with and the
	// settings they were fitted at; empty: none, and the model is read without one.
	Second CardSecond `json:"second_reader"`
}

// CardSecond is a model card's record of the second reader its confirm policies were fitted with: its first
// model's sha256, temperature, level and share, and its further models' (zero settings: the second reader's own
// card's).
type CardSecond struct {
	SHA256       string  `json:"sha256"`
	Temperature  float64 `json:"temperature"`
	ConsultBelow float64 `json:"consult_below"`
	Weight       float64 `json:"weight"`
	More         []struct {
		SHA256      string  `json:"sha256"`
		Temperature float64 `json:"temperature"`
		Weight      float64 `json:"weight"`
	} `json:"more_readers"`
}

// SecondReaders is the sha256s of the second reader's models the confirm policies were fitted with, in the order
// they are read (the second model, then its more_readers); none: fitted without a second reader.
func (c Card) SecondReaders() []string {
	s := c.Calibration.Second
	if s.SHA256 == "" {
		return nil
	}
	out := []string{s.SHA256}
	for _, m := range s.More {
		out = append(out, m.SHA256)
	}
	return out
}

// Configure fills a recogniser configuration from the card: input scale, temperature, confirm model, and the
// confirm threshold unless cfg already sets one, from the calibration fitted on cfg's reading (For).
func (c Card) Configure(cfg recognize.Config) recognize.Config {
	cal := c.For(cfg)
	return recognize.Calibration{InputScale: c.InputScale, Temperature: cal.Temperature,
		Threshold: cal.Threshold, Confirm: cal.Confirm,
		StrokeThreshold: cal.Strokes.Threshold, StrokeConfirm: cal.Strokes.Confirm}.Configure(cfg)
}

// For is the card's calibration fitted on the reading cfg reads, else that of the nearest reading the card
// states, in recognize.CardCalibrations' order (the one rule the wasm bridge follows too).
func (c Card) For(cfg recognize.Config) CardCalibration {
	for _, name := range recognize.CardCalibrations(cfg) {
		switch name {
		case "calibration_digit_model_only":
			if c.DigitModelOnly != nil {
				return *c.DigitModelOnly
			}
		case "calibration_without_second":
			if c.WithoutSecond != nil {
				return *c.WithoutSecond
			}
		}
	}
	return c.Calibration
}

// ParseCard reads the fields of a model card JSON that the shells need. The sha256 is always recomputed from the
// model bytes, so a stale card cannot misname a model.
func ParseCard(cardJSON, modelBytes []byte) (Card, error) {
	var c Card
	if len(cardJSON) > 0 {
		if err := json.Unmarshal(cardJSON, &c); err != nil {
			return c, fmt.Errorf("model card: %w", err)
		}
	}
	sum := sha256.Sum256(modelBytes)
	c.SHA256 = hex.EncodeToString(sum[:])
	if c.InputScale == 0 {
		c.InputScale = 1
	}
	if c.Name == "" {
		c.Name = "digitpad-" + c.SHA256[:12]
	}
	return c, nil
}

// FastestVariant is the variant that runs fastest on this CPU: int8 where the runtime has an int8 dot-product
// (VNNI) kernel; elsewhere the portable int8 kernel is slower than the float SIMD kernels, so fp32.
func FastestVariant() string {
	if strings.Contains(model.Int8Kernel(), "vnni") {
		return "int8"
	}
	return "fp32"
}
