package kiosk_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/desktop/kiosk"
	"digitpad/server"
	"digitpad/server/store/sqlite"
)

// realServer is the digitpad server on 127.0.0.1 with a SQLite store and an admin token.
func realServer(t *testing.T) (*server.Server, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Store: st, Token: "admin-token"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetModel(assets.Model(), assets.ModelCard()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, st
}

func TestOutbox_ClaimAndWithdrawExcludeEachOther(t *testing.T) {
	o := mustOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	defer o.Close()
	for _, k := range []string{"a", "b"} {
		if err := o.Put(record(k, "12345")); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := o.Claim("a"); !ok || err != nil {
		t.Fatalf("claim a: %v %v", ok, err)
	}
	if err := o.Withdraw("a"); !errors.Is(err, kiosk.ErrSending) {
		t.Errorf("withdrawing a claimed record: %v, want ErrSending", err)
	}
	if err := o.Withdraw("b"); err != nil {
		t.Fatalf("withdraw b: %v", err)
	}
	if ok, err := o.Claim("b"); ok || err != nil {
		t.Errorf("a withdrawn record was claimed for sending: %v %v", ok, err)
	}
	if _, err := o.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if err := o.Withdraw("a"); !errors.Is(err, kiosk.ErrAlreadySent) {
		t.Errorf("withdrawing an acknowledged record: %v, want ErrAlreadySent", err)
	}
	if got := keys(t, o); len(got) != 0 {
		t.Errorf("outbox keeps %v", got)
	}
}

// Issue 11, point 7: "undo last confirm" racing the send. The clerk's withdraw lands at either side of the
// moment sync claims the record; either way the kiosk and the server agree — withdrawn and never stored, or
// refused ("being sent") and stored once.
func TestApp_WithdrawRacingTheSendNeverDisagreesWithTheServer(t *testing.T) {
	for _, c := range []struct {
		stage     string
		withdrawn bool
	}{
		{"list", true},     // after sync read the outbox, before it claimed the record
		{"claimed", false}, // after the claim, before the record is written to the socket
	} {
		t.Run(c.stage, func(t *testing.T) {
			srv, st := realServer(t)
			// No digit flagged: one press on Confirm saves (the hook may withdraw at once, putting the code back).
			cfg := kiosk.Config{Server: srv.URL(), Token: "admin-token", Format: "5", Threshold: 1e-9}
			var once sync.Once
			var app atomic.Pointer[kiosk.App]
			undo := make(chan error, 1)
			kiosk.SetSendHook(&cfg.Sync, func(stage, key string) {
				if a := app.Load(); stage == c.stage && a != nil && a.State().Pending == 1 {
					once.Do(func() { undo <- a.UndoConfirm() })
				}
			})
			r := startApp(t, cfg)
			app.Store(r.app)
			r.wait(t, "online", func(s kiosk.State) bool { return s.Sync == "synced" })
			r.write(t, "29384", 4)
			r.wait(t, "recognised", hasCode("29384"))
			r.tap(kiosk.Centre(r.app.Layout().Confirm))
			var err error
			select {
			case err = <-undo:
			case <-time.After(20 * time.Second):
				t.Fatal("sync never reached the hook")
			}
			if c.withdrawn != (err == nil) {
				t.Fatalf("withdraw at %q: %v", c.stage, err)
			}
			// A second code is sent after the first: once it is stored, the first was sent or never will be.
			r.tap(kiosk.Centre(r.app.Layout().Clear)) // a withdrawn code is back on the pad
			r.wait(t, "a blank pad", func(s kiosk.State) bool { return s.Strokes == 0 })
			r.write(t, "56012", 7)
			r.wait(t, "recognised", hasCode("56012"))
			r.confirm(t)
			s := r.wait(t, "all sent", func(s kiosk.State) bool {
				return s.Pending == 0 && s.Recent[0].Code == "56012" && s.Recent[0].State == "sent"
			})
			fbs, err := st.Feedback(context.Background(), "", 10)
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]bool{}
			for _, f := range fbs {
				stored[f.Code] = true
			}
			if !stored["56012"] {
				t.Fatalf("the second code is not on the server: %v", stored)
			}
			first := s.Recent[1]
			if first.Code != "29384" {
				t.Fatalf("recent %+v", s.Recent)
			}
			if c.withdrawn && (stored["29384"] || first.State != "withdrawn") {
				t.Errorf("withdrawn before the claim: stored %v, kiosk says %q (recent %+v, undo %v)", stored["29384"], first.State, s.Recent, err)
			}
			if !c.withdrawn && (!stored["29384"] || first.State != "sent") {
				t.Errorf("refused withdraw: stored %v, kiosk says %q", stored["29384"], first.State)
			}
		})
	}
}

// confirm presses Confirm, and once more when the kiosk asks to check doubtful digits ("confirm anyway").
func (r *appRig) confirm(t *testing.T) {
	t.Helper()
	r.tap(kiosk.Centre(r.app.Layout().Confirm))
	s := r.wait(t, "confirmed or asked to check", func(s kiosk.State) bool {
		return s.Phase == kiosk.PhaseConfirmed || s.Message != ""
	})
	if s.Phase != kiosk.PhaseConfirmed {
		r.tap(kiosk.Centre(r.app.Layout().Confirm))
		r.wait(t, "confirmed anyway", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseConfirmed })
	}
}

// A record whose every send the server refused before storing (the kiosk not enrolled) may be withdrawn again;
// one whose answer was lost may not.
func TestOutbox_RefusedSendsCanBeWithdrawnLostOnesCannot(t *testing.T) {
	o := mustOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	defer o.Close()
	if err := o.Put(record("a", "12345")); err != nil {
		t.Fatal(err)
	}
	for range 2 { // sent twice: one answer lost, one refused
		if ok, err := o.Claim("a"); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if err := o.Resolve("a"); err != nil {
		t.Fatal(err)
	}
	if err := o.Withdraw("a"); !errors.Is(err, kiosk.ErrSending) {
		t.Fatalf("a send without an answer: withdraw %v, want ErrSending", err)
	}
	if err := o.Resolve("a"); err != nil {
		t.Fatal(err)
	}
	if err := o.Withdraw("a"); err != nil {
		t.Fatalf("every send refused: withdraw %v", err)
	}
}
