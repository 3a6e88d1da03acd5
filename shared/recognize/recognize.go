// Package recognize turns ink into a postal code: segmentation (package ink), one batched model call (package
// model), and a Result with per-digit labels, confidences, boxes and "please confirm" flags.
package recognize

import (
	"image"

	"digitpad/shared/ink"
	"digitpad/shared/model"
)

// ModelInfo names the model that produced a result.
type ModelInfo struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Config holds recogniser-wide settings.
type Config struct {
	// Threshold: digits whose confidence is below it are listed in Result.Confirm. Zero means 0.9.
	Threshold float64
	// Format is the default code format: "" (any), a digit count such as "5", or a regular expression.
	Format string
}

// Options are per-call settings.
type Options struct {
	// Format overrides Config.Format when not empty.
	Format string
}

// Digit is one recognised digit.
type Digit struct {
	Digit      int         `json:"digit"`
	Confidence float64     `json:"confidence"`
	Probs      [10]float64 `json:"probs"`
	// Box is x0,y0,x1,y1 in canvas pixels (x1,y1 exclusive).
	Box [4]int `json:"box"`
}

// Result is the recognition of one canvas.
type Result struct {
	Code       string  `json:"code"`
	Digits     []Digit `json:"digits"`
	Confidence float64 `json:"confidence"`
	// Confirm lists indexes into Digits whose confidence is below the threshold.
	Confirm []int `json:"confirm"`
	// FormatError says why Code does not match the format; empty when it matches or no format is set.
	FormatError string    `json:"format_error,omitempty"`
	Model       ModelInfo `json:"model"`
	// Inputs are the 28×28 model inputs, one per digit, kept for feedback records.
	Inputs [][784]float32 `json:"-"`
}

// Recognizer is safe for concurrent use.
type Recognizer struct{}

// New builds a recogniser around a loaded model.
func New(m *model.Model, info ModelInfo, cfg Config) (*Recognizer, error) { panic("not yet") }

// Image recognises a canvas snapshot (any size; dark-on-light, light-on-dark or ink on transparent).
func (r *Recognizer) Image(img image.Image, opt Options) (*Result, error) { panic("not yet") }

// Strokes recognises strokes drawn on a w×h canvas.
func (r *Recognizer) Strokes(strokes []ink.Stroke, w, h int, opt Options) (*Result, error) {
	panic("not yet")
}

// Mask recognises an ink mask.
func (r *Recognizer) Mask(m *ink.Mask, opt Options) (*Result, error) { panic("not yet") }

// Job is a segmented canvas waiting for classification.
type Job struct{}

// Prepare segments a mask into a Job (CPU work that needs no model call).
func (r *Recognizer) Prepare(m *ink.Mask, opt Options) (*Job, error) { panic("not yet") }

// Classify runs one batched model call for all digits of all jobs (the server's dynamic batcher calls this).
func (r *Recognizer) Classify(jobs []*Job) error { panic("not yet") }

// Result assembles the Result of a classified job.
func (j *Job) Result() *Result { panic("not yet") }

// Info returns the model's name and sha256.
func (r *Recognizer) Info() ModelInfo { panic("not yet") }
