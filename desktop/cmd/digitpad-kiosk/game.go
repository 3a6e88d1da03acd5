package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"math"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"digitpad/desktop/kiosk"
	inkpkg "digitpad/shared/ink"
)

// Pointer ids handed to the kiosk: touches keep Ebiten's ids, the mouse gets one no touch uses.
const mouseID = math.MinInt32

var (
	colBackground = color.RGBA{0x1b, 0x24, 0x30, 0xff}
	colPanel      = color.RGBA{0x2a, 0x35, 0x45, 0xff}
	colPanelDim   = color.RGBA{0x23, 0x2c, 0x38, 0xff}
	colText       = color.RGBA{0xf2, 0xf5, 0xf8, 0xff}
	colTextDim    = color.RGBA{0x8a, 0x96, 0xa6, 0xff}
	colPad        = color.RGBA{0xff, 0xff, 0xff, 0xff}
	colInk        = color.RGBA{0x10, 0x23, 0x3f, 0xff}
	colOK         = color.RGBA{0x2e, 0x9e, 0x5b, 0xff}
	colLow        = color.RGBA{0xf0, 0x8c, 0x00, 0xff}
	colSelected   = color.RGBA{0x2f, 0x6f, 0xed, 0xff}
	colCorrected  = color.RGBA{0x7b, 0x4d, 0xd6, 0xff}
	colError      = color.RGBA{0xe0, 0x4b, 0x4b, 0xff}
)

// game draws the kiosk's state and forwards input; it holds no behaviour of its own.
type game struct {
	ctx    context.Context
	app    *kiosk.App
	log    *slog.Logger
	layout kiosk.Layout
	white  *ebiten.Image
	faces  struct{ status, small, card, key, button *text.GoTextFace }
	bold   *text.GoTextFaceSource
	runes  []rune
	// mouse tracks the last cursor position to forward only real moves.
	mouseDown bool
	mouseX    int
	mouseY    int
	touches   []ebiten.TouchID
	vs        []ebiten.Vertex
	is        []uint16
	// drawn is what the screen shows (state and ink versions); an unchanged frame is not redrawn.
	drawnState, drawnInk uint64
	drawnOnce            bool
	ticks                int
	// inkLayer holds the finished strokes of ink generation inkGen.
	inkLayer *ebiten.Image
	inkGen   uint64
}

func newGame(ctx context.Context, app *kiosk.App, log *slog.Logger) (*game, error) {
	reg, err := text.NewGoTextFaceSource(bytes.NewReader(goregular.TTF))
	if err != nil {
		return nil, fmt.Errorf("font: %w", err)
	}
	bold, err := text.NewGoTextFaceSource(bytes.NewReader(gobold.TTF))
	if err != nil {
		return nil, fmt.Errorf("font: %w", err)
	}
	g := &game{ctx: ctx, app: app, layout: app.Layout(), log: log, bold: bold}
	g.faces.status = &text.GoTextFace{Source: reg, Size: 24}
	g.faces.small = &text.GoTextFace{Source: bold, Size: 18}
	g.faces.card = &text.GoTextFace{Source: bold, Size: 64}
	g.faces.key = &text.GoTextFace{Source: bold, Size: 48}
	g.faces.button = &text.GoTextFace{Source: bold, Size: 34}
	w := ebiten.NewImage(3, 3)
	w.Fill(color.White)
	g.white = w.SubImage(image.Rect(1, 1, 2, 2)).(*ebiten.Image)
	return g, nil
}

// Update forwards mouse and touch input; the kiosk decides what it means.
func (g *game) Update() error {
	if g.ctx.Err() != nil {
		return ebiten.Termination
	}
	g.ticks++
	if g.ticks%600 == 0 {
		g.log.Debug("frame rate", "tps", ebiten.ActualTPS(), "fps", ebiten.ActualFPS())
	}
	x, y := ebiten.CursorPosition()
	switch {
	case inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft):
		g.mouseDown = true
		g.app.PointerDown(mouseID, float64(x), float64(y))
	case g.mouseDown && !ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft):
		if x != g.mouseX || y != g.mouseY {
			g.app.PointerMove(mouseID, float64(x), float64(y))
		}
		g.mouseDown = false
		g.app.PointerUp(mouseID)
	case g.mouseDown && (x != g.mouseX || y != g.mouseY):
		g.app.PointerMove(mouseID, float64(x), float64(y))
	}
	g.mouseX, g.mouseY = x, y

	g.touches = inpututil.AppendJustPressedTouchIDs(g.touches[:0])
	for _, id := range g.touches {
		tx, ty := ebiten.TouchPosition(id)
		g.app.PointerDown(int(id), float64(tx), float64(ty))
	}
	g.touches = ebiten.AppendTouchIDs(g.touches[:0])
	for _, id := range g.touches {
		tx, ty := ebiten.TouchPosition(id)
		g.app.PointerMove(int(id), float64(tx), float64(ty))
	}
	g.touches = inpututil.AppendJustReleasedTouchIDs(g.touches[:0])
	for _, id := range g.touches {
		g.app.PointerUp(int(id))
	}
	g.keyboard()
	return nil
}

