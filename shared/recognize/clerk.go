package recognize

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// This file holds the rules a shell asks before it lets a clerk confirm a code, and how a clerk's corrections
// stay with their digit while the ink around them changes. The web pad (through the wasm bridge) and the kiosk
// both use them, so the rules exist once.

// Problem says in a few words why code does not fit the format, "" when it does (or there is no format). The
// words fit a status line: "4 of 5 digits: add 1".
func (f *Format) Problem(code string) string {
	if f.Match(code) {
		return ""
	}
	if f.digits > 0 {
		n := len(code)
		switch {
		case n < f.digits:
			return fmt.Sprintf("%d of %d digits: add %d", n, f.digits, f.digits-n)
		case n > f.digits:
			return fmt.Sprintf("%d digits, the format has %d: remove %d", n, f.digits, n-f.digits)
		}
	}
	return "does not fit the " + f.desc
}

// String describes the format ("5 digits", "format ^7[0-9]{4}$"); "any code" for a nil format.
func (f *Format) String() string {
	if f == nil {
		return "any code"
	}
	return f.desc
}

// Fix is a clerk's decision about one digit: the digit at Box is Digit. A fix whose Digit equals the model's
// reading records that the clerk checked a doubtful digit. Op makes it a deletion or an insertion instead
// (FixDelete, FixInsert; see ReviewDigits).
type Fix struct {
	Box   [4]int `json:"box"`
	Digit int    `json:"digit"`
	Op    string `json:"op,omitempty"`
}

// minFixOverlap is the intersection-over-union a digit's box needs with a fix's box to keep the fix: a stroke
// written elsewhere leaves the box as it was; ink added to the digit itself changes it, and the fix lapses.
const minFixOverlap = 0.6

// ApplyFixes reads digits with the clerk's set fixes (deletions and insertions are ReviewDigits's): labels are
// the digits after fixes, fixed[i] says digit i carries a fix, and kept are the fixes that still found their
// digit (the others refer to ink that changed).
func ApplyFixes(digits []Digit, fixes []Fix) (labels []int, fixed []bool, kept []Fix) {
	labels = make([]int, len(digits))
	fixed = make([]bool, len(digits))
	for i, d := range digits {
		labels[i] = d.Digit
	}
	for _, fx := range fixes {
		if fx.Op != FixSet || fx.Digit < 0 || fx.Digit > 9 {
			continue
		}
		best, bestIoU := -1, minFixOverlap
		for i, d := range digits {
			if fixed[i] {
				continue
			}
			if v := iou(d.Box, fx.Box); v >= bestIoU {
				best, bestIoU = i, v
			}
		}
		if best < 0 {
			continue
		}
		labels[best], fixed[best] = fx.Digit, true
		kept = append(kept, Fix{Box: digits[best].Box, Digit: fx.Digit})
	}
	return labels, fixed, kept
}

func iou(a, b [4]int) float64 {
	ix := min(a[2], b[2]) - max(a[0], b[0])
	iy := min(a[3], b[3]) - max(a[1], b[1])
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := float64(ix * iy)
	area := func(r [4]int) float64 { return float64(max(0, r[2]-r[0]) * max(0, r[3]-r[1])) }
	return inter / (area(a) + area(b) - inter)
}

// Top returns the n likeliest readings of the digit, likeliest first (ties in digit order).
func (d Digit) Top(n int) []int {
	order := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(d.Probs[b], d.Probs[a]) })
	return order[:min(max(n, 0), 10)]
}

// Verdict says whether a code may be confirmed, and if not, why, in words for the clerk.
type Verdict struct {
	OK bool `json:"ok"`
	// Reason is empty when OK.
	Reason string `json:"reason,omitempty"`
	// Format marks a code that does not fit the format: it can never be confirmed as it is.
	Format bool `json:"format,omitempty"`
	// Doubtful lists the flagged digits (indexes) the clerk has not checked; confirming needs a tap on each
	// or one explicit "confirm anyway".
	Doubtful []int `json:"doubtful,omitempty"`
}

// CheckConfirm decides whether the code labels may be confirmed. flagged are the digits the recogniser asked
// to confirm (Result.Confirm), fixed says which digits the clerk corrected or checked, anyway is the clerk's
// explicit "confirm anyway" for the doubtful digits. A code that does not fit the format is never confirmable.
func CheckConfirm(f *Format, labels []int, flagged []int, fixed []bool, anyway bool) Verdict {
	if len(labels) == 0 {
		return Verdict{Reason: "write a code first"}
	}
	code := make([]byte, len(labels))
	for i, l := range labels {
		if l < 0 || l > 9 {
			return Verdict{Reason: fmt.Sprintf("digit %d is not 0-9", i+1)}
		}
		code[i] = byte('0' + l)
	}
	if p := f.Problem(string(code)); p != "" {
		return Verdict{Reason: p, Format: true}
	}
	var doubt []int
	for _, i := range flagged {
		if i >= 0 && i < len(labels) && (i >= len(fixed) || !fixed[i]) {
			doubt = append(doubt, i)
		}
	}
	if len(doubt) == 0 || anyway {
		return Verdict{OK: true, Doubtful: doubt}
	}
	names := make([]string, len(doubt))
	for k, i := range doubt {
		names[k] = fmt.Sprint(i + 1)
	}
	what := "digit " + names[0] + " (tap it)"
	if len(doubt) > 1 {
		what = "digits " + strings.Join(names, ", ") + " (tap them)"
	}
	return Verdict{Reason: "check " + what + " or confirm anyway", Doubtful: doubt}
}
