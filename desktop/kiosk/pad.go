package kiosk

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"digitpad/shared/ink"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// Phase is where the pad is in writing one code.
type Phase string

// Phases of the pad. A code goes drawing -> recognised (-> correcting -> recognised)* -> saving -> confirmed;
// the next pen-down on the pad starts the next code.
const (
	// PhaseDrawing: no ink yet, or ink whose recognition is still running.
	PhaseDrawing Phase = "drawing"
	// PhaseRecognised: the digits shown belong to the ink shown.
	PhaseRecognised Phase = "recognised"
	// PhaseCorrecting: the clerk tapped a digit; the 0–9 keys replace it.
	PhaseCorrecting Phase = "correcting"
	// PhaseSaving: the confirmed code is being written to the outbox.
	PhaseSaving Phase = "saving"
	// PhaseConfirmed: the code is in the outbox; it stays on screen until the next code begins.
	PhaseConfirmed Phase = "confirmed"
)

// Errors of pad transitions that the current phase does not allow.
var (
	ErrNotRecognised = errors.New("no recognised code on the pad yet")
	ErrNoSuchDigit   = errors.New("no such digit")
	ErrNotCorrecting = errors.New("tap a digit before choosing its correction")
	ErrBadLabel      = errors.New("a correction must be a digit 0..9")
	ErrFormat        = errors.New("not confirmed")
	ErrDoubt         = errors.New("please check")
)

// Pad is the state machine of one kiosk pad: the ink, its recognition, the clerk's corrections, and an undo
// history. It does no I/O and is not safe for concurrent use; App serialises access to it.
type Pad struct {
	phase    Phase
	strokes  []ink.Stroke
	gen      uint64 // bumped on every change of the ink, so late recognitions are recognised as stale
	result   *recognize.Result
	resGen   uint64
	recErr   error
	labels   []int
	selected int
	history  []edit
	fixes    []recognize.Fix // the clerk's corrections and checks, kept with their digit across strokes
	fixed    []bool
	anyway   bool // the clerk pressed Confirm once over doubtful digits: the next press confirms anyway
	format   *recognize.Format
	formatS  string
}

// edit is one undoable step: a stroke, a correction (prev holds the fixes before it), or a scratch-out
// (erased holds the strokes before it).
type edit struct {
	stroke bool
	prev   []recognize.Fix
	erased []ink.Stroke
}

// NewPad returns an empty pad whose codes must match format ("" for any; see recognize.ParseFormat).
func NewPad(format string) (*Pad, error) {
	f, err := recognize.ParseFormat(format)
	if err != nil {
		return nil, err
	}
	return &Pad{phase: PhaseDrawing, selected: -1, format: f, formatS: format}, nil
}

// FormatError says why the corrected code does not match the format; empty when it does or nothing is
// recognised yet.
func (p *Pad) FormatError() string {
	if len(p.labels) == 0 {
		return ""
	}
	return p.format.Problem(p.Code())
}

// Phase returns the current phase.
func (p *Pad) Phase() Phase { return p.phase }

// Gen identifies the current ink; it changes whenever a stroke is added or removed.
func (p *Pad) Gen() uint64 { return p.gen }

// Strokes returns the ink. Strokes are never modified once added, so the slice may be read without copying.
func (p *Pad) Strokes() []ink.Stroke { return slices.Clip(p.strokes) }

// Result returns the recognition of the current ink, or nil while it is pending or when there is no ink.
func (p *Pad) Result() *recognize.Result {
	if p.result == nil || p.resGen != p.gen {
		return nil
	}
	return p.result
}

// RecognitionError is the error of the last recognition of the current ink (nil when it succeeded, when the
// pad is empty or when recognition is pending).
func (p *Pad) RecognitionError() error {
	if p.resGen != p.gen {
		return nil
	}
	return p.recErr
}

// Labels returns the code's digits after corrections.
func (p *Pad) Labels() []int { return slices.Clone(p.labels) }

// Code returns the code after corrections ("" until recognised).
func (p *Pad) Code() string { return protocol.LabelsCode(p.labels) }

// Selected is the digit being corrected, or -1.
func (p *Pad) Selected() int { return p.selected }

// Corrected reports whether digit i was changed by the clerk.
func (p *Pad) Corrected(i int) bool {
	r := p.Result()
	return r != nil && i >= 0 && i < len(r.Digits) && i < len(p.labels) && i < len(p.fixed) && p.fixed[i] &&
		p.labels[i] != r.Digits[i].Digit
}