// keyboard forwards typed characters and the editing keys.
func (g *game) keyboard() {
	ctrl := ebiten.IsKeyPressed(ebiten.KeyControl) || ebiten.IsKeyPressed(ebiten.KeyMeta)
	if ctrl {
		if inpututil.IsKeyJustPressed(ebiten.KeyZ) {
			g.app.Key(kiosk.KeyUndo)
		}
		return
	}
	g.runes = ebiten.AppendInputChars(g.runes[:0])
	for _, r := range g.runes {
		g.app.KeyRune(r)
	}
	for _, k := range []struct {
		key ebiten.Key
		to  kiosk.Key
	}{
		{ebiten.KeyEnter, kiosk.KeyEnter}, {ebiten.KeyNumpadEnter, kiosk.KeyEnter}, {ebiten.KeyEscape, kiosk.KeyEscape},
		{ebiten.KeyBackspace, kiosk.KeyBackspace}, {ebiten.KeyDelete, kiosk.KeyDelete},
		{ebiten.KeyArrowLeft, kiosk.KeyLeft}, {ebiten.KeyArrowRight, kiosk.KeyRight},
	} {
		if inpututil.IsKeyJustPressed(k.key) {
			g.app.Key(k.to)
		}
	}
}

// Layout keeps a fixed logical screen; Ebiten scales it to the window or the full screen.
func (g *game) Layout(int, int) (int, int) { return kiosk.ScreenW, kiosk.ScreenH }

// Draw renders the state: status bar, pad with ink and digit boxes, digit cards, keys and buttons.
func (g *game) Draw(screen *ebiten.Image) {
	st := g.app.State()
	ink := g.app.Ink()
	// The screen is not cleared between frames (see Main.Run): an idle kiosk draws nothing, and while the clerk
	// writes only the pad is redrawn, with the finished strokes from a cached layer, so a slow machine spends
	// its frames on the pen.
	full := !g.drawnOnce || st.Version != g.drawnState
	if !full && ink.Version == g.drawnInk {
		return
	}
	g.drawnOnce, g.drawnState, g.drawnInk = true, st.Version, ink.Version
	if full {
		g.drawControls(screen, st)
	}
	g.drawPad(screen, st, ink)
}

