package kiosk_test

import (
	"image"
	"testing"

	"digitpad/desktop/kiosk"
)

func TestLayout_EveryControlIsHitAtItsCentre(t *testing.T) {
	for _, size := range []image.Point{{kiosk.ScreenW, kiosk.ScreenH}, {1920, 1080}, {800, 600}} {
		l := kiosk.NewLayout(size.X, size.Y)
		const n = 5
		want := map[kiosk.Target]image.Rectangle{
			{Kind: kiosk.TargetPad}:     l.Pad,
			{Kind: kiosk.TargetUndo}:    l.Undo,
			{Kind: kiosk.TargetClear}:   l.Clear,
			{Kind: kiosk.TargetConfirm}: l.Confirm,
		}
		for i, r := range l.Keys {
			want[kiosk.Target{Kind: kiosk.TargetKey, Index: i}] = r
		}
		for i := range n {
			want[kiosk.Target{Kind: kiosk.TargetCard, Index: i}] = l.Card(i, n)
		}
		screen := image.Rect(0, 0, size.X, size.Y)
		for target, r := range want {
			if r.Empty() || !r.In(screen) {
				t.Errorf("%v: %+v has rect %v, not a non-empty part of the screen", size, target, r)
				continue
			}
			x, y := kiosk.Centre(r)
			if got := l.Hit(x, y, n); got != target {
				t.Errorf("%v: Hit(centre of %+v) = %+v", size, target, got)
			}
		}
	}
}

func TestLayout_NothingBetweenControls(t *testing.T) {
	l := kiosk.NewLayout(kiosk.ScreenW, kiosk.ScreenH)
	x, _ := kiosk.Centre(l.Keys[0])
	y := float64(l.Keys[0].Max.Y+l.Undo.Min.Y) / 2 // the gap between the key row and the buttons
	if got := l.Hit(x, y, 0); got.Kind != kiosk.TargetNone {
		t.Errorf("Hit in the gap = %+v, want none", got)
	}
	if got := l.Hit(-5, -5, 0); got.Kind != kiosk.TargetNone {
		t.Errorf("Hit off screen = %+v, want none", got)
	}
}

func TestLayout_CardsStayInTheirRow(t *testing.T) {
	l := kiosk.NewLayout(kiosk.ScreenW, kiosk.ScreenH)
	for _, n := range []int{1, 5, 9, 16} {
		prev := image.Rectangle{}
		for i := range n {
			r := l.Card(i, n)
			if !r.In(l.Cards) {
				t.Errorf("card %d of %d at %v is outside the row %v", i, n, r, l.Cards)
			}
			if i > 0 && r.Min.X < prev.Max.X {
				t.Errorf("card %d of %d overlaps card %d", i, n, i-1)
			}
			prev = r
		}
	}
	if !l.Card(5, 5).Empty() || !l.Card(-1, 5).Empty() {
		t.Error("cards outside 0..n-1 should be empty")
	}
}
