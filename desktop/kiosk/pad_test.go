package kiosk_test

import (
	"errors"
	"testing"

	"digitpad/desktop/kiosk"
	"digitpad/shared/ink"
	"digitpad/shared/recognize"
)

func stroke(x float64) ink.Stroke { return ink.Stroke{{X: x, Y: 0}, {X: x, Y: 50}} }

// fakeResult is a recognition of the given digits with the given confidences.
func fakeResult(digits []int, conf ...float64) *recognize.Result {
	r := &recognize.Result{Confirm: []int{}}
	code := ""
	for i, d := range digits {
		c := 0.99
		if i < len(conf) {
			c = conf[i]
		}
		r.Digits = append(r.Digits, recognize.Digit{Digit: d, Confidence: c, Box: [4]int{i * 40, 0, i*40 + 30, 50}})
		r.Inputs = append(r.Inputs, [784]float32{})
		code += string(rune('0' + d))
	}
	r.Code = code
	return r
}

func mustPad(t *testing.T, format string) *kiosk.Pad {
	t.Helper()
	p, err := kiosk.NewPad(format)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// recognised returns a pad showing the given digits, as after strokes and one recognition.
func recognised(t *testing.T, format string, digits ...int) *kiosk.Pad {
	t.Helper()
	p := mustPad(t, format)
	for i := range digits {
		p.AddStroke(stroke(float64(i * 40)))
	}
	if !p.SetResult(p.Gen(), fakeResult(digits), nil) {
		t.Fatal("SetResult for the current ink was ignored")
	}
	return p
}

func checkPhase(t *testing.T, p *kiosk.Pad, want kiosk.Phase) {
	t.Helper()
	if got := p.Phase(); got != want {
		t.Fatalf("phase = %s, want %s", got, want)
	}
}

func TestPad_StrokeIsRecognised(t *testing.T) {
	p := mustPad(t, "")
	checkPhase(t, p, kiosk.PhaseDrawing)
	p.AddStroke(stroke(0))
	checkPhase(t, p, kiosk.PhaseDrawing)
	if p.Result() != nil {
		t.Fatal("a result before recognition ran")
	}
	p.SetResult(p.Gen(), fakeResult([]int{4, 2}), nil)
	checkPhase(t, p, kiosk.PhaseRecognised)
	if got := p.Code(); got != "42" {
		t.Errorf("code = %q, want 42", got)
	}
}

func TestPad_LateRecognitionOfOlderInkIsIgnored(t *testing.T) {
	p := mustPad(t, "")
	p.AddStroke(stroke(0))
	old := p.Gen()
	p.AddStroke(stroke(40))
	if p.SetResult(old, fakeResult([]int{1}), nil) {
		t.Error("SetResult accepted a result for ink that has changed since")
	}
	checkPhase(t, p, kiosk.PhaseDrawing)
	if p.Code() != "" {
		t.Errorf("code = %q from a stale result", p.Code())
	}
}

func TestPad_NoInkIsAnEmptyResult(t *testing.T) {
	p := mustPad(t, "")
	p.AddStroke(ink.Stroke{{X: 1, Y: 1}})
	p.SetResult(p.Gen(), nil, ink.ErrNoInk)
	checkPhase(t, p, kiosk.PhaseDrawing)
	if err := p.RecognitionError(); err != nil {
		t.Errorf("RecognitionError = %v, want nil for no ink", err)
	}
	p.SetResult(p.Gen(), nil, errors.New("model broke"))
	if p.RecognitionError() == nil {
		t.Error("a failed recognition left no error")
	}
}

func TestPad_CorrectATappedDigit(t *testing.T) {
	p := recognised(t, "", 1, 2, 3)
	if err := p.Select(1); err != nil {
		t.Fatal(err)
	}
	checkPhase(t, p, kiosk.PhaseCorrecting)
	if p.Selected() != 1 {
		t.Errorf("selected = %d, want 1", p.Selected())
	}
	if err := p.Correct(7); err != nil {
		t.Fatal(err)
	}
	checkPhase(t, p, kiosk.PhaseRecognised)
	if got := p.Code(); got != "173" {
		t.Errorf("code = %q, want 173", got)
	}
	if !p.Corrected(1) || p.Corrected(0) {
		t.Errorf("Corrected = %v,%v, want only digit 1", p.Corrected(0), p.Corrected(1))
	}
}

func TestPad_TappingTheSelectedDigitAgainCancels(t *testing.T) {
	p := recognised(t, "", 1, 2)
	_ = p.Select(0)
	_ = p.Select(0)
	checkPhase(t, p, kiosk.PhaseRecognised)
	if p.Selected() != -1 {
		t.Errorf("selected = %d, want -1", p.Selected())
	}
}

func TestPad_RefusedTransitions(t *testing.T) {
	tests := []struct {
		name string
		do   func(p *kiosk.Pad) error
		want error
	}{
		{"select before recognition", func(p *kiosk.Pad) error {
			p.AddStroke(stroke(200))
			return p.Select(0)
		}, kiosk.ErrNotRecognised},
		{"select a digit that is not there", func(p *kiosk.Pad) error { return p.Select(3) }, kiosk.ErrNoSuchDigit},
		{"correct without selecting", func(p *kiosk.Pad) error { return p.Correct(5) }, kiosk.ErrNotCorrecting},
		{"correct to a non-digit", func(p *kiosk.Pad) error { _ = p.Select(0); return p.Correct(12) }, kiosk.ErrBadLabel},
		{"confirm while recognition is pending", func(p *kiosk.Pad) error {
			p.AddStroke(stroke(200))
			_, err := p.BeginConfirm()
			return err
		}, kiosk.ErrNotRecognised},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := recognised(t, "", 1, 2, 3)
			if err := tc.do(p); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPad_UndoRevertsCorrectionsThenStrokes(t *testing.T) {
	p := recognised(t, "", 1, 2)
	_ = p.Select(0)
	_ = p.Correct(9)
	_ = p.Select(1)
	_ = p.Correct(8)
	if p.Code() != "98" {
		t.Fatalf("code = %q, want 98", p.Code())
	}
	p.Undo()
	if p.Code() != "92" {
		t.Errorf("after one undo code = %q, want 92", p.Code())
	}
	p.Undo()
	if p.Code() != "12" {
		t.Errorf("after two undos code = %q, want 12", p.Code())
	}
	gen := p.Gen()
	p.Undo()
	if len(p.Strokes()) != 1 || p.Gen() == gen {
		t.Errorf("third undo left %d strokes (gen %d -> %d), want 1 stroke and new ink", len(p.Strokes()), gen, p.Gen())
	}
	checkPhase(t, p, kiosk.PhaseDrawing)
	p.Undo()
	p.Undo() // nothing left: no-op
	if len(p.Strokes()) != 0 || p.Result() != nil {
		t.Errorf("empty pad has %d strokes, result %v", len(p.Strokes()), p.Result())
	}
}

func TestPad_CorrectionStaysWithItsDigitAcrossAStroke(t *testing.T) {
	p := recognised(t, "", 1, 2)
	_ = p.Select(0)
	_ = p.Correct(9)
	p.AddStroke(stroke(100))
	p.SetResult(p.Gen(), fakeResult([]int{1, 2, 3}), nil)
	if got := p.Code(); got != "923" {
		t.Errorf("code = %q, want 923: the correction of digit 1 survives a stroke elsewhere", got)
	}
	p.Undo() // removes the stroke
	p.SetResult(p.Gen(), fakeResult([]int{1, 2}), nil)
	if len(p.Strokes()) != 2 || p.Code() != "92" {
		t.Errorf("undo left %d strokes and code %q, want 2 and 92", len(p.Strokes()), p.Code())
	}
	p.Undo() // then the correction
	if p.Code() != "12" {
		t.Errorf("second undo: code %q, want 12", p.Code())
	}
}

func TestPad_DoubtfulDigitNeedsATapOrASecondPress(t *testing.T) {
	p := mustPad(t, "2")
	p.AddStroke(stroke(0))
	res := fakeResult([]int{4, 7}, 0.99, 0.5)
	res.Confirm = []int{1}
	p.SetResult(p.Gen(), res, nil)
	if _, err := p.BeginConfirm(); !errors.Is(err, kiosk.ErrDoubt) {
		t.Fatalf("first press: %v, want ErrDoubt", err)
	}
	if _, err := p.BeginConfirm(); err != nil {
		t.Fatalf("second press (confirm anyway): %v", err)
	}
	q := mustPad(t, "2")
	q.AddStroke(stroke(0))
	q.SetResult(q.Gen(), res, nil)
	_ = q.Select(1)
	_ = q.Correct(7) // the clerk checked it
	if _, err := q.BeginConfirm(); err != nil {
		t.Fatalf("checked digit: %v", err)
	}
}

func TestPad_ConfirmThenNextCode(t *testing.T) {
	p := recognised(t, "3", 1, 2, 3)
	_ = p.Select(2)
	_ = p.Correct(4)
	d, err := p.BeginConfirm()
	if err != nil {
		t.Fatal(err)
	}
	checkPhase(t, p, kiosk.PhaseSaving)
	if d.Code() != "124" || d.Result.Code != "123" || len(d.Strokes) != 3 {
		t.Errorf("draft code %q predicted %q with %d strokes, want 124, 123, 3", d.Code(), d.Result.Code, len(d.Strokes))
	}
	if _, err := p.BeginConfirm(); err == nil {
		t.Error("a second confirm while saving was accepted: the code would be saved twice")
	}
	p.EndConfirm(d, nil)
	checkPhase(t, p, kiosk.PhaseConfirmed)
	p.Undo()
	checkPhase(t, p, kiosk.PhaseConfirmed)
	p.BeginStroke()
	checkPhase(t, p, kiosk.PhaseDrawing)
	if len(p.Strokes()) != 0 || p.Code() != "" {
		t.Errorf("the next code starts with %d strokes and code %q, want a blank pad", len(p.Strokes()), p.Code())
	}
}

func TestPad_FailedSaveCanBeRetried(t *testing.T) {
	p := recognised(t, "", 5)
	d, _ := p.BeginConfirm()
	p.EndConfirm(d, errors.New("disk full"))
	checkPhase(t, p, kiosk.PhaseRecognised)
	if _, err := p.BeginConfirm(); err != nil {
		t.Errorf("retry after a failed save: %v", err)
	}
}

func TestPad_ConfirmRefusesACodeOutsideTheFormat(t *testing.T) {
	p := recognised(t, "5", 1, 2, 3, 4)
	if p.FormatError() == "" {
		t.Error("no format error for 4 digits on a 5-digit format")
	}
	if _, err := p.BeginConfirm(); !errors.Is(err, kiosk.ErrFormat) {
		t.Errorf("got %v, want ErrFormat", err)
	}
	checkPhase(t, p, kiosk.PhaseRecognised)
}

func TestNewPad_RejectsABadFormat(t *testing.T) {
	if _, err := kiosk.NewPad("[0-9"); err == nil {
		t.Error("no error for an invalid regular expression")
	}
}

func TestPad_ScribbleErasesTheDigitUnderItAndUndoRestoresIt(t *testing.T) {
	p := mustPad(t, "")
	zero := ink.Stroke{{X: 100, Y: 20}, {X: 80, Y: 60}, {X: 100, Y: 100}, {X: 120, Y: 60}, {X: 100, Y: 20}}
	one := ink.Stroke{{X: 200, Y: 20}, {X: 200, Y: 100}}
	p.AddStroke(zero)
	p.AddStroke(one)
	var scribble ink.Stroke
	for i := 0; i <= 8; i++ {
		x := 75.0
		if i%2 == 1 {
			x = 125
		}
		scribble = append(scribble, ink.Point{X: x, Y: 15 + float64(i)*11}, ink.Point{X: 100, Y: 16 + float64(i)*11})
	}
	p.AddStroke(scribble)
	if !p.ScratchOut() {
		t.Fatal("the scribble over the 0 was not a scratch-out")
	}
	if got := p.Strokes(); len(got) != 1 || got[0][0] != one[0] {
		t.Fatalf("left %d strokes, want only the 1", len(got))
	}
	p.Undo()
	if got := p.Strokes(); len(got) != 2 {
		t.Errorf("undo left %d strokes, want the 0 and the 1 back, without the scribble", len(got))
	}
}
