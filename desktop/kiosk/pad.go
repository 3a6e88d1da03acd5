package kiosk

import (
	"errors"
	"fmt"
	"slices"

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

// reasonError is a refusal in the clerk's words (recognize.Verdict.Reason) that still matches its kind with
// errors.Is.
type reasonError struct {
	kind   error
	reason string
}

func (e *reasonError) Error() string { return e.reason }
func (e *reasonError) Unwrap() error { return e.kind }

// Pad is the state machine of one kiosk pad: the ink, its recognition, the clerk's edits (recognize.Review:
// set, delete and insert digits, or a code typed without ink), and an undo history. It does no I/O and is not
// safe for concurrent use; App serialises access to it.
type Pad struct {
	phase    Phase
	strokes  []ink.Stroke
	gen      uint64 // bumped on every change of the ink, so late recognitions are recognised as stale
	result   *recognize.Result
	resGen   uint64
	recErr   error
	review   *recognize.Review // the code as the clerk will confirm it; nil while nothing is read or typed
	selected int
	insertAt int // the next digit key inserts a digit here (slot index); -1: keys correct the selected digit
	history  []edit
	fixes    []recognize.Fix // the clerk's edits, kept with their digit across strokes (recognize.ReviewDigits)
	typed    []int           // a code typed without ink
	anyway   bool            // the clerk pressed Confirm once over doubtful digits: the next press confirms anyway
	format   *recognize.Format
	ver      uint64 // bumped whenever the code is read again (ink, recognition or an edit)
}

// Ver identifies the code on the pad; it changes whenever the code is read again or edited.
func (p *Pad) Ver() uint64 { return p.ver }

// edit is one undoable step: a stroke, an edit of the code (prev and prevTyped hold the fixes and typed code
// before it), or a scratch-out (erased holds the strokes before it).
type edit struct {
	stroke    bool
	prev      []recognize.Fix
	prevTyped []int
	erased    []ink.Stroke
}

// NewPad returns an empty pad whose codes must match format ("" for any; see recognize.ParseFormat).
func NewPad(format string) (*Pad, error) {
	f, err := recognize.ParseFormat(format)
	if err != nil {
		return nil, err
	}
	return &Pad{phase: PhaseDrawing, selected: -1, insertAt: -1, format: f}, nil
}

// FormatError says why the code does not match the format; empty when it does or nothing is read yet.
func (p *Pad) FormatError() string {
	if p.review == nil || len(p.review.Slots) == 0 {
		return ""
	}
	return p.format.Problem(p.review.Code)
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

// Review is the code as the clerk will confirm it, nil while nothing is read or typed.
func (p *Pad) Review() *recognize.Review { return p.review }

// RecognitionError is the error of the last recognition of the current ink (nil when it succeeded, when the
// pad is empty or when recognition is pending).
func (p *Pad) RecognitionError() error {
	if p.resGen != p.gen {
		return nil
	}
	return p.recErr
}

// Labels returns the code's digits after the clerk's edits.
func (p *Pad) Labels() []int {
	if p.review == nil {
		return nil
	}
	return p.review.Labels()
}

// Code returns the code after the clerk's edits ("" until read or typed).
func (p *Pad) Code() string {
	if p.review == nil {
		return ""
	}
	return p.review.Code
}

// Selected is the digit being corrected, or -1.
func (p *Pad) Selected() int { return p.selected }

// InsertAt is where the next digit key inserts a digit, or -1.
func (p *Pad) InsertAt() int { return p.insertAt }

// slot returns digit i of the code.
func (p *Pad) slot(i int) (recognize.Slot, bool) {
	if p.review == nil || i < 0 || i >= len(p.review.Slots) {
		return recognize.Slot{}, false
	}
	return p.review.Slots[i], true
}

// Corrected reports whether digit i was changed by the clerk (set to another digit, inserted or typed).
func (p *Pad) Corrected(i int) bool {
	s, ok := p.slot(i)
	if !ok || !s.Fixed {
		return false
	}
	r := p.Result()
	return s.Index < 0 || r == nil || s.Digit != r.Digits[s.Index].Digit
}

// Fixed reports whether the clerk corrected, checked, inserted or typed digit i.
func (p *Pad) Fixed(i int) bool { s, ok := p.slot(i); return ok && s.Fixed }

// Typed reports whether the code on the pad was typed without ink.
func (p *Pad) Typed() bool { return p.review != nil && p.review.Typed }

// AddStroke adds a finished stroke. On a confirmed code it first clears the pad: the next code begins.
// Edits stay with their digit (recognize.ReviewDigits) unless the stroke changed that digit's ink.
func (p *Pad) AddStroke(s ink.Stroke) {
	if len(s) == 0 {
		return
	}
	if p.phase == PhaseConfirmed || p.phase == PhaseSaving {
		p.Clear()
	}
	if len(p.typed) > 0 { // writing replaces a typed code; Undo brings it back
		p.history = append(p.history, edit{prev: slices.Clone(p.fixes), prevTyped: p.typed})
		p.typed = nil
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
	p.Deselect()
}

func (p *Pad) inkChanged() {
	p.gen++
	p.ver++
	p.review = nil
	p.selected, p.insertAt = -1, -1
	p.anyway = false
	p.phase = PhaseDrawing
	if len(p.strokes) == 0 {
		p.result, p.resGen, p.recErr = nil, p.gen, nil
		p.reread()
	}
}

// SetResult records the recognition of ink generation gen; it reports false (and changes nothing) when the
// ink changed meanwhile. ink.ErrNoInk counts as an empty result.
func (p *Pad) SetResult(gen uint64, res *recognize.Result, err error) bool {
	if gen != p.gen || p.phase == PhaseSaving || p.phase == PhaseConfirmed {
		return false
	}
	if len(p.strokes) == 0 && res == nil && err == nil && p.result == nil {
		return false // nothing to read (a blank pad, or a code typed without ink): nothing changes
	}
	if errors.Is(err, ink.ErrNoInk) {
		res, err = nil, nil
	}
	if err != nil {
		res = nil
	}
	p.result, p.resGen, p.recErr = res, gen, err
	p.selected, p.insertAt = -1, -1
	p.reread()
	return true
}

// reread reads the code again from the recognition with the clerk's edits, or from the typed code.
func (p *Pad) reread() {
	p.ver++
	p.review = nil
	p.phase = PhaseDrawing
	switch r := p.Result(); {
	case r != nil && len(r.Digits) > 0:
		rv := recognize.ReviewDigits(p.format, r.Digits, r.Confirm, p.fixes, p.anyway)
		p.review, p.fixes = &rv, rv.Fixes
	case len(p.strokes) == 0 && len(p.typed) > 0:
		rv := recognize.ReviewTyped(p.format, protocol.LabelsCode(p.typed))
		p.review = &rv
	}
	if p.review != nil {
		p.phase = PhaseRecognised
		n := len(p.review.Slots)
		if p.selected >= n {
			p.selected = n - 1
		}
		if p.selected >= 0 {
			p.phase = PhaseCorrecting
		}
	}
}

// Select starts correcting digit i; selecting the digit already selected cancels the correction.
func (p *Pad) Select(i int) error {
	if p.phase != PhaseRecognised && p.phase != PhaseCorrecting {
		return ErrNotRecognised
	}
	if _, ok := p.slot(i); !ok {
		return fmt.Errorf("%w: %d of %d", ErrNoSuchDigit, i, len(p.Labels()))
	}
	if p.phase == PhaseCorrecting && p.selected == i && p.insertAt < 0 {
		p.Deselect()
		return nil
	}
	p.selected, p.insertAt, p.phase = i, -1, PhaseCorrecting
	return nil
}

// Deselect ends a correction (or an insertion) without changing the code.
func (p *Pad) Deselect() {
	if p.phase == PhaseCorrecting {
		p.selected, p.insertAt, p.phase = -1, -1, PhaseRecognised
	}
}

// MoveSelection selects the digit step places from the selected one (the first or last when none is
// selected); it stays within the code.
func (p *Pad) MoveSelection(step int) error {
	if p.phase != PhaseRecognised && p.phase != PhaseCorrecting || len(p.Labels()) == 0 {
		return ErrNotRecognised
	}
	n, i := len(p.Labels()), p.selected
	switch {
	case i < 0 && step > 0:
		i = 0
	case i < 0:
		i = n - 1
	default:
		i = min(max(i+step, 0), n-1)
	}
	p.selected, p.insertAt, p.phase = i, -1, PhaseCorrecting
	return nil
}

// BeginInsert makes the next digit key insert a digit after the selected one (at the end when none is).
func (p *Pad) BeginInsert() error {
	if p.phase != PhaseRecognised && p.phase != PhaseCorrecting {
		return ErrNotRecognised
	}
	at := len(p.Labels())
	if p.selected >= 0 {
		at = p.selected + 1
	}
	p.insertAt, p.phase = at, PhaseCorrecting
	return nil
}

// edit applies one change of the code as an undoable step.
func (p *Pad) editCode(fixes []recognize.Fix, typed []int) {
	p.history = append(p.history, edit{prev: slices.Clone(p.fixes), prevTyped: slices.Clone(p.typed)})
	p.fixes, p.typed = fixes, typed
	p.anyway = false
	p.reread()
}

// Correct sets the selected digit to d (the same digit: the clerk checked it), or inserts d where BeginInsert
// said; the correction ends.
func (p *Pad) Correct(d int) error {
	if p.phase != PhaseCorrecting {
		return ErrNotCorrecting
	}
	if d < 0 || d > 9 {
		return fmt.Errorf("%w, got %d", ErrBadLabel, d)
	}
	if p.insertAt >= 0 {
		at := p.insertAt
		if err := p.Insert(at, d); err != nil {
			return err
		}
		p.Deselect()
		return nil
	}
	i := p.selected
	if s, ok := p.slot(i); ok && (s.Digit != d || !s.Fixed) {
		if p.review.Typed {
			t := slices.Clone(p.typed)
			t[i] = d
			p.editCode(p.fixes, t)
		} else {
			fixes, err := p.review.Set(i, d)
			if err != nil {
				return err
			}
			p.editCode(fixes, p.typed)
		}
	}
	p.Deselect()
	return nil
}

// Delete removes digit i from the code (a stray mark or half of a digit cut in two; recognize.Review.Delete).
func (p *Pad) Delete(i int) error {
	if p.phase != PhaseRecognised && p.phase != PhaseCorrecting {
		return ErrNotRecognised
	}
	if _, ok := p.slot(i); !ok {
		return fmt.Errorf("%w: %d of %d", ErrNoSuchDigit, i, len(p.Labels()))
	}
	sel := p.selected
	if p.review.Typed {
		p.editCode(p.fixes, slices.Delete(slices.Clone(p.typed), i, i+1))
	} else {
		fixes, err := p.review.Delete(i)
		if err != nil {
			return err
		}
		p.editCode(fixes, p.typed)
	}
	p.insertAt = -1
	if n := len(p.Labels()); sel >= 0 && n > 0 {
		p.selected, p.phase = min(sel, n-1), PhaseCorrecting
	} else {
		p.Deselect()
	}
	return nil
}

// Insert puts digit d at position at of the code (0: first; len: last): a digit the recogniser missed, or a
// digit of a code typed without ink.
func (p *Pad) Insert(at, d int) error {
	if d < 0 || d > 9 {
		return fmt.Errorf("%w, got %d", ErrBadLabel, d)
	}
	switch {
	case p.phase == PhaseDrawing && len(p.strokes) == 0 && len(p.typed) == 0 && at == 0:
		p.editCode(p.fixes, []int{d}) // the first digit of a typed code
		return nil
	case p.phase != PhaseRecognised && p.phase != PhaseCorrecting:
		return ErrNotRecognised
	case at < 0 || at > len(p.Labels()):
		return fmt.Errorf("%w: %d of %d", ErrNoSuchDigit, at, len(p.Labels()))
	case p.review.Typed:
		p.editCode(p.fixes, slices.Insert(slices.Clone(p.typed), at, d))
		return nil
	}
	fixes, err := p.review.Insert(at, d)
	if err != nil {
		return err
	}
	p.editCode(fixes, p.typed)
	return nil
}

// Undo reverts the last edit of the code, or else removes the last stroke. A confirmed or saving code cannot
// be undone: it is already in the outbox.
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
		p.fixes, p.typed = e.prev, e.prevTyped
		p.selected, p.insertAt = -1, -1
		p.reread()
		return
	}
	p.strokes = p.strokes[:len(p.strokes)-1]
	p.inkChanged()
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
	return true
}

// Clear empties the pad.
func (p *Pad) Clear() {
	p.strokes = nil
	p.history = nil
	p.fixes = nil
	p.typed = nil
	p.inkChanged()
}

// Draft is a code on its way to the outbox: everything a feedback record needs, copied out of the pad.
type Draft struct {
	Gen     uint64
	Strokes []ink.Stroke
	Result  *recognize.Result // nil for a typed code
	Labels  []int
	// Edited: digits were deleted or inserted; Typed: the code was typed without ink (recognize.Review).
	Edited, Typed bool
}

// Code is the confirmed code.
func (d *Draft) Code() string { return protocol.LabelsCode(d.Labels) }

// BeginConfirm moves a code that fits the format (recognize.CheckConfirm through recognize.Review) to
// PhaseSaving and returns its draft. Doubtful digits need a tap each, or a second press: "confirm anyway".
func (p *Pad) BeginConfirm() (*Draft, error) {
	if p.phase != PhaseRecognised && p.phase != PhaseCorrecting || p.review == nil {
		return nil, ErrNotRecognised
	}
	rv := *p.review
	if r := p.Result(); r != nil && !rv.Typed {
		rv = recognize.ReviewDigits(p.format, r.Digits, r.Confirm, p.fixes, p.anyway)
	}
	v := rv.Verdict
	if v.Format {
		return nil, fmt.Errorf("%w: %s", ErrFormat, v.Reason)
	}
	if !v.OK {
		if len(v.Doubtful) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrNotRecognised, v.Reason)
		}
		p.anyway = true // one more press is the explicit "confirm anyway"
		// The first doubtful digit is selected: its likeliest readings are one tap away on the keys.
		p.selected, p.insertAt, p.phase = v.Doubtful[0], -1, PhaseCorrecting
		return nil, &reasonError{ErrDoubt, v.Reason}
	}
	p.selected, p.insertAt = -1, -1
	p.phase = PhaseSaving
	return &Draft{Gen: p.gen, Strokes: p.Strokes(), Result: p.Result(), Labels: rv.Labels(), Edited: rv.Edited,
		Typed: rv.Typed}, nil
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

// Reopen puts a confirmed code back on the pad (its confirm was withdrawn): it can be edited and confirmed
// again. The undo history starts afresh.
func (p *Pad) Reopen() {
	if p.phase != PhaseConfirmed || p.review == nil {
		return
	}
	p.phase, p.selected, p.insertAt, p.anyway = PhaseRecognised, -1, -1, false
}
