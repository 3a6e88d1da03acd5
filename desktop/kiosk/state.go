package kiosk

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
)

// DigitState is one recognised digit as the kiosk shows it.
type DigitState struct {
	// Digit is the digit after the clerk's correction; Predicted the model's.
	Digit      int     `json:"digit"`
	Predicted  int     `json:"predicted"`
	Confidence float64 `json:"confidence"`
	// Box is x0,y0,x1,y1 in pad pixels (x1,y1 exclusive).
	Box [4]int `json:"box"`
	// Low marks a digit the confirm policy flags (recognize.ConfirmDigits): the clerk should check it.
	Low       bool `json:"low"`
	Corrected bool `json:"corrected"`
	// Inserted: the clerk inserted or typed this digit; it has no ink of its own (Predicted is -1).
	Inserted bool `json:"inserted,omitempty"`
	// Top are the likeliest readings of a written digit with their probabilities (TopConf): one tap away on
	// the keys while the digit is selected.
	Top     []int     `json:"top,omitempty"`
	TopConf []float64 `json:"top_conf,omitempty"`
}

// State is everything the screen shows, also written to Config.StateFile.
type State struct {
	Version uint64       `json:"version"`
	Phase   Phase        `json:"phase"`
	Code    string       `json:"code"`
	Digits  []DigitState `json:"digits"`
	// Selected is the digit being corrected, or -1; InsertAt is where the next digit key inserts a digit, or -1.
	Selected int `json:"selected"`
	InsertAt int `json:"insert_at"`
	// Deleted are the boxes of written digits the clerk deleted (drawn struck out on the pad).
	Deleted [][4]int `json:"deleted,omitempty"`
	// Typed: the code was typed without ink; Edited: digits were deleted or inserted.
	Typed       bool   `json:"typed,omitempty"`
	Edited      bool   `json:"edited,omitempty"`
	FormatError string `json:"format_error,omitempty"`
	// ShowFormat: the clerk paused (Config.FormatPause) or pressed Confirm, so the format problem is shown.
	ShowFormat bool `json:"show_format,omitempty"`
	// Message explains the last refused action or failure.
	Message string `json:"message,omitempty"`
	// Notice is the line the screen shows beside its title: Message, else the format problem once shown.
	// NoticeInfo marks news (enrolled, withdrawn) rather than a refusal or a problem.
	Notice     string `json:"notice,omitempty"`
	NoticeInfo bool   `json:"notice_info,omitempty"`
	// CanUndoConfirm: Undo would withdraw the code just confirmed (unsent, not being sent).
	CanUndoConfirm bool `json:"can_undo_confirm,omitempty"`
	// Saved is the last confirmed code.
	Saved   string `json:"saved,omitempty"`
	Strokes int    `json:"strokes"`
	Pending int    `json:"pending"`
	Online  bool   `json:"online"`
	// Sync is what the screen says about sending: "local" (no server), "not enrolled" (no credential yet),
	// "offline", "refused" (the server refuses the credential: revoked), "syncing" (records pending) or
	// "synced".
	Sync string `json:"sync"`
	// EnrolOffered: the status bar shows the Enrol button (a server is configured and the kiosk has no
	// credential, or the server refuses it). Enrol is the enrolment form.
	EnrolOffered bool      `json:"enrol_offered"`
	Enrol        EnrolForm `json:"enrol"`
	// Recent are the last codes confirmed here, newest first, with where each is.
	Recent  []RecentCode        `json:"recent"`
	Server  bool                `json:"server"` // a server is configured
	Model   recognize.ModelInfo `json:"model"`
	KioskID string              `json:"kiosk_id"`
	// CanUndo and CanConfirm say whether Undo and Confirm would act now (Pad.CanUndo, Pad.CanConfirm): the
	// screen enables its buttons by them instead of deciding itself.
	CanUndo    bool `json:"can_undo"`
	CanConfirm bool `json:"can_confirm"`
}

// State returns a snapshot of the kiosk's state.
func (a *App) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stateLocked()
}

