package kiosk

import (
	bolt "go.etcd.io/bbolt"

	"errors"
	"fmt"
	"slices"
)

// recentMax is how many confirmed codes the screen lists.
const recentMax = 4

// RecentCode is a code confirmed on this kiosk and where it is.
type RecentCode struct {
	Code string `json:"code"`
	Key  string `json:"key"`
	// State is "pending" (in the outbox), "sending" (sync started to send it: it can no longer be withdrawn),
	// "sent" (acknowledged), "refused" (the server refuses the kiosk) or "withdrawn" (the clerk undid the
	// confirm before it was sent).
	State string `json:"state"`
}

// addRecentLocked records a confirmed code; a.mu must be held.
func (a *App) addRecentLocked(code, key string) {
	a.recent = slices.Insert(a.recent, 0, RecentCode{Code: code, Key: key, State: "pending"})
	if len(a.recent) > recentMax {
		a.recent = a.recent[:recentMax]
	}
}

// recentLocked returns the recent codes as the screen shows them; a.mu must be held.
func (a *App) recentLocked() []RecentCode {
	out := slices.Clone(a.recent)
	for i := range out {
		if out[i].State == "pending" && a.refused {
			out[i].State = "refused"
		}
	}
	return out
}

// canUndoConfirmLocked says whether "undo last confirm" would act: the code just confirmed is still unsent and
// sync has not started to send it; a.mu must be held.
func (a *App) canUndoConfirmLocked() bool {
	if a.pad.Phase() != PhaseConfirmed || len(a.recent) == 0 {
		return false
	}
	switch a.recent[0].State {
	case "pending", "refused":
		return true
	}
	return false
}

// markSentLocked marks recent codes sync has claimed as sending and those that left the outbox as sent; a.mu
// must be held. It reports a change.
func (a *App) markSentLocked() bool {
	changed := false
	for i, r := range a.recent {
		if r.State != "pending" && r.State != "sending" {
			continue
		}
		state := "pending"
		if ok, err := a.outbox.Has(r.Key); err != nil {
			continue
		} else if !ok {
			state = "sent"
		} else if ok, err := a.outbox.Sending(r.Key); err == nil && ok {
			state = "sending"
		}
		if state != r.State {
			a.recent[i].State = state
			changed = true
		}
	}
	return changed
}

// UndoConfirm withdraws the last confirmed code while it is still unsent: it leaves the outbox and never reaches
// the server. Once sync started to send it (Outbox.Claim) it is refused with ErrSending, so the kiosk never says
// "withdrawn" about a code the server may store.
func (a *App) UndoConfirm() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.recent) == 0 || a.recent[0].State == "withdrawn" {
		return errors.New("no confirmed code to undo")
	}
	r := a.recent[0]
	if err := a.outbox.Withdraw(r.Key); err != nil {
		a.markSentLocked()
		a.changedLocked()
		switch {
		case errors.Is(err, ErrSending):
			return fmt.Errorf("%s is being sent: too late to undo", r.Code)
		case errors.Is(err, ErrAlreadySent):
			return fmt.Errorf("%s was sent: too late to undo", r.Code)
		}
		return fmt.Errorf("undo confirm: %w", err)
	}
	a.recent[0].State = "withdrawn"
	a.refreshPendingLocked()
	// The withdrawn code goes back on the pad, to be fixed and confirmed again, or cleared.
	if a.pad.Phase() == PhaseConfirmed && a.pad.Code() == r.Code {
		a.pad.Reopen()
	}
	a.message, a.info = "code "+r.Code+" withdrawn", true
	a.changedLocked()
	return nil
}

// Has reports whether the record with this idempotency key is still pending.
func (o *Outbox) Has(key string) (bool, error) {
	found := false
	err := o.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketKeys).Get([]byte(key)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("outbox: lookup %s: %w", key, err)
	}
	return found, nil
}
