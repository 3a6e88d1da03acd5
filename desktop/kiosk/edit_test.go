package kiosk_test

import (
	"errors"
	"testing"
	"time"

	"digitpad/desktop/kiosk"
)

func typeKeys(a *kiosk.App, s string) {
	for _, c := range s {
		a.KeyRune(c)
	}
}

// Issue 11, point 10: a clerk types the whole code on the keyboard and edits it; Enter confirms, with the same
// format rule as a written code (recognize.CheckConfirm). The record carries no ink.
func TestApp_TypeTheWholeCodeWithTheKeyboard(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "5", FormatPause: time.Hour})
	typeKeys(r.app, "30588")
	r.app.Key(kiosk.KeyBackspace)
	s := r.wait(t, "typed", func(s kiosk.State) bool { return s.Code == "3058" && s.Typed })
	if s.CanConfirm || s.ShowFormat {
		t.Errorf("4 of 5 typed digits: can confirm %v, format shown %v", s.CanConfirm, s.ShowFormat)
	}
	r.app.Key(kiosk.KeyEnter)
	s = r.wait(t, "refused", func(s kiosk.State) bool { return s.ShowFormat })
	if s.Phase == kiosk.PhaseConfirmed || s.Notice != "not confirmed: 4 of 5 digits: add 1" {
		t.Errorf("Enter on 4 of 5 digits: phase %s notice %q", s.Phase, s.Notice)
	}
	r.app.Key(kiosk.KeyLeft) // the last digit selected; typing replaces it
	typeKeys(r.app, "9")
	typeKeys(r.app, "2")
	s = r.wait(t, "edited", func(s kiosk.State) bool { return s.Code == "30592" })
	r.app.Key(kiosk.KeyEnter)
	r.wait(t, "confirmed", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseConfirmed && s.Pending == 1 })
	r.stop()
	recs := readOutbox(t, r.cfg.DataDir)
	if len(recs) != 1 || recs[0].Code != "30592" || len(recs[0].InkPNG) != 0 || len(recs[0].Inputs) != 0 {
		t.Fatalf("outbox %+v", recs)
	}
}

// Issue 11, point 4: a segmentation error is fixed without rewriting the code: a digit is deleted, a missed
// one inserted, on screen (the Delete digit and Add digit buttons while a digit is selected); the record keeps
// the ink but no per-digit inputs.
func TestApp_DeleteAndInsertADigit(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "5"})
	l := r.app.Layout()
	r.write(t, "29384", 4)
	r.wait(t, "recognised", hasCode("29384"))
	r.tap(kiosk.Centre(l.Card(1, 5)))
	r.wait(t, "selected", func(s kiosk.State) bool { return s.Selected == 1 })
	r.tap(kiosk.Centre(l.Undo)) // "Delete digit"
	s := r.wait(t, "deleted", func(s kiosk.State) bool { return s.Code == "2384" })
	if len(s.Deleted) != 1 || !s.Edited {
		t.Errorf("after delete: %+v", s)
	}
	r.tap(kiosk.Centre(l.Card(0, 4)))
	r.wait(t, "selected", func(s kiosk.State) bool { return s.Selected == 0 })
	r.tap(kiosk.Centre(l.Clear)) // "Add digit" after the selected one
	r.wait(t, "inserting", func(s kiosk.State) bool { return s.InsertAt == 1 })
	r.tap(kiosk.Centre(l.Keys[6]))
	s = r.wait(t, "inserted", func(s kiosk.State) bool { return s.Code == "26384" })
	if !s.Digits[1].Inserted || s.Digits[1].Predicted != -1 {
		t.Errorf("inserted digit %+v", s.Digits[1])
	}
	r.app.Key(kiosk.KeyUndo)
	r.wait(t, "the insertion undone", func(s kiosk.State) bool { return s.Code == "2384" })
	typeKeys(r.app, "7") // typed with nothing selected: added at the end
	r.wait(t, "appended", func(s kiosk.State) bool { return s.Code == "23847" })
	r.confirm(t)
	r.stop()
	recs := readOutbox(t, r.cfg.DataDir)
	if len(recs) != 1 || recs[0].Code != "23847" || len(recs[0].InkPNG) == 0 || len(recs[0].Inputs) != 0 {
		t.Fatalf("outbox %+v", recs)
	}
}

// Issue 11, point 4: flagged digits stop a confirm: the first press selects the first doubtful digit with its
// likeliest readings one tap away; tapping one sets it; a second press on Confirm is the explicit "confirm
// anyway".
func TestApp_DoubtfulDigitsStopAConfirm(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "5", Threshold: 1.5})
	l := r.app.Layout()
	r.write(t, "29384", 4)
	r.wait(t, "recognised", hasCode("29384"))
	r.tap(kiosk.Centre(l.Confirm))
	s := r.wait(t, "asked to check", func(s kiosk.State) bool { return s.Message != "" })
	if s.Phase != kiosk.PhaseCorrecting || s.Selected != 0 || len(s.Digits[0].Top) != 3 || s.Digits[0].Top[0] != 2 {
		t.Fatalf("after Confirm over doubtful digits: phase %s selected %d top %v, notice %q", s.Phase, s.Selected,
			s.Digits[0].Top, s.Notice)
	}
	if s.Notice != "check digits 1, 2, 3, 4, 5 (tap them) or confirm anyway" {
		t.Errorf("notice %q", s.Notice)
	}
	alt := s.Digits[0].Top[1]
	r.tap(kiosk.Centre(l.Keys[alt])) // one tap on the second likeliest reading
	s = r.wait(t, "set", func(s kiosk.State) bool { return s.Digits[0].Digit == alt })
	if s.Digits[0].Low || !s.Digits[0].Corrected {
		t.Errorf("the tapped alternative: %+v", s.Digits[0])
	}
	r.tap(kiosk.Centre(l.Confirm))
	r.wait(t, "asked again for the others", func(s kiosk.State) bool { return s.Selected == 1 })
	r.tap(kiosk.Centre(l.Confirm))
	r.wait(t, "confirmed anyway", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseConfirmed })
	if err := r.app.UndoConfirm(); err != nil {
		t.Fatal(err)
	}
	if err := r.app.UndoConfirm(); err == nil || errors.Is(err, kiosk.ErrSending) {
		t.Errorf("a second undo: %v", err)
	}
}

// Issue 11, point 10: on a pad without ink the 0–9 keys are an on-screen number pad that types the code.
func TestApp_OnScreenKeysTypeACodeWithoutInk(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "5"})
	l := r.app.Layout()
	for _, d := range []int{3, 0, 5, 8, 2} {
		r.tap(kiosk.Centre(l.Keys[d]))
	}
	s := r.wait(t, "typed", func(s kiosk.State) bool { return s.Code == "30582" })
	if !s.Typed || !s.CanConfirm {
		t.Errorf("tapped code: typed %v can confirm %v", s.Typed, s.CanConfirm)
	}
	r.tap(kiosk.Centre(l.Confirm))
	r.wait(t, "confirmed", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseConfirmed && s.Saved == "30582" })
}