// Fixed reports whether the clerk corrected or checked digit i.
func (p *Pad) Fixed(i int) bool { return i >= 0 && i < len(p.fixed) && p.fixed[i] }

// AddStroke adds a finished stroke. On a confirmed code it first clears the pad: the next code begins.
// Corrections stay with their digit (recognize.ApplyFixes) unless the stroke changed that digit's ink.
func (p *Pad) AddStroke(s ink.Stroke) {
	if len(s) == 0 {
		return
	}
	if p.phase == PhaseConfirmed || p.phase == PhaseSaving {
		p.Clear()
	}
	p.strokes = append(p.strokes, s)
	p.history = append(p.history, edit{stroke: true})
	p.inkChanged()
}

// BeginStroke tells the pad a new stroke started; a confirmed code is cleared so the next one starts on a
// blank pad while the clerk is still writing its first stroke.
func (p *Pad) BeginStroke() {
	if p.phase == PhaseConfirmed {
		p.Clear()
	}
	if p.phase == PhaseCorrecting {
		p.selected = -1
		p.phase = PhaseRecognised
	}
}

func (p *Pad) inkChanged() {
	p.gen++
	p.labels, p.fixed = nil, nil
	p.selected = -1
	p.anyway = false
	p.phase = PhaseDrawing
}

// SetResult records the recognition of ink generation gen; it reports false (and changes nothing) when the
// ink changed meanwhile. ink.ErrNoInk counts as an empty result.
func (p *Pad) SetResult(gen uint64, res *recognize.Result, err error) bool {
	if gen != p.gen || p.phase == PhaseSaving || p.phase == PhaseConfirmed {
		return false
	}
	if errors.Is(err, ink.ErrNoInk) {
		res, err = nil, nil
	}
	if err != nil {
		res = nil
	}
	p.result, p.resGen, p.recErr = res, gen, err
	p.labels = nil
	p.selected = -1
	p.phase = PhaseDrawing
	if res != nil && len(res.Digits) > 0 {
		p.applyFixes()
		p.phase = PhaseRecognised
	}
	return true
}

// applyFixes reads the result with the clerk's fixes; fixes whose digit's ink changed lapse.
func (p *Pad) applyFixes() {
	p.labels, p.fixed, p.fixes = recognize.ApplyFixes(p.result.Digits, p.fixes)
}

// Select starts correcting digit i; selecting the digit already selected cancels the correction.
func (p *Pad) Select(i int) error {
	if p.phase != PhaseRecognised && p.phase != PhaseCorrecting {
		return ErrNotRecognised
	}
	if i < 0 || i >= len(p.labels) {
		return fmt.Errorf("%w: %d of %d", ErrNoSuchDigit, i, len(p.labels))
	}
	if p.phase == PhaseCorrecting && p.selected == i {
		p.selected, p.phase = -1, PhaseRecognised
		return nil
	}
	p.selected, p.phase = i, PhaseCorrecting
	return nil
}

// Correct replaces the selected digit with d and ends the correction.
func (p *Pad) Correct(d int) error {
	if p.phase != PhaseCorrecting {
		return ErrNotCorrecting
	}
	if d < 0 || d > 9 {
		return fmt.Errorf("%w, got %d", ErrBadLabel, d)
	}
	i := p.selected
	if p.labels[i] != d || !p.fixed[i] { // a correction, or the clerk checking a digit
		p.history = append(p.history, edit{prev: slices.Clone(p.fixes)})
		box := p.result.Digits[i].Box
		p.fixes = append(slices.DeleteFunc(p.fixes, func(f recognize.Fix) bool { return f.Box == box }),
			recognize.Fix{Box: box, Digit: d})
		p.applyFixes()
		p.anyway = false
	}
	p.selected, p.phase = -1, PhaseRecognised
	return nil
}

// Undo reverts the last correction, or else removes the last stroke. A confirmed or saving code cannot be
// undone: it is already in the outbox.
func (p *Pad) Undo() {
	if !p.CanUndo() {
		return
	}
	e := p.history[len(p.history)-1]
	p.history = p.history[:len(p.history)-1]
	if e.erased != nil {
		p.strokes = e.erased
		p.inkChanged()
		return
	}
	if !e.stroke {
		p.fixes = e.prev
		if p.Result() != nil {
			p.applyFixes()
			p.selected, p.phase = -1, PhaseRecognised
		}
		return
	}
	p.strokes = p.strokes[:len(p.strokes)-1]
	p.inkChanged()
	if len(p.strokes) == 0 {
		p.result, p.resGen, p.recErr = nil, p.gen, nil
	}
}

