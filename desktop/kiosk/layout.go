package kiosk

import (
	"image"
	"math"
)

// Logical screen size the kiosk lays itself out on; Ebiten scales it to the real screen.
const (
	ScreenW = 1280
	ScreenH = 800
)

// Layout places the kiosk's controls on a W×H screen, top to bottom: a status bar, the writing pad, a row of
// cards with the recognised digits, the 0–9 keys and the action buttons. Sizes are proportional, with touch
// targets of at least 9 mm on a 15" 1280×800 screen.
type Layout struct {
	W, H   int
	Status image.Rectangle
	Pad    image.Rectangle
	Cards  image.Rectangle
	Keys   [10]image.Rectangle
	Undo   image.Rectangle
	Clear  image.Rectangle
	// Confirm is the widest button: the one pressed for every code.
	Confirm image.Rectangle
	// Enrol is the status bar's button that opens the enrolment form; shown only while the kiosk is not
	// enrolled (or its credential is refused).
	Enrol image.Rectangle
	// EnrolKeys are the on-screen letter keys of the enrolment form (EnrolLetters, over the pad's lower part),
	// so a kiosk without a keyboard can be enrolled; the form's digits come from the 0–9 keys.
	EnrolKeys [len(EnrolLetters)]image.Rectangle
}

// EnrolLetters are the letters of one-time enrolment codes (server.NewEnrolment leaves out I, L and O).
const EnrolLetters = "ABCDEFGHJKMNPQRSTUVWXYZ"

// NewLayout computes the layout for a w×h screen.
func NewLayout(w, h int) Layout {
	l := Layout{W: w, H: h}
	m := max(8, w/80) // margin
	row := func(y0, frac float64) (int, int) {
		return int(y0 * float64(h)), int((y0 + frac) * float64(h))
	}
	y0, y1 := row(0, 0.07)
	l.Status = image.Rect(m, y0, w-m, y1)
	l.Enrol = image.Rect(w-m-w/6, y0+4, w-m, y1-2)
	y0, y1 = row(0.075, 0.45)
	l.Pad = image.Rect(m, y0, w-m, y1)
	y0, y1 = row(0.54, 0.15)
	l.Cards = image.Rect(m, y0, w-m, y1)
	y0, y1 = row(0.705, 0.135)
	keyW := float64(w-2*m-9*m/2) / 10
	for i := range l.Keys {
		x := float64(m) + float64(i)*(keyW+float64(m/2))
		l.Keys[i] = image.Rect(int(x), y0, int(x+keyW), y1)
	}
	y0, y1 = row(0.855, 0.13)
	unit := float64(w-2*m-2*m) / 4 // Undo and Clear one unit each, Confirm two
	l.Undo = image.Rect(m, y0, m+int(unit), y1)
	l.Clear = image.Rect(l.Undo.Max.X+m, y0, l.Undo.Max.X+m+int(unit), y1)
	l.Confirm = image.Rect(l.Clear.Max.X+m, y0, w-m, y1)
	// Letter keys in two rows of 12 over the bottom 36% of the pad.
	perRow := (len(EnrolLetters) + 1) / 2
	gap := m / 2
	kw := float64(l.Pad.Dx()-2*m-(perRow-1)*gap) / float64(perRow)
	kh := (float64(l.Pad.Dy())*0.36 - float64(gap) - float64(m)) / 2
	top := float64(l.Pad.Max.Y) - float64(m) - 2*kh - float64(gap)
	for i := range l.EnrolKeys {
		r, c := i/perRow, i%perRow
		x := float64(l.Pad.Min.X+m) + float64(c)*(kw+float64(gap))
		y := top + float64(r)*(kh+float64(gap))
		l.EnrolKeys[i] = image.Rect(int(x), int(y), int(x+kw), int(y+kh))
	}
	return l
}

// Card is the rectangle of digit card i of n, centred in the cards row; cards keep a digit-like aspect and
// shrink when many digits are written.
func (l Layout) Card(i, n int) image.Rectangle {
	if n <= 0 || i < 0 || i >= n {
		return image.Rectangle{}
	}
	h := l.Cards.Dy()
	gap := max(4, h/10)
	w := min(int(float64(h)*0.9), (l.Cards.Dx()-(n-1)*gap)/n)
	total := n*w + (n-1)*gap
	x := l.Cards.Min.X + (l.Cards.Dx()-total)/2 + i*(w+gap)
	return image.Rect(x, l.Cards.Min.Y, x+w, l.Cards.Max.Y)
}

// TargetKind says what a pointer landed on.
type TargetKind int

// Pointer targets.
const (
	TargetNone TargetKind = iota
	TargetPad
	TargetCard // Index is the digit
	TargetKey  // Index is the key's digit 0..9
	TargetUndo
	TargetClear
	TargetConfirm
	TargetEnrol
	TargetEnrolKey // Index into EnrolLetters
)

// Target is the control under a pointer.
type Target struct {
	Kind  TargetKind
	Index int
}

// Hit returns the control at screen position (x, y) when n digit cards are shown.
func (l Layout) Hit(x, y float64, n int) Target {
	if math.IsNaN(x) || math.IsNaN(y) {
		return Target{}
	}
	p := image.Pt(int(math.Floor(x)), int(math.Floor(y)))
	switch {
	case p.In(l.Pad):
		return Target{Kind: TargetPad}
	case p.In(l.Undo):
		return Target{Kind: TargetUndo}
	case p.In(l.Clear):
		return Target{Kind: TargetClear}
	case p.In(l.Confirm):
		return Target{Kind: TargetConfirm}
	}
	for i, r := range l.Keys {
		if p.In(r) {
			return Target{Kind: TargetKey, Index: i}
		}
	}
	for i := range n {
		if p.In(l.Card(i, n)) {
			return Target{Kind: TargetCard, Index: i}
		}
	}
	return Target{}
}

// Centre is the centre of a rectangle, for tests and tools that press a control.
func Centre(r image.Rectangle) (x, y float64) {
	return float64(r.Min.X+r.Max.X) / 2, float64(r.Min.Y+r.Max.Y) / 2
}
