package recognize_test

import (
	"testing"

	"digitpad/shared/recognize"
)

// A clerk who writes four digits with a 5-digit format sees four digits and a format error: the format never
// makes the recogniser cut the ink into more digits than it shows (issue 11: 3058 -> 31158, 7777 -> 75777).
func TestStrokes_FormatNeverInventsDigits(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{Format: "5"})
	for _, code := range []string{"3058", "2468", "7777", "1234", "905", "4711"} {
		for seed := uint64(1); seed <= 6; seed++ {
			c := mustWrite(t, code, seed, 640, 200)
			res, err := r.Strokes(c.Strokes, 640, 200, recognize.Options{})
			if err != nil {
				t.Fatalf("%s: %v", code, err)
			}
			if len(res.Digits) > len(code) {
				t.Errorf("%s seed %d: format 5 read %q (%d digits) from %d written", code, seed, res.Code, len(res.Digits), len(code))
			}
			if res.FormatError == "" {
				t.Errorf("%s seed %d: read %q with no format error", code, seed, res.Code)
			}
		}
	}
}

func TestCheckConfirm(t *testing.T) {
	five, err := recognize.ParseFormat("5")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		f       *recognize.Format
		labels  []int
		flagged []int
		fixed   []bool
		anyway  bool
		ok      bool
		format  bool
		reason  string
	}{
		{"four digits with format 5", five, []int{3, 0, 5, 8}, nil, nil, false, false, true, "4 of 5 digits: add 1"},
		{"six digits with format 5", five, []int{3, 0, 5, 8, 2, 1}, nil, nil, true, false, true, "6 digits, the format has 5: remove 1"},
		{"confirm anyway never passes a format error", five, []int{3, 0, 5}, []int{1}, nil, true, false, true, "3 of 5 digits: add 2"},
		{"clean code", five, []int{3, 0, 5, 8, 2}, nil, nil, false, true, false, ""},
		{"flagged digit unchecked", five, []int{3, 0, 5, 8, 2}, []int{1, 3}, nil, false, false, false, "check digits 2, 4 (tap them) or confirm anyway"},
		{"flagged digits checked", five, []int{3, 0, 5, 8, 2}, []int{1, 3}, []bool{false, true, false, true, false}, false, true, false, ""},
		{"confirm anyway", five, []int{3, 0, 5, 8, 2}, []int{1}, nil, true, true, false, ""},
		{"any length", nil, []int{3, 6, 5}, nil, nil, false, true, false, ""},
		{"empty", nil, nil, nil, nil, true, false, false, "write a code first"},
	}
	for _, c := range cases {
		v := recognize.CheckConfirm(c.f, c.labels, c.flagged, c.fixed, c.anyway)
		if v.OK != c.ok || v.Format != c.format || v.Reason != c.reason {
			t.Errorf("%s: got %+v, want ok=%v format=%v reason %q", c.name, v, c.ok, c.format, c.reason)
		}
	}
}

func TestApplyFixes_StayWithTheirDigit(t *testing.T) {
	d := func(digit, x int) recognize.Digit {
		return recognize.Digit{Digit: digit, Box: [4]int{x, 10, x + 40, 90}}
	}
	first := []recognize.Digit{d(3, 10), d(0, 60), d(5, 110)}
	// The clerk corrects the middle digit to 6.
	fixes := []recognize.Fix{{Box: first[1].Box, Digit: 6}}
	// A later stroke adds a digit on the left: every index shifts, the corrected digit's box stays.
	later := []recognize.Digit{{Digit: 1, Box: [4]int{0, 10, 8, 90}}, d(3, 10), d(0, 60), d(5, 110)}
	labels, fixed, kept := recognize.ApplyFixes(later, fixes)
	if want := []int{1, 3, 6, 5}; !equal(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	if !fixed[2] || fixed[0] || fixed[1] || fixed[3] || len(kept) != 1 {
		t.Errorf("fixed %v kept %v", fixed, kept)
	}
	// Ink added to the corrected digit itself changes its box: the correction lapses.
	grown := []recognize.Digit{d(3, 10), {Digit: 8, Box: [4]int{60, 10, 140, 90}}}
	labels, _, kept = recognize.ApplyFixes(grown, fixes)
	if want := []int{3, 8}; !equal(labels, want) || len(kept) != 0 {
		t.Errorf("grown: labels %v kept %v, want %v and none", labels, kept, want)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDigitTop(t *testing.T) {
	d := recognize.Digit{Probs: [10]float64{0.01, 0.5, 0.02, 0.01, 0.3, 0, 0, 0.16, 0, 0}}
	if got := d.Top(3); !equal(got, []int{1, 4, 7}) {
		t.Errorf("Top(3) = %v, want [1 4 7]", got)
	}
}