// ScratchOut erases the strokes the last stroke scribbled over, with the scribble (ink.ScratchOut), as one
// undoable step; it reports whether anything was erased.
func (p *Pad) ScratchOut() bool {
	erase := ink.ScratchOut(p.strokes)
	if erase == nil {
		return false
	}
	before := slices.Clone(p.strokes[:len(p.strokes)-1]) // Undo brings back the ink, not the scribble
	// The scribble's own stroke edit is replaced by the scratch-out.
	if n := len(p.history); n > 0 && p.history[n-1].stroke {
		p.history = p.history[:n-1]
	}
	p.history = append(p.history, edit{erased: before})
	kept := make([]ink.Stroke, 0, len(p.strokes))
	for i, s := range p.strokes {
		if !slices.Contains(erase, i) {
			kept = append(kept, s)
		}
	}
	p.strokes = kept
	p.inkChanged()
	if len(p.strokes) == 0 {
		p.result, p.resGen, p.recErr = nil, p.gen, nil
	}
	return true
}

// Clear empties the pad.
func (p *Pad) Clear() {
	p.strokes = nil
	p.history = nil
	p.fixes = nil
	p.inkChanged()
	p.result, p.resGen, p.recErr = nil, p.gen, nil
}

// Draft is a code on its way to the outbox: everything a feedback record needs, copied out of the pad.
type Draft struct {
	Gen     uint64
	Strokes []ink.Stroke
	Result  *recognize.Result
	Labels  []int
}

// Code is the confirmed code.
func (d *Draft) Code() string { return protocol.LabelsCode(d.Labels) }

// BeginConfirm moves a recognised code that fits the format to PhaseSaving and returns its draft.
func (p *Pad) BeginConfirm() (*Draft, error) {
	res := p.Result()
	if p.phase != PhaseRecognised && p.phase != PhaseCorrecting || res == nil {
		return nil, ErrNotRecognised
	}
	v := recognize.CheckConfirm(p.format, p.labels, res.Confirm, p.fixed, p.anyway)
	if v.Format {
		return nil, fmt.Errorf("%w: %s", ErrFormat, v.Reason)
	}
	if !v.OK {
		p.anyway = true // one more press is the explicit "confirm anyway"
		names := make([]string, len(v.Doubtful))
		for k, i := range v.Doubtful {
			names[k] = fmt.Sprint(i + 1)
		}
		return nil, fmt.Errorf("%w digit %s (tap it) or press Confirm again", ErrDoubt, strings.Join(names, ", "))
	}
	p.selected = -1
	p.phase = PhaseSaving
	return &Draft{Gen: p.gen, Strokes: p.Strokes(), Result: res, Labels: slices.Clone(p.labels)}, nil
}

// EndConfirm finishes a BeginConfirm: the code is confirmed when saving succeeded, otherwise it returns to
// PhaseRecognised so the clerk can try again.
func (p *Pad) EndConfirm(d *Draft, err error) {
	if p.phase != PhaseSaving || d.Gen != p.gen {
		return
	}
	if err != nil {
		p.phase = PhaseRecognised
		return
	}
	p.phase = PhaseConfirmed
	p.history = nil
}

// Deselect ends a correction without changing the digit.
func (p *Pad) Deselect() {
	if p.phase == PhaseCorrecting {
		p.selected, p.phase = -1, PhaseRecognised
	}
}

// MoveSelection selects the digit step places from the selected one (the first or last when none is
// selected); it stays within the code.
func (p *Pad) MoveSelection(step int) error {
	if p.phase != PhaseRecognised && p.phase != PhaseCorrecting || len(p.labels) == 0 {
		return ErrNotRecognised
	}
	i := p.selected
	switch {
	case i < 0 && step > 0:
		i = 0
	case i < 0:
		i = len(p.labels) - 1
	default:
		i = min(max(i+step, 0), len(p.labels)-1)
	}
	p.selected, p.phase = i, PhaseCorrecting
	return nil
}
