//go:build e2e

package e2e_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"digitpad/desktop/kiosk"
)

// editState is what the editing story reads from the state file beyond kioskState.
type editState struct {
	storyState
	InsertAt int      `json:"insert_at"`
	Deleted  [][4]int `json:"deleted"`
	Edited   bool     `json:"edited"`
	Digits   []struct {
		Digit    int   `json:"digit"`
		Low      bool  `json:"low"`
		Inserted bool  `json:"inserted"`
		Top      []int `json:"top"`
	} `json:"digits"`
}

func waitEdit(k *kioskProc, what string, cond func(editState) bool) editState {
	k.t.Helper()
	var out editState
	k.waitRaw(what, func(b []byte) bool {
		var s editState
		if json.Unmarshal(b, &s) != nil {
			return false
		}
		out = s
		return cond(s)
	})
	return out
}

// TestKiosk_DoubtStopsAConfirmAndDigitsCanBeDeletedOrInserted is issue 11's point 4 on the kiosk, as a clerk
// meets it (every digit flagged: -threshold above any confidence):
//   - Confirm does not save a code with flagged digits: it selects the first one, whose likeliest readings are
//     marked on the keys, one tap away; tapping one sets the digit;
//   - a digit that is not one is deleted, a missed one inserted, with the Delete digit / Add digit buttons, so
//     a segmentation error is fixed without rewriting the code; four digits with format 5 show why they cannot
//     be confirmed after a pause;
//   - a second press on Confirm is the explicit "confirm anyway" for the digits still flagged.
func TestKiosk_DoubtStopsAConfirmAndDigitsCanBeDeletedOrInserted(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run this test under xvfb-run (make test-desktop)")
	}
	k := startKiosk(t, kioskBinary(t), []string{"-data", t.TempDir(), "-format", "5", "-threshold", "1.5",
		"-window", "1280x800", "-debounce", "50ms"})
	waitEdit(k, "the kiosk up", func(s editState) bool { return s.Phase == "drawing" })
	l := kiosk.NewLayout(kiosk.ScreenW, kiosk.ScreenH)
	n := writeCode(k, l, "29384", 4)
	st := waitEdit(k, "five digits read", func(s editState) bool {
		return s.Phase == "recognised" && s.Strokes == n && len(s.Code) == 5
	})
	read := st.Code

	k.click(kiosk.Centre(l.Confirm))
	st = waitEdit(k, "the first flagged digit selected", func(s editState) bool { return s.Phase == "correcting" })
	if st.Selected != 0 || len(st.Digits[0].Top) != 3 || st.Notice == "" {
		t.Fatalf("Confirm over flagged digits: selected %d, top %v, notice %q", st.Selected, st.Digits[0].Top, st.Notice)
	}
	time.Sleep(500 * time.Millisecond)
	k.screenshotAs("kiosk-check.png")
	alt := st.Digits[0].Top[1]
	k.click(kiosk.Centre(l.Keys[alt])) // one tap on the second likeliest reading
	st = waitEdit(k, "the alternative set", func(s editState) bool { return s.Phase == "recognised" && s.Digits[0].Digit == alt })
	if st.Digits[0].Low {
		t.Errorf("a digit the clerk set is still flagged: %+v", st.Digits[0])
	}

	// Digit 2 is not one: delete it.
	k.click(kiosk.Centre(l.Card(1, 5)))
	waitEdit(k, "digit 2 selected", func(s editState) bool { return s.Selected == 1 })
	k.click(kiosk.Centre(l.Undo)) // "Delete digit" while a digit is selected
	st = waitEdit(k, "digit 2 deleted", func(s editState) bool { return len(s.Code) == 4 })
	if want := string(rune('0'+alt)) + read[2:]; st.Code != want || len(st.Deleted) != 1 || !st.Edited {
		t.Errorf("after delete: code %q (want %q), deleted %v", st.Code, want, st.Deleted)
	}
	st = waitEdit(k, "the format problem after a pause", func(s editState) bool { return s.ShowFormat })
	if st.Notice != "4 of 5 digits: add 1" {
		t.Errorf("notice %q", st.Notice)
	}
	// A missed digit: insert a 6 after the first.
	k.click(kiosk.Centre(l.Card(0, 4)))
	waitEdit(k, "digit 1 selected", func(s editState) bool { return s.Selected == 0 })
	k.click(kiosk.Centre(l.Clear)) // "Add digit"
	waitEdit(k, "inserting after digit 1", func(s editState) bool { return s.InsertAt == 1 })
	k.click(kiosk.Centre(l.Keys[6]))
	st = waitEdit(k, "a 6 inserted", func(s editState) bool { return len(s.Code) == 5 })
	if st.Code[1] != '6' || !st.Digits[1].Inserted || st.ShowFormat {
		t.Errorf("after insert: code %q digits %+v", st.Code, st.Digits)
	}
	time.Sleep(500 * time.Millisecond)
	k.screenshotAs("kiosk-edit.png")
	want := st.Code

	// The remaining flagged digits: Confirm selects the next, a second press confirms anyway.
	k.click(kiosk.Centre(l.Confirm))
	waitEdit(k, "asked again", func(s editState) bool { return s.Phase == "correcting" && s.Notice != "" })
	k.click(kiosk.Centre(l.Confirm))
	st = waitEdit(k, "confirmed anyway", func(s editState) bool { return s.Phase == "confirmed" })
	if st.Saved != want {
		t.Errorf("saved %q, want %q", st.Saved, want)
	}
	k.stop()
}
