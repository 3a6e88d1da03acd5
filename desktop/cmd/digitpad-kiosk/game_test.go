//go:build e2e

package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"digitpad/desktop/kiosk"
	"digitpad/shared/recognize"
)

// Issue 11, point 8: every notice the kiosk shows fits its status bar whole, in the worst case for room (not
// enrolled, a four-digit pending count, the Enrol button shown): one line, or two split at a space — never cut.
func TestStatus_NoticesFitWithoutBeingCut(t *testing.T) {
	app, err := kiosk.Open(kiosk.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	g, err := newGame(context.Background(), app, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	five, err := recognize.ParseFormat("5")
	if err != nil {
		t.Fatal(err)
	}
	doubt := recognize.CheckConfirm(five, []int{1, 2, 3, 4, 5}, []int{0, 1, 2, 3, 4}, nil, false)
	notices := []string{
		five.Problem("3058"), five.Problem("305821"), five.Problem("1234567890123456"),
		"not confirmed: " + five.Problem("305"),
		doubt.Reason,
		"scratched out; Undo brings it back",
		"cannot read this ink: write it again",
		"code not saved (disk): press Confirm again",
		"new model not loaded; the log says why",
		"80731 is being sent: too late to undo", "80731 was sent: too late to undo", "code 80731 withdrawn",
		kiosk.ErrNotCorrecting.Error(), "kiosk enrolled",
	}
	st := kiosk.State{Sync: "not enrolled", Pending: 9999, EnrolOffered: true}
	_, area := g.statusAreas(st)
	if area.Dx() < 400 {
		t.Fatalf("the notice gets only %d px", area.Dx())
	}
	for _, n := range notices {
		lines, size, ok := fitNotice(n, g.bold, area.Dx(), area.Dy())
		if !ok {
			t.Errorf("%q does not fit %d×%d px", n, area.Dx(), area.Dy())
			continue
		}
		if got := strings.Join(lines, " "); got != n {
			t.Errorf("%q is shown as %q", n, got)
		}
		if size < 14 {
			t.Errorf("%q shrinks to %.0f px", n, size)
		}
	}
}

// A corrected digit's confidence is the model's in the digit now shown, usually near 0%, which a clerk reads as an
// error (the final review of issue 11): its card and tag say "corrected" instead; typed and added digits say so.
func TestDigitNote_CorrectedNotShownAsZeroConfidence(t *testing.T) {
	cases := []struct {
		st   kiosk.State
		d    kiosk.DigitState
		want string
	}{
		{kiosk.State{}, kiosk.DigitState{Digit: 3, Predicted: 3, Confidence: 0.974}, "97%"},
		{kiosk.State{}, kiosk.DigitState{Digit: 7, Predicted: 3, Confidence: 0.001, Corrected: true}, "corrected"},
		{kiosk.State{}, kiosk.DigitState{Digit: 2, Predicted: -1, Inserted: true, Corrected: true}, "added"},
		{kiosk.State{Typed: true}, kiosk.DigitState{Digit: 5, Predicted: -1, Inserted: true}, "typed"},
	}
	for _, c := range cases {
		if got := digitNote(c.st, c.d); got != c.want {
			t.Errorf("digitNote(%+v) = %q, want %q", c.d, got, c.want)
		}
	}
}