// drawPad draws the pad: paper, finished ink (cached), strokes in progress, digit boxes with their confidence.
func (g *game) drawPad(screen *ebiten.Image, st kiosk.State, in kiosk.InkSnapshot) {
	l := g.layout
	pad := screen.SubImage(l.Pad).(*ebiten.Image)
	pen := float32(inkpkg.PenWidth(l.Pad.Dx(), l.Pad.Dy())) // the pen the model's raster and the records use
	if g.inkLayer == nil {
		g.inkLayer = ebiten.NewImage(l.Pad.Dx(), l.Pad.Dy())
		g.inkGen = in.Gen + 1
	}
	if g.inkGen != in.Gen {
		g.inkLayer.Fill(colPad)
		for _, s := range in.Done {
			g.drawStroke(g.inkLayer, s, 0, 0, pen, colInk, true)
		}
		g.inkGen = in.Gen
	}
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(float64(l.Pad.Min.X), float64(l.Pad.Min.Y))
	pad.DrawImage(g.inkLayer, op)
	ox, oy := float32(l.Pad.Min.X), float32(l.Pad.Min.Y)
	for _, s := range in.Active {
		// Without anti-aliasing: Ebiten anti-aliases through an offscreen buffer twice the screen's size, too
		// slow per frame for software GL; the finished stroke is redrawn smooth into the ink layer.
		g.drawStroke(pad, s, ox, oy, pen, colInk, false)
	}
	if len(in.Done) == 0 && len(in.Active) == 0 && !st.Typed {
		g.label(pad, "Write the postal code here", g.faces.status, l.Pad, colTextDim)
	}
	for _, b := range st.Deleted {
		// A deleted digit's ink stays, struck out: it is not part of the code.
		r := image.Rect(b[0], b[1], b[2], b[3]).Add(l.Pad.Min).Inset(-6)
		vector.StrokeLine(pad, float32(r.Min.X), float32(r.Max.Y), float32(r.Max.X), float32(r.Min.Y), 4, colError, false)
		vector.StrokeRect(pad, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), 2, colError, false)
	}
	if st.Typed {
		g.label(pad, "Typed code: "+st.Code, g.faces.card, l.Pad, colInk)
	}
	for i, d := range st.Digits {
		if d.Inserted {
			continue
		}
		r := image.Rect(d.Box[0], d.Box[1], d.Box[2], d.Box[3]).Add(l.Pad.Min).Inset(-6)
		c := digitColor(st, i)
		vector.StrokeRect(pad, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), 3, c, false)
		note := fmt.Sprintf("%d  %s", d.Digit, digitNote(st, d))
		tag := image.Rect(r.Min.X, r.Min.Y-28, r.Min.X+max(86, int(text.Advance(note, g.faces.small))+12), r.Min.Y)
		if tag.Min.Y < l.Pad.Min.Y {
			tag = tag.Add(image.Pt(0, tag.Dy()+r.Dy()))
		}
		fillRect(pad, tag, c)
		g.label(pad, note, g.faces.small, tag, colText)
	}
	// The model in use, small, at the pad's bottom right.
	mopt := &text.DrawOptions{}
	mopt.GeoM.Translate(float64(l.Pad.Max.X-12), float64(l.Pad.Max.Y-14))
	mopt.LayoutOptions.PrimaryAlign = text.AlignEnd
	mopt.LayoutOptions.SecondaryAlign = text.AlignEnd
	mopt.ColorScale.ScaleWithColor(colTextDim)
	text.Draw(pad, st.Model.Name, g.faces.small, mopt)
	// Recent codes and where each is, along the pad's bottom edge (Undo right after a confirm withdraws it).
	if len(st.Recent) > 0 {
		var b strings.Builder
		b.WriteString("Recent:")
		for _, r := range st.Recent {
			fmt.Fprintf(&b, "  %s %s", r.Code, r.State)
		}
		opt := &text.DrawOptions{}
		opt.GeoM.Translate(float64(l.Pad.Min.X+12), float64(l.Pad.Max.Y-14))
		opt.LayoutOptions.SecondaryAlign = text.AlignEnd
		opt.ColorScale.ScaleWithColor(colTextDim)
		text.Draw(pad, b.String(), g.faces.small, opt)
	}
	if st.Enrol.Open {
		g.drawEnrolForm(pad, st.Enrol)
	}
}

// drawEnrolForm covers the pad with the enrolment form: what to type, the code typed so far, why the last
// code was not accepted.
func (g *game) drawEnrolForm(pad *ebiten.Image, f kiosk.EnrolForm) {
	r := g.layout.Pad
	fillRect(pad, r, colPanel)
	line := func(s string, face text.Face, y0, y1 float64, c color.Color) {
		g.label(pad, s, face, image.Rect(r.Min.X, r.Min.Y+int(y0*float64(r.Dy())), r.Max.X, r.Min.Y+int(y1*float64(r.Dy()))), c)
	}
	line("Enrol this kiosk", g.faces.button, 0.0, 0.14, colText)
	line("Type the one-time code that `digitpad enroll` or `digitpad serve` printed", g.faces.status, 0.13, 0.24, colTextDim)
	// The code typed so far, with a placeholder for each character still to type.
	raw := strings.ReplaceAll(f.Code, "-", "") + strings.Repeat("_", max(0, 8-len(strings.ReplaceAll(f.Code, "-", ""))))
	code := raw[:4] + "-" + raw[4:]
	field := image.Rect(r.Min.X+r.Dx()/2-220, r.Min.Y+int(0.26*float64(r.Dy())), r.Min.X+r.Dx()/2+220, r.Min.Y+int(0.49*float64(r.Dy())))
	fillRect(pad, field, colBackground)
	g.label(pad, code, g.faces.card, field, colText)
	switch {
	case f.Busy:
		line("Enrolling…", g.faces.status, 0.50, 0.62, colTextDim)
	case f.Error != "":
		line(f.Error, g.faces.status, 0.50, 0.62, colError)
	default:
		line("Letters here, digits on the keys below (or a keyboard); Enrol sends it", g.faces.status, 0.50, 0.62, colTextDim)
	}
	for i, k := range g.layout.EnrolKeys {
		fillRect(pad, k, colSelected)
		g.label(pad, string(kiosk.EnrolLetters[i]), g.faces.button, k, colText)
	}
}

