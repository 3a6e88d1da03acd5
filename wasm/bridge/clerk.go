package bridge

import (
	"encoding/json"
	"fmt"

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

// Clerk applies recognize.ApplyFixes and recognize.CheckConfirm to a JSON ClerkInput, for the pad's main
// thread (which holds the clerk's fixes and must not re-implement either rule).
func Clerk(in []byte) (*ClerkOutput, error) {
	var ci ClerkInput
	if err := json.Unmarshal(in, &ci); err != nil {
		return nil, wrapInvalid(fmt.Sprintf("clerk input: %v", err))
	}
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
