package recognize

import (
	"fmt"
	"slices"
)

// This file holds the clerk's edits of a code beyond correcting a digit: deleting a digit that is not one (a
// stray mark, half of a digit cut in two) and inserting a digit the recogniser missed (two digits read as
// one), so a segmentation error is fixed without rewriting the code; and typing the whole code without ink.
// The web pad (wasm bridge) and the kiosk both read a code through ReviewDigits / ReviewTyped and change it
// through Review.Set, Review.Delete and Review.Insert, so the rules exist once.

// Fix operations (Fix.Op).
const (
	// FixSet (the zero value): the digit at Box is Digit.
	FixSet = ""
	// FixDelete: the ink at Box is not a digit of the code; the digit there is dropped.
	FixDelete = "delete"
	// FixInsert: the code has a digit Digit that has no ink of its own, placed in reading order at the
	// horizontal centre of Box (a zero-width box between its neighbours, made by Review.Insert).
	FixInsert = "insert"
)

// Slot is one digit of the code as the clerk will confirm it.
type Slot struct {
	Digit int `json:"digit"`
	// Index is the recogniser's digit this slot reads, -1 for a digit the clerk inserted or typed.
	Index int `json:"index"`
	// Fixed: the clerk set, checked, inserted or typed this digit.
	Fixed bool `json:"fixed"`
	// Box is the digit's box, or where an inserted digit stands (zero width).
	Box [4]int `json:"box"`
	// Fix is the index in Review.Fixes of the fix behind this slot, -1 when there is none.
	Fix int `json:"fix"`
	// Top are the recognised digit's three likeliest readings, likeliest first (none for an inserted or typed
	// digit): one tap away in the shells' pickers.
	Top []int `json:"top,omitempty"`
}

// Review is a code as the clerk will confirm it: the recogniser's digits with the clerk's fixes, deletions and
// insertions applied (or a typed code), and whether it may be confirmed.
type Review struct {
	Code  string `json:"code"`
	Slots []Slot `json:"slots"`
	// Deleted are the recogniser's digits (indexes) the clerk deleted.
	Deleted []int `json:"deleted,omitempty"`
	// Fixes are the clerk's fixes that still apply (set and delete fixes that found their digit, and every
	// insertion), boxes updated to the digits' current boxes: the shell keeps these for the next reading.
	Fixes []Fix `json:"fixes"`
	// Edited: digits were deleted or inserted, so the code's digits no longer pair one to one with the
	// recogniser's (protocol.Confirmation.Edited).
	Edited bool `json:"edited,omitempty"`
	// Typed: the clerk typed the whole code; no ink stands behind it (protocol.Confirmation.Typed).
	Typed   bool    `json:"typed,omitempty"`
	Verdict Verdict `json:"verdict"`

	digits  []Digit
	confirm []int
	format  *Format
	anyway  bool
}

// Labels are the code's digits.
func (r *Review) Labels() []int {
	out := make([]int, len(r.Slots))
	for i, s := range r.Slots {
		out[i] = s.Digit
	}
	return out
}

// ReviewDigits reads the recogniser's digits with the clerk's fixes (set, delete, insert) and decides with
// CheckConfirm whether the code may be confirmed. confirm are the digits the recogniser flagged
// (Result.Confirm, indexes into digits); anyway is the clerk's explicit "confirm anyway".
func ReviewDigits(f *Format, digits []Digit, confirm []int, fixes []Fix, anyway bool) Review {
	r := Review{digits: digits, confirm: confirm, format: f, anyway: anyway, Fixes: []Fix{}}
	type match struct {
		fix int // index into r.Fixes
		op  string
	}
	byDigit := make([]*match, len(digits))
	var inserts []Fix
	for _, fx := range fixes {
		switch fx.Op {
		case FixInsert:
			if fx.Digit >= 0 && fx.Digit <= 9 {
				inserts = append(inserts, fx)
			}
			continue
		case FixSet:
			if fx.Digit < 0 || fx.Digit > 9 {
				continue
			}
		case FixDelete:
		default:
			continue
		}
		best, bestIoU := -1, minFixOverlap
		for i, d := range digits {
			if byDigit[i] != nil {
				continue
			}
			if v := iou(d.Box, fx.Box); v >= bestIoU {
				best, bestIoU = i, v
			}
		}
		if best < 0 {
			continue // the digit's ink changed: the fix lapses
		}
		kept := Fix{Box: digits[best].Box, Digit: fx.Digit, Op: fx.Op}
		if fx.Op == FixDelete {
			kept.Digit = 0
		}
		byDigit[best] = &match{fix: len(r.Fixes), op: fx.Op}
		r.Fixes = append(r.Fixes, kept)
	}
	for i, d := range digits {
		s := Slot{Digit: d.Digit, Index: i, Box: d.Box, Fix: -1, Top: d.Top(3)}
		if m := byDigit[i]; m != nil {
			if m.op == FixDelete {
				r.Deleted = append(r.Deleted, i)
				continue
			}
			s.Digit, s.Fixed, s.Fix = r.Fixes[m.fix].Digit, true, m.fix
		}
		r.Slots = append(r.Slots, s)
	}
	// Each insertion goes before the first slot whose centre lies right of it; insertions at the same place
	// keep the order in which they were made.
	for _, fx := range inserts {
		x2 := fx.Box[0] + fx.Box[2]
		at := len(r.Slots)
		for k, s := range r.Slots {
			if s.Box[0]+s.Box[2] > x2 {
				at = k
				break
			}
		}
		r.Slots = slices.Insert(r.Slots, at, Slot{Digit: fx.Digit, Index: -1, Fixed: true, Box: fx.Box, Fix: len(r.Fixes)})
		r.Fixes = append(r.Fixes, fx)
	}
	r.Edited = len(r.Deleted) > 0 || len(inserts) > 0
	r.finish()
	return r
}

