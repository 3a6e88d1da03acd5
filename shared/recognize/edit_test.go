package recognize_test

import (
	"testing"

	"digitpad/shared/recognize"
)

func row(labels ...int) []recognize.Digit {
	ds := make([]recognize.Digit, len(labels))
	for i, l := range labels {
		x := 10 + 50*i
		ds[i] = recognize.Digit{Digit: l, Confidence: 0.9, Box: [4]int{x, 10, x + 40, 90}}
		ds[i].Probs[l] = 0.9
	}
	return ds
}

func mustFixes(t *testing.T) func([]recognize.Fix, error) []recognize.Fix {
	return func(f []recognize.Fix, err error) []recognize.Fix {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
}

// A "7" cut in two reads 75777 with the cut half flagged: deleting the extra digit gives 7777 without
// rewriting the code, and the deleted digit's doubt no longer blocks the confirm.
func TestReview_DeleteFixesASplitDigit(t *testing.T) {
	four, _ := recognize.ParseFormat("4")
	digits := row(7, 5, 7, 7, 7)
	r := recognize.ReviewDigits(four, digits, []int{1}, nil, false)
	if r.Code != "75777" || !r.Verdict.Format || r.Verdict.Reason != "5 digits, the format has 4: remove 1" {
		t.Fatalf("before: %q %+v", r.Code, r.Verdict)
	}
	fixes := mustFixes(t)(r.Delete(1))
	r = recognize.ReviewDigits(four, digits, []int{1}, fixes, false)
	if r.Code != "7777" || !r.Verdict.OK || !r.Edited || len(r.Deleted) != 1 || r.Deleted[0] != 1 {
		t.Fatalf("after delete: %q %+v edited=%v deleted=%v", r.Code, r.Verdict, r.Edited, r.Deleted)
	}
	// A later stroke on the left shifts every index; the deletion stays with its ink.
	later := append([]recognize.Digit{{Digit: 1, Box: [4]int{0, 10, 6, 90}}}, digits...)
	r = recognize.ReviewDigits(nil, later, nil, r.Fixes, false)
	if r.Code != "17777" || len(r.Deleted) != 1 || r.Deleted[0] != 2 {
		t.Errorf("after a later stroke: %q deleted %v", r.Code, r.Deleted)
	}
}

// Two digits read as one (3058 -> 358): inserting the missing 0 between 3 and 5 fixes the code; the insertion
// survives later strokes, can be changed and deleted again.
func TestReview_InsertFixesTwoDigitsReadAsOne(t *testing.T) {
	five, _ := recognize.ParseFormat("5")
	digits := row(3, 5, 8, 2)
	r := recognize.ReviewDigits(five, digits, nil, nil, false)
	fixes := mustFixes(t)(r.Insert(1, 0))
	r = recognize.ReviewDigits(five, digits, nil, fixes, false)
	if r.Code != "30582" || !r.Verdict.OK || !r.Edited || r.Slots[1].Index != -1 || !r.Slots[1].Fixed {
		t.Fatalf("after insert: %q %+v %+v", r.Code, r.Verdict, r.Slots)
	}
	// A stroke added after the last digit: the insertion keeps its place.
	more := append(row(3, 5, 8, 2), recognize.Digit{Digit: 1, Box: [4]int{220, 10, 260, 90}})
	r = recognize.ReviewDigits(nil, more, nil, r.Fixes, false)
	if r.Code != "305821" {
		t.Errorf("after a later stroke: %q", r.Code)
	}
	fixes = mustFixes(t)(r.Set(1, 6))
	r = recognize.ReviewDigits(nil, more, nil, fixes, false)
	if r.Code != "365821" || len(r.Fixes) != 1 {
		t.Errorf("inserted digit set to 6: %q fixes %v", r.Code, r.Fixes)
	}
	fixes = mustFixes(t)(r.Delete(1))
	r = recognize.ReviewDigits(nil, more, nil, fixes, false)
	if r.Code != "35821" || r.Edited || len(r.Fixes) != 0 {
		t.Errorf("insertion deleted: %q edited=%v fixes %v", r.Code, r.Edited, r.Fixes)
	}
	// At both ends, and twice at the same place in the order made.
	fixes = mustFixes(t)(r.Insert(0, 9))
	r = recognize.ReviewDigits(nil, more, nil, fixes, false)
	fixes = mustFixes(t)(r.Insert(len(r.Slots), 4))
	r = recognize.ReviewDigits(nil, more, nil, fixes, false)
	fixes = mustFixes(t)(r.Insert(len(r.Slots), 7))
	r = recognize.ReviewDigits(nil, more, nil, fixes, false)
	if r.Code != "93582147" {
		t.Errorf("inserted at both ends: %q", r.Code)
	}
	if _, err := r.Insert(99, 1); err == nil {
		t.Error("inserting outside the code is an error")
	}
	if _, err := r.Set(0, 10); err == nil {
		t.Error("10 is not a digit")
	}
}

// Setting a digit and then deleting it leaves one fix, a deletion; Set on a deleted digit is impossible (it
// has no slot), so Undo is the way back.
func TestReview_SetThenDelete(t *testing.T) {
	digits := row(3, 0, 5)
	r := recognize.ReviewDigits(nil, digits, []int{1}, nil, false)
	if r.Verdict.OK || len(r.Verdict.Doubtful) != 1 {
		t.Fatalf("flagged digit: %+v", r.Verdict)
	}
	fixes := mustFixes(t)(r.Set(1, 6))
	r = recognize.ReviewDigits(nil, digits, []int{1}, fixes, false)
	if r.Code != "365" || !r.Verdict.OK || r.Edited {
		t.Fatalf("set: %q %+v", r.Code, r.Verdict)
	}
	fixes = mustFixes(t)(r.Delete(1))
	r = recognize.ReviewDigits(nil, digits, []int{1}, fixes, false)
	if r.Code != "35" || len(r.Fixes) != 1 || r.Fixes[0].Op != recognize.FixDelete {
		t.Errorf("set then delete: %q fixes %v", r.Code, r.Fixes)
	}
	// ApplyFixes (set fixes only) ignores deletions and insertions.
	labels, fixed, kept := recognize.ApplyFixes(digits, fixes)
	if !equal(labels, []int{3, 0, 5}) || fixed[1] || len(kept) != 0 {
		t.Errorf("ApplyFixes with a deletion: %v %v %v", labels, fixed, kept)
	}
}

// A typed code goes through the same format rule as a written one.
func TestReviewTyped(t *testing.T) {
	five, _ := recognize.ParseFormat("5")
	for _, c := range []struct {
		typed, reason string
		ok            bool
	}{
		{"30582", "", true},
		{"3058", "4 of 5 digits: add 1", false},
		{"30 58", "character 3 is not a digit 0-9", false},
		{"", "write a code first", false},
	} {
		r := recognize.ReviewTyped(five, c.typed)
		if r.Verdict.OK != c.ok || r.Verdict.Reason != c.reason || !r.Typed {
			t.Errorf("typed %q: %+v", c.typed, r.Verdict)
		}
		if c.ok && (r.Code != c.typed || len(r.Slots) != 5 || r.Slots[0].Index != -1) {
			t.Errorf("typed %q: %q %+v", c.typed, r.Code, r.Slots)
		}
		if _, err := r.Set(0, 1); err == nil {
			t.Errorf("typed %q: a typed code is edited by typing", c.typed)
		}
	}
}
