package kiosk_test

import (
	"testing"

	"digitpad/desktop/kiosk"
)

// A touch screen in mouse emulation (or a slow frame) reports the press where the previous stroke ended, then
// the real position: the new stroke starts at the real position, not with a line across the pad.
func TestApp_StrokeStartsWhereThePressIsNotWhereTheLastEnded(t *testing.T) {
	r := startApp(t, kiosk.Config{})
	l := r.app.Layout()
	ox, oy := float64(l.Pad.Min.X), float64(l.Pad.Min.Y)
	// A "1".
	r.app.PointerDown(1, ox+200, oy+60)
	r.app.PointerMove(1, ox+200, oy+160)
	r.app.PointerMove(1, ox+200, oy+260)
	r.app.PointerUp(1)
	// The "7": pressed at the 1's end as far as the frame knows, then the pointer is seen at the 7's start.
	r.app.PointerDown(1, ox+200, oy+260)
	r.app.PointerMove(1, ox+400, oy+60)
	r.app.PointerMove(1, ox+500, oy+60)
	r.app.PointerMove(1, ox+440, oy+260)
	r.app.PointerUp(1)
	ink := r.app.Ink()
	if len(ink.Done) != 2 {
		t.Fatalf("%d strokes, want 2", len(ink.Done))
	}
	s := ink.Done[1]
	if s[0].X != 400 || s[0].Y != 60 {
		t.Errorf("the 7 starts at %v, want (400,60): no line from the 1's end", s[0])
	}
	for _, p := range s {
		if p.X < 390 {
			t.Fatalf("the 7 reaches x=%v, left of where it was written", p.X)
		}
	}
	// A real stroke that starts where the last one ended, and moves a little, keeps its start.
	r.app.PointerDown(1, ox+440, oy+260)
	r.app.PointerMove(1, ox+450, oy+270)
	r.app.PointerUp(1)
	ink = r.app.Ink()
	if p := ink.Done[2][0]; p.X != 440 || p.Y != 260 {
		t.Errorf("a short continuation starts at %v, want (440,260)", p)
	}
}