// drawControls draws everything but the pad: status bar, digit cards, keys and buttons.
func (g *game) drawControls(screen *ebiten.Image, st kiosk.State) {
	l := g.layout
	screen.Fill(colBackground)
	g.drawStatus(screen, st)

	// Digit cards: tap one to correct it.
	for i, d := range st.Digits {
		r := l.Card(i, len(st.Digits))
		c := digitColor(st, i)
		fillRect(screen, r, colPanel)
		vector.StrokeRect(screen, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), 5, c, false)
		top := image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Max.Y-24)
		g.label(screen, fmt.Sprint(d.Digit), g.faces.card, top, colText)
		bottom := image.Rect(r.Min.X, r.Max.Y-30, r.Max.X, r.Max.Y-4)
		under := digitNote(st, d)
		if under == noteCorrected && text.Advance(under, g.faces.small) > float64(r.Dx()-8) {
			under = "fixed" // a narrow card (many digits)
		}
		g.label(screen, under, g.faces.small, bottom, c)
	}
	if st.InsertAt >= 0 {
		// Where the next key inserts a digit: a bar between the cards.
		n := len(st.Digits)
		x := l.Cards.Min.X + l.Cards.Dx()/2
		if n > 0 && st.InsertAt < n {
			x = l.Card(st.InsertAt, n).Min.X - 3
		} else if n > 0 {
			x = l.Card(n-1, n).Max.X + 3
		}
		fillRect(screen, image.Rect(x-3, l.Cards.Min.Y-6, x+3, l.Cards.Max.Y+6), colSelected)
	}
	if len(st.Digits) == 0 && !st.Enrol.Open {
		g.label(screen, "Digits appear here; tap one to correct it, or type the code", g.faces.status, l.Cards, colTextDim)
	}

	// 0–9 keys, live while a digit is selected; its likeliest readings are marked with their probability, one
	// tap away.
	correcting := st.Phase == kiosk.PhaseCorrecting || st.Enrol.Open
	// Without ink the keys are a number pad that types the code.
	live := correcting || st.Strokes == 0 && st.Phase != kiosk.PhaseSaving
	var top map[int]float64
	if correcting && !st.Enrol.Open && st.InsertAt < 0 && st.Selected >= 0 && st.Selected < len(st.Digits) {
		d := st.Digits[st.Selected]
		top = map[int]float64{}
		for j, t := range d.Top {
			if j < len(d.TopConf) && t != d.Digit {
				top[t] = d.TopConf[j]
			}
		}
	}
	for d, r := range l.Keys {
		bg, fg := colPanelDim, colTextDim
		if live {
			bg, fg = colSelected, colText
		}
		p, alt := top[d]
		if alt {
			bg = colLow
		}
		fillRect(screen, r, bg)
		g.label(screen, fmt.Sprint(d), g.faces.key, r, fg)
		if alt {
			g.label(screen, fmt.Sprintf("%.0f%%", 100*p), g.faces.small, image.Rect(r.Min.X, r.Max.Y-26, r.Max.X, r.Max.Y-2), colText)
		}
	}

	if st.Enrol.Open {
		g.button(screen, l.Undo, "Delete", st.Enrol.Code != "" && !st.Enrol.Busy, colPanel)
		g.button(screen, l.Clear, "Cancel", !st.Enrol.Busy, colPanel)
		g.button(screen, l.Confirm, "Enrol", len(st.Enrol.Code) == 9 && !st.Enrol.Busy, colOK)
		return
	}
	if correcting {
		// While a digit is selected the two left buttons edit the code: delete it, or add a digit after it.
		g.button(screen, l.Undo, "Delete digit", st.InsertAt < 0, colPanel)
		g.button(screen, l.Clear, "Add digit", st.InsertAt < 0, colPanel)
	} else {
		if st.Phase == kiosk.PhaseConfirmed {
			// Right after a confirm, Undo withdraws the code while it is unsent.
			g.button(screen, l.Undo, "Undo confirm", st.CanUndoConfirm, colPanel)
		} else {
			g.button(screen, l.Undo, "Undo", st.CanUndo, colPanel)
		}
		g.button(screen, l.Clear, "Clear", st.Strokes > 0 || st.Typed, colPanel)
	}
	confirm := "Confirm " + st.Code
	switch st.Phase {
	case kiosk.PhaseSaving:
		confirm = "Saving…"
	case kiosk.PhaseConfirmed:
		confirm = "Saved " + st.Saved
	case kiosk.PhaseDrawing:
		confirm = "Confirm"
	}
	g.button(screen, l.Confirm, confirm, st.CanConfirm || st.Phase == kiosk.PhaseConfirmed, colOK)
}