// finish fills Code and Verdict from the slots.
func (r *Review) finish() {
	labels := r.Labels()
	fixed := make([]bool, len(r.Slots))
	slotOf := make(map[int]int, len(r.Slots))
	for k, s := range r.Slots {
		fixed[k] = s.Fixed
		if s.Index >= 0 {
			slotOf[s.Index] = k
		}
	}
	var flagged []int
	for _, i := range r.confirm {
		if k, ok := slotOf[i]; ok { // a deleted digit needs no check
			flagged = append(flagged, k)
		}
	}
	code := make([]byte, 0, len(labels))
	for _, l := range labels {
		code = append(code, byte('0'+l))
	}
	r.Code = string(code)
	r.Verdict = CheckConfirm(r.format, labels, flagged, fixed, r.anyway)
}

// ReviewTyped is a code the clerk typed instead of writing it: every character must be a digit, and the same
// format rule as for written codes applies (CheckConfirm). A typed code carries no ink.
func ReviewTyped(f *Format, typed string) Review {
	r := Review{format: f, Typed: true, Fixes: []Fix{}, Slots: []Slot{}}
	for i, c := range typed {
		if c < '0' || c > '9' {
			r.Code = typed
			r.Verdict = Verdict{Reason: fmt.Sprintf("character %d is not a digit 0-9", i+1), Format: true}
			return r
		}
		r.Slots = append(r.Slots, Slot{Digit: int(c - '0'), Index: -1, Fixed: true, Fix: -1})
	}
	r.finish()
	return r
}

// Set returns the fixes after the clerk says slot at is digit (the same digit: checked).
func (r *Review) Set(at, digit int) ([]Fix, error) {
	if err := r.editable(at, len(r.Slots)-1); err != nil {
		return nil, err
	}
	if digit < 0 || digit > 9 {
		return nil, fmt.Errorf("recognize: digit %d is not 0-9", digit)
	}
	s := r.Slots[at]
	fixes := slices.Clone(r.Fixes)
	if s.Fix >= 0 {
		fixes[s.Fix].Digit = digit
		return fixes, nil
	}
	return append(fixes, Fix{Box: s.Box, Digit: digit}), nil
}

// Delete returns the fixes after the clerk deletes slot at: an inserted digit's insertion is undone, a
// recognised digit is marked as not a digit of the code.
func (r *Review) Delete(at int) ([]Fix, error) {
	if err := r.editable(at, len(r.Slots)-1); err != nil {
		return nil, err
	}
	s := r.Slots[at]
	fixes := slices.Clone(r.Fixes)
	if s.Index < 0 {
		return slices.Delete(fixes, s.Fix, s.Fix+1), nil
	}
	if s.Fix >= 0 {
		fixes = slices.Delete(fixes, s.Fix, s.Fix+1)
	}
	return append(fixes, Fix{Box: s.Box, Op: FixDelete}), nil
}

// Insert returns the fixes after the clerk inserts digit so that it becomes slot at (0 = before the first
// digit, len(Slots) = after the last). The insertion stands in the gap between its neighbours' boxes (or
// midway between their centres when the boxes overlap); when two neighbours' centres are less than 1.5 px
// apart it lands after both.
func (r *Review) Insert(at, digit int) ([]Fix, error) {
	if err := r.editable(at, len(r.Slots)); err != nil {
		return nil, err
	}
	if digit < 0 || digit > 9 {
		return nil, fmt.Errorf("recognize: digit %d is not 0-9", digit)
	}
	n := len(r.Slots)
	if n == 0 {
		return nil, fmt.Errorf("recognize: nothing written to insert a digit into (type the code instead)")
	}
	c2 := func(s Slot) int { return s.Box[0] + s.Box[2] } // twice the centre
	var x int
	switch {
	case at == 0:
		x = r.Slots[0].Box[0] - 1 // just left of the first digit
	case at == n:
		x = r.Slots[n-1].Box[2] + 1 // just right of the last
	default:
		// In the gap between the neighbours' boxes when there is one, else midway between their centres.
		l, rt := r.Slots[at-1], r.Slots[at]
		x = floorDiv(l.Box[2]+rt.Box[0], 2)
		if 2*x < c2(l) || 2*x >= c2(rt) {
			x = floorDiv(c2(l)+c2(rt), 4)
		}
	}
	ref := r.Slots[min(at, n-1)].Box
	return append(slices.Clone(r.Fixes), Fix{Box: [4]int{x, ref[1], x, ref[3]}, Digit: digit, Op: FixInsert}), nil
}

func (r *Review) editable(at, last int) error {
	if r.Typed {
		return fmt.Errorf("recognize: a typed code is edited by typing")
	}
	if at < 0 || at > last {
		return fmt.Errorf("recognize: no digit %d in a code of %d", at+1, len(r.Slots))
	}
	return nil
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
