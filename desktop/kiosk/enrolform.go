package kiosk

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
)

// EnrolForm is the enrolment form on the kiosk's screen: an operator types the one-time code that `digitpad
// serve` or `digitpad enroll` printed, and the kiosk exchanges it for its own device credential (Enrol).
type EnrolForm struct {
	Open bool `json:"open"`
	// Code is what the operator typed, as "ABCD-EFGH".
	Code string `json:"code"`
	Busy bool   `json:"busy,omitempty"`
	// Error says why the last code was not accepted, in a few words.
	Error string `json:"error,omitempty"`
}

// enrolCodeLen is the number of characters of a one-time code (server.NewEnrolment), without its dash.
const enrolCodeLen = 8

// enrolmentOffered says whether the kiosk can be enrolled from its screen: a server is configured and the
// kiosk has no credential, or the server refuses the one it has (revoked); a.mu must be held.
func (a *App) enrolmentOffered() bool {
	return a.syncer != nil && (a.cfg.Token == "" || a.refused)
}

// OpenEnrol opens the enrolment form (the status bar's "Enrol" button, or a letter typed while enrolment is
// offered).
func (a *App) OpenEnrol() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.enrolmentOffered() || a.enrol.Open {
		return
	}
	a.enrol = EnrolForm{Open: true}
	a.changedLocked()
}

// CancelEnrol closes the enrolment form.
func (a *App) CancelEnrol() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.enrol.Open || a.enrol.Busy {
		return
	}
	a.enrol = EnrolForm{}
	a.changedLocked()
}

// enrolTypeLocked adds a typed character to the code (letters and digits; a dash after the fourth is implied).
func (a *App) enrolTypeLocked(r rune) {
	if a.enrol.Busy {
		return
	}
	r = unicode.ToUpper(r)
	if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
		return
	}
	raw := strings.ReplaceAll(a.enrol.Code, "-", "")
	if len(raw) >= enrolCodeLen {
		return
	}
	a.enrol.Code = formatEnrolCode(raw + string(r))
	a.enrol.Error = ""
	a.changedLocked()
}

func (a *App) enrolBackspaceLocked() {
	raw := strings.ReplaceAll(a.enrol.Code, "-", "")
	if a.enrol.Busy || raw == "" {
		return
	}
	a.enrol.Code = formatEnrolCode(raw[:len(raw)-1])
	a.enrol.Error = ""
	a.changedLocked()
}

func formatEnrolCode(raw string) string {
	if len(raw) > enrolCodeLen/2 {
		return raw[:enrolCodeLen/2] + "-" + raw[enrolCodeLen/2:]
	}
	return raw
}

// SubmitEnrol sends the typed code to the server's enrolment route (POST /v1/devices/enrol, as `-enroll` does)
// off the UI goroutine. On success the credential is kept in the data folder and sync reconnects with it at
// once; on failure the form says why in a few words.
func (a *App) SubmitEnrol() {
	a.mu.Lock()
	code := a.enrol.Code
	if !a.enrol.Open || a.enrol.Busy {
		a.mu.Unlock()
		return
	}
	if len(strings.ReplaceAll(code, "-", "")) != enrolCodeLen {
		a.enrol.Error = "the code has 8 characters"
		a.changedLocked()
		a.mu.Unlock()
		return
	}
	a.enrol.Busy, a.enrol.Error = true, ""
	a.changedLocked()
	a.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		id, err := Enrol(ctx, a.http, a.cfg.Server, a.cfg.DataDir, code, "kiosk "+a.cfg.KioskID)
		a.mu.Lock()
		defer a.mu.Unlock()
		a.enrol.Busy = false
		if err != nil {
			a.log.Warn("enrolment failed", "err", err)
			a.enrol.Error = enrolProblem(err)
			a.changedLocked()
			return
		}
		tok := readCredential(a.cfg.DataDir)
		a.cfg.Token = tok
		a.refused = false
		a.enrol = EnrolForm{}
		a.message, a.info = "kiosk enrolled", true
		a.changedLocked()
		a.syncer.SetToken(tok)
		a.log.Info("kiosk enrolled", "device", id)
	}()
}

// enrolProblem says in a few words why a code was not accepted.
func enrolProblem(err error) string {
	var se *enrolRefused
	if errors.As(err, &se) && se.status >= 400 && se.status < 500 {
		return "code not accepted: wrong, used or expired"
	}
	if errors.As(err, &se) {
		return "the server cannot enrol now: try again"
	}
	return "cannot reach the server: try again"
}