func (g *game) drawStatus(screen *ebiten.Image, st kiosk.State) {
	l := g.layout.Status
	opt := &text.DrawOptions{}
	opt.GeoM.Translate(float64(l.Min.X), float64(l.Min.Y+l.Dy()/2))
	opt.LayoutOptions.SecondaryAlign = text.AlignCenter
	opt.ColorScale.ScaleWithColor(colText)
	text.Draw(screen, "digitpad", g.faces.button, opt)

	conn, cc := syncText(st)
	right, area := g.statusAreas(st)
	if st.EnrolOffered || st.Enrol.Open {
		e := g.layout.Enrol
		label := "Enrol kiosk"
		if st.Enrol.Open {
			label = "Close"
		}
		fillRect(screen, e, colSelected)
		g.label(screen, label, g.faces.small, e, colText)
	}
	opt = &text.DrawOptions{}
	opt.GeoM.Translate(right, float64(l.Min.Y+l.Dy()/2))
	opt.LayoutOptions.PrimaryAlign = text.AlignEnd
	opt.LayoutOptions.SecondaryAlign = text.AlignCenter
	opt.ColorScale.ScaleWithColor(cc)
	text.Draw(screen, conn, g.faces.status, opt)
	if st.Notice != "" {
		lines, size, ok := fitNotice(st.Notice, g.bold, area.Dx(), area.Dy())
		if !ok {
			g.log.Warn("notice does not fit the status bar", "notice", st.Notice)
		}
		face := &text.GoTextFace{Source: g.bold, Size: size}
		lh := area.Dy() / len(lines)
		for i, s := range lines {
			opt = &text.DrawOptions{}
			opt.GeoM.Translate(float64(area.Min.X), float64(area.Min.Y+i*lh+lh/2))
			opt.LayoutOptions.SecondaryAlign = text.AlignCenter
			if st.NoticeInfo {
				opt.ColorScale.ScaleWithColor(colText)
			} else {
				opt.ColorScale.ScaleWithColor(colError)
			}
			text.Draw(screen, s, face, opt)
		}
	}
}

// noticeLeft is where the notice starts in the status bar, right of the title.
const noticeLeft = 190

// statusAreas places the status bar's parts: the sync text ends at x = right (left of the Enrol button when it
// shows); the notice has the area between the title and the sync text.
func (g *game) statusAreas(st kiosk.State) (right float64, notice image.Rectangle) {
	l := g.layout.Status
	right = float64(l.Max.X)
	if st.EnrolOffered || st.Enrol.Open {
		right = float64(g.layout.Enrol.Min.X - 16)
	}
	conn, _ := syncText(st)
	return right, image.Rect(l.Min.X+noticeLeft, l.Min.Y, int(right-text.Advance(conn, g.faces.status))-16, l.Max.Y)
}

// syncText is the status bar's sync state: always shown, with the pending count.
func syncText(st kiosk.State) (string, color.Color) {
	pending := fmt.Sprintf(" · %d pending", st.Pending)
	switch st.Sync {
	case "local":
		return "● saved here only" + pending, colTextDim
	case "not enrolled":
		return "● not enrolled" + pending, colError
	case "refused":
		return "● refused" + pending, colError
	case "offline":
		return "● offline" + pending, colLow
	case "syncing":
		return "● syncing" + pending, colOK
	}
	return "● synced" + pending, colOK
}