func (a *App) stateLocked() State {
	s := State{
		Version: a.version, Phase: a.pad.Phase(), Code: a.pad.Code(), Digits: []DigitState{},
		Selected: a.pad.Selected(), FormatError: a.pad.FormatError(), Message: a.message, Saved: a.saved,
		Strokes: len(a.pad.Strokes()), Pending: a.pending, Online: a.online, Server: a.syncer != nil,
		Model: a.rec.Info(), KioskID: a.cfg.KioskID, CanUndo: a.pad.CanUndo(), CanConfirm: a.pad.CanConfirm(),
	}
	s.Recent = a.recentLocked()
	s.ShowFormat = s.FormatError != "" && a.fmtShown == a.pad.Ver()
	s.Notice, s.NoticeInfo = s.Message, s.Message != "" && a.info
	s.CanUndoConfirm = a.canUndoConfirmLocked()
	if s.Notice == "" && s.ShowFormat {
		s.Notice = s.FormatError
	}
	s.EnrolOffered, s.Enrol = a.enrolmentOffered(), a.enrol
	switch {
	case a.syncer == nil:
		s.Sync = "local"
	case a.cfg.Token == "":
		s.Sync = "not enrolled"
	case a.refused:
		s.Sync = "refused"
	case !a.online:
		s.Sync = "offline"
	case a.pending > 0:
		s.Sync = "syncing"
	default:
		s.Sync = "synced"
	}
	if rv := a.pad.Review(); rv != nil {
		r := a.pad.Result()
		low := map[int]bool{}
		for _, i := range rv.Verdict.Doubtful {
			low[i] = true
		}
		if r != nil && !rv.Typed {
			for _, i := range r.Confirm { // flagged digits keep their colour after "confirm anyway"
				for k, sl := range rv.Slots {
					if sl.Index == i && !sl.Fixed {
						low[k] = true
					}
				}
			}
		}
		for k, sl := range rv.Slots {
			ds := DigitState{Digit: sl.Digit, Predicted: -1, Box: sl.Box, Low: low[k], Corrected: a.pad.Corrected(k),
				Inserted: sl.Index < 0, Top: sl.Top}
			if r != nil && sl.Index >= 0 {
				d := r.Digits[sl.Index]
				// A corrected digit's card shows the model's confidence in the digit it now shows.
				ds.Predicted, ds.Confidence = d.Digit, d.Probs[sl.Digit]
				ds.TopConf = make([]float64, len(sl.Top))
				for j, t := range sl.Top {
					ds.TopConf[j] = d.Probs[t]
				}
			}
			s.Digits = append(s.Digits, ds)
		}
		for _, i := range rv.Deleted {
			s.Deleted = append(s.Deleted, r.Digits[i].Box)
		}
		s.Typed, s.Edited = rv.Typed, rv.Edited
	}
	s.InsertAt = a.pad.InsertAt()
	return s
}

// InkSnapshot is the ink on the pad, in pad coordinates.
type InkSnapshot struct {
	// Done are the finished strokes; Gen changes whenever they do (the UI caches their rendering by it).
	Done []ink.Stroke
	Gen  uint64
	// Active are the strokes being drawn.
	Active []ink.Stroke
	// Version changes whenever Done or Active do.
	Version uint64
}

// Ink returns the ink on the pad.
func (a *App) Ink() InkSnapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	return InkSnapshot{Done: a.pad.Strokes(), Gen: a.pad.Gen(), Active: a.capture.Active(), Version: a.inkVer}
}

// WaitFor blocks until cond holds for the state or ctx ends; it returns the state that satisfied cond.
func (a *App) WaitFor(ctx context.Context, cond func(State) bool) (State, error) {
	for {
		a.mu.Lock()
		s, ch := a.stateLocked(), a.changed
		a.mu.Unlock()
		if cond(s) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("waiting for the kiosk state (last: phase %s code %q pending %d online %v): %w",
				s.Phase, s.Code, s.Pending, s.Online, ctx.Err())
		case <-ch:
		}
	}
}

// stateFileLoop writes the state file after every change; bursts of changes are coalesced, and the last
// state is always written.
func (a *App) stateFileLoop(ctx context.Context) {
	var last uint64 = ^uint64(0)
	for {
		a.mu.Lock()
		s, ch := a.stateLocked(), a.changed
		a.mu.Unlock()
		if s.Version != last {
			if err := WriteStateFile(a.cfg.StateFile, s); err != nil {
				a.log.Error("cannot write the state file", "err", err)
			}
			last = s.Version
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
}

// WriteStateFile writes s as JSON to path through a temporary file and a rename, so readers never see a
// partial file.
func WriteStateFile(path string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}
