package kiosk_test

import (
	"testing"

	"digitpad/desktop/kiosk"
)

// CanUndo and CanConfirm say exactly what Undo and BeginConfirm then do, through a code's life.
func TestPad_CanUndoAndCanConfirmMatchWhatTheActionsDo(t *testing.T) {
	check := func(step string, p *kiosk.Pad, undo, confirm bool) {
		t.Helper()
		if p.CanUndo() != undo || p.CanConfirm() != confirm {
			t.Errorf("%s: CanUndo %v CanConfirm %v, want %v %v", step, p.CanUndo(), p.CanConfirm(), undo, confirm)
		}
	}
	p := mustPad(t, "2")
	check("blank pad", p, false, false)
	p.AddStroke(stroke(0))
	check("one stroke, not recognised yet", p, true, false)
	p.SetResult(p.Gen(), fakeResult([]int{1}), nil)
	check("one digit on a 2-digit format", p, true, false)
	if _, err := p.BeginConfirm(); err == nil {
		t.Error("BeginConfirm accepted what CanConfirm refused")
	}
	p.AddStroke(stroke(40))
	p.SetResult(p.Gen(), fakeResult([]int{1, 2}), nil)
	check("two digits", p, true, true)
	_ = p.Select(0)
	_ = p.Correct(7)
	check("corrected", p, true, true)
	d, err := p.BeginConfirm()
	if err != nil {
		t.Fatalf("BeginConfirm refused what CanConfirm allowed: %v", err)
	}
	check("saving", p, false, false)
	p.EndConfirm(d, nil)
	check("confirmed", p, false, false)
	n := len(p.Strokes())
	p.Undo()
	if len(p.Strokes()) != n {
		t.Error("Undo acted where CanUndo said no")
	}
}

// The screen reads them from the state.
func TestApp_StateCarriesCanUndoAndCanConfirm(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "5"})
	if s := r.app.State(); s.CanUndo || s.CanConfirm {
		t.Errorf("blank kiosk: CanUndo %v CanConfirm %v, want false false", s.CanUndo, s.CanConfirm)
	}
	r.write(t, "80331", 3)
	s := r.wait(t, "the code recognised", hasCode("80331"))
	if !s.CanUndo || !s.CanConfirm {
		t.Errorf("recognised code: CanUndo %v CanConfirm %v, want true true", s.CanUndo, s.CanConfirm)
	}
}