// fitNotice lays a notice out in a w×h area without cutting it: one line at the largest size that fits, else
// two lines split at a space. ok is false when even two lines at the smallest size are too wide (the lines are
// then returned as they are, and the caller logs it).
func fitNotice(s string, src *text.GoTextFaceSource, w, h int) (lines []string, size float64, ok bool) {
	width := func(s string, size float64) float64 {
		return text.Advance(s, &text.GoTextFace{Source: src, Size: size})
	}
	for _, size := range []float64{20, 18, 16} {
		if width(s, size) <= float64(w) {
			return []string{s}, size, true
		}
	}
	words := strings.Fields(s)
	for _, size := range []float64{18, 16, 14} {
		if 2*size*1.15 > float64(h) {
			continue
		}
		for k := len(words) - 1; k > 0; k-- { // the longest first line that fits
			a, b := strings.Join(words[:k], " "), strings.Join(words[k:], " ")
			if width(a, size) <= float64(w) {
				if width(b, size) <= float64(w) {
					return []string{a, b}, size, true
				}
				break
			}
		}
	}
	k := (len(words) + 1) / 2
	return []string{strings.Join(words[:k], " "), strings.Join(words[k:], " ")}, 14, false
}

// digitColor: selected blue, corrected purple, low confidence orange, else green.
func digitColor(st kiosk.State, i int) color.Color {
	d := st.Digits[i]
	switch {
	case st.Selected == i:
		return colSelected
	case d.Corrected:
		return colCorrected
	case d.Low:
		return colLow
	}
	return colOK
}

func (g *game) button(dst *ebiten.Image, r image.Rectangle, label string, enabled bool, bg color.Color) {
	fg := colText
	if !enabled {
		bg, fg = colPanelDim, colTextDim
	}
	fillRect(dst, r, bg)
	g.label(dst, label, g.faces.button, r, fg)
}

// label centres text in r.
func (g *game) label(dst *ebiten.Image, s string, face text.Face, r image.Rectangle, c color.Color) {
	opt := &text.DrawOptions{}
	opt.GeoM.Translate(float64(r.Min.X+r.Max.X)/2, float64(r.Min.Y+r.Max.Y)/2)
	opt.LayoutOptions.PrimaryAlign = text.AlignCenter
	opt.LayoutOptions.SecondaryAlign = text.AlignCenter
	opt.ColorScale.ScaleWithColor(c)
	text.Draw(dst, s, face, opt)
}

// noteCorrected is what a digit the clerk corrected shows instead of a confidence: the model's confidence in
// the digit now shown is usually near 0%, which would read as an error.
const noteCorrected = "corrected"

// digitNote is the small text under a digit's card and on its tag over the ink: how sure the model is of it,
// or that the clerk typed, added or corrected it.
func digitNote(st kiosk.State, d kiosk.DigitState) string {
	switch {
	case st.Typed:
		return "typed"
	case d.Inserted:
		return "added"
	case d.Corrected:
		return noteCorrected
	default:
		return fmt.Sprintf("%.0f%%", 100*d.Confidence)
	}
}

func fillRect(dst *ebiten.Image, r image.Rectangle, c color.Color) {
	vector.DrawFilledRect(dst, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), c, false)
}

// drawStroke draws one stroke as a round-capped path (one draw call per stroke, not one per segment).
func (g *game) drawStroke(dst *ebiten.Image, s inkpkg.Stroke, ox, oy, width float32, c color.RGBA, aa bool) {
	if len(s) == 1 {
		vector.DrawFilledCircle(dst, ox+float32(s[0].X), oy+float32(s[0].Y), width/2, c, aa)
		return
	}
	// Long strokes are drawn in pieces so the vertex count stays within uint16 indices.
	const piece = 2000
	for start := 0; start < len(s)-1; start += piece {
		end := min(len(s), start+piece+1)
		var p vector.Path
		p.MoveTo(ox+float32(s[start].X), oy+float32(s[start].Y))
		for _, q := range s[start+1 : end] {
			p.LineTo(ox+float32(q.X), oy+float32(q.Y))
		}
		g.vs, g.is = p.AppendVerticesAndIndicesForStroke(g.vs[:0], g.is[:0], &vector.StrokeOptions{
			Width: width, LineJoin: vector.LineJoinRound, LineCap: vector.LineCapRound,
		})
		r, gg, b, a := float32(c.R)/255, float32(c.G)/255, float32(c.B)/255, float32(c.A)/255
		for i := range g.vs {
			g.vs[i].SrcX, g.vs[i].SrcY = 1, 1
			g.vs[i].ColorR, g.vs[i].ColorG, g.vs[i].ColorB, g.vs[i].ColorA = r, gg, b, a
		}
		dst.DrawTriangles(g.vs, g.is, g.white, &ebiten.DrawTrianglesOptions{AntiAlias: aa, FillRule: ebiten.FillRuleFillAll})
	}
}
