package kiosk

// CanUndo reports whether Undo would change something: a stroke or a correction to take back, and the code not
// being saved or already confirmed.
func (p *Pad) CanUndo() bool {
	return p.phase != PhaseConfirmed && p.phase != PhaseSaving && len(p.history) > 0
}

// CanConfirm reports whether BeginConfirm would accept the code now: recognised (or being corrected) and
// matching the format.
func (p *Pad) CanConfirm() bool {
	return (p.phase == PhaseRecognised || p.phase == PhaseCorrecting) && p.review != nil && p.FormatError() == ""
}
