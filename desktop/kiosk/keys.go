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
	KeyInsert
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
	case KeyInsert:
		a.report(a.BeginInsert())
	case KeyUndo:
		if a.State().Phase == PhaseConfirmed {
			a.report(a.UndoConfirm())
			return
		}
		a.Undo()
	}
}

// TypeDigit is a digit typed on the keyboard. With a digit selected it replaces it and selects the next one,
// so a clerk can retype a code over its reading; after Insert (or "Add digit") it is inserted; otherwise it is
// added at the end of the code — on an empty pad it starts a code typed without ink.
func (a *App) TypeDigit(d int) error {
	return a.do(func() error {
		p := a.pad
		if p.Phase() == PhaseConfirmed {
			p.Clear()
			a.inkVer++
		}
		if i := p.Selected(); i >= 0 && p.InsertAt() < 0 {
			if err := p.Correct(d); err != nil {
				return err
			}
			if i+1 < len(p.Labels()) {
				return p.Select(i + 1)
			}
			return nil
		}
		if p.InsertAt() >= 0 {
			return p.Correct(d)
		}
		return p.Insert(len(p.Labels()), d)
	})
}

// MoveSelection moves the digit being corrected with the arrow keys.
func (a *App) MoveSelection(step int) error {
	return a.do(func() error { return a.pad.MoveSelection(step) })
}

// EraseDigit deletes the selected digit (Backspace or Delete; "Delete digit" on screen); Backspace with no
// digit selected deletes the last one.
func (a *App) EraseDigit(backspace bool) error {
	return a.do(func() error {
		i := a.pad.Selected()
		if i < 0 && backspace {
			i = len(a.pad.Labels()) - 1
		}
		if i < 0 {
			return ErrNotCorrecting
		}
		return a.pad.Delete(i)
	})
}

// BeginInsert makes the next digit key insert a digit after the selected one (Insert; "Add digit" on screen).
func (a *App) BeginInsert() error {
	return a.do(func() error { return a.pad.BeginInsert() })
}
