package bridge

import (
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// ClerkInput is what the pad knows about the code on screen: the recogniser's digits and flags, the clerk's
// fixes, the format and whether the clerk pressed "confirm anyway".
type ClerkInput struct {
	Digits  []recognize.Digit `json:"digits"`
	Confirm []int             `json:"confirm"`
	Fixes   []recognize.Fix   `json:"fixes"`
	Format  string            `json:"format"`
	Anyway  bool              `json:"anyway"`
}

// ClerkOutput is how the pad shows that code: the digits after the fixes that still find their digit, and
// whether (and why not) it may be confirmed.
type ClerkOutput struct {
	Code    string            `json:"code"`
	Labels  []int             `json:"labels"`
	Fixed   []bool            `json:"fixed"`
	Fixes   []recognize.Fix   `json:"fixes"`
	Verdict recognize.Verdict `json:"verdict"`
	// Alternatives are each digit's three likeliest readings, likeliest first: one tap away in the picker.
	Alternatives [][]int `json:"alternatives"`
}

// Clerk applies recognize.ApplyFixes and recognize.CheckConfirm to what the pad knows, for the pad's main
// thread (which holds the clerk's fixes and must not re-implement either rule).
func Clerk(ci ClerkInput) (*ClerkOutput, error) {
	f, err := recognize.ParseFormat(ci.Format)
	if err != nil {
		return nil, wrapInvalid(err.Error())
	}
	labels, fixed, kept := recognize.ApplyFixes(ci.Digits, ci.Fixes)
	if kept == nil {
		kept = []recognize.Fix{}
	}
	alts := make([][]int, len(ci.Digits))
	for i, d := range ci.Digits {
		alts[i] = d.Top(3)
	}
	return &ClerkOutput{
		Code: protocol.LabelsCode(labels), Labels: labels, Fixed: fixed, Fixes: kept,
		Verdict:      recognize.CheckConfirm(f, labels, ci.Confirm, fixed, ci.Anyway),
		Alternatives: alts,
	}, nil
}

// Object is the ClerkOutput as the JavaScript object the bridge returns (no encoding/json in the wasm: it
// would add ~150 kB gzip to the pad's download).
func (o *ClerkOutput) Object() map[string]any {
	ints := func(v []int) []any {
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	}
	fixed := make([]any, len(o.Fixed))
	for i, x := range o.Fixed {
		fixed[i] = x
	}
	fixes := make([]any, len(o.Fixes))
	for i, f := range o.Fixes {
		fixes[i] = map[string]any{"box": ints(f.Box[:]), "digit": f.Digit}
	}
	alts := make([]any, len(o.Alternatives))
	for i, a := range o.Alternatives {
		alts[i] = ints(a)
	}
	return map[string]any{
		"code": o.Code, "labels": ints(o.Labels), "fixed": fixed, "fixes": fixes, "alternatives": alts,
		"verdict": map[string]any{
			"ok": o.Verdict.OK, "reason": o.Verdict.Reason, "format": o.Verdict.Format, "doubtful": ints(o.Verdict.Doubtful),
		},
	}
}
