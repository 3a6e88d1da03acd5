package kiosk_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/desktop/kiosk"
	"digitpad/server"
	"digitpad/server/store"
	"digitpad/server/store/sqlite"
)

// A new depot's story: the kiosk without a credential shows "refused" with the code pending; the operator's
// one-time code enrols it, the code syncs; revoking the device refuses again.
func TestApp_EnrolmentMakesCodesSyncAndRevocationStopsThem(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Store: st, Token: "admin-token", OpenPredict: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetModel(assets.Model(), assets.ModelCard()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	data := t.TempDir()

	r := startApp(t, kiosk.Config{Server: srv.URL(), DataDir: data})
	r.write(t, "29384", 4)
	r.wait(t, "recognised", hasCode("29384"))
	r.confirm(t)
	r.wait(t, "not enrolled, the code pending", func(s kiosk.State) bool {
		return s.Sync == "not enrolled" && s.EnrolOffered && s.Pending == 1
	})
	r.stop()

	code, _, err := server.NewEnrolment(context.Background(), st, "depot 7 kiosk", time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kiosk.Enrol(context.Background(), nil, srv.URL(), data, "wrong-code", "k"); err == nil {
		t.Fatal("a wrong code enrolled the kiosk")
	}
	id, err := kiosk.Enrol(context.Background(), nil, srv.URL(), data, code, "depot 7")
	if err != nil {
		t.Fatal(err)
	}
	r = startApp(t, kiosk.Config{Server: srv.URL(), DataDir: data})
	r.wait(t, "synced", func(s kiosk.State) bool { return s.Sync == "synced" && s.Pending == 0 })
	// Enrolled, the kiosk takes the server's model (fp32) in place of its fastest variant (int8 where the CPU has
	// VNNI) and reads the pad again. Written before that swap, the code could be re-read between the two taps
	// of a "confirm anyway", which starts the confirm over (CI, stop 23).
	want := srv.ModelInfo().SHA256
	r.wait(t, "the server's model active", func(s kiosk.State) bool { return s.Model.SHA256 == want })

	if err := store.Devices(st).RevokeDevice(context.Background(), id, time.Now()); err != nil {
		t.Fatal(err)
	}
	r.write(t, "29384", 4)
	r.wait(t, "recognised", hasCode("29384"))
	r.confirm(t)
	r.wait(t, "refused after revocation", func(s kiosk.State) bool {
		return s.Sync == "refused" && s.EnrolOffered && s.Pending == 1
	})
}

// Issue 11, point 2, on the kiosk's own screen: the operator types the one-time code on the kiosk (a letter
// opens the form), a wrong code is refused in words that fit, the right one enrols it: the credential lands in
// the data folder and the waiting code syncs without a restart.
func TestApp_EnrolByTypingTheCodeOnTheKiosk(t *testing.T) {
	srv, st := realServer(t)
	data := t.TempDir()
	r := startApp(t, kiosk.Config{Server: srv.URL(), DataDir: data})
	r.write(t, "29384", 4)
	r.wait(t, "recognised", hasCode("29384"))
	r.confirm(t)
	r.wait(t, "not enrolled", func(s kiosk.State) bool { return s.Sync == "not enrolled" && s.Pending == 1 && s.EnrolOffered })

	typeText := func(s string) {
		for _, c := range s {
			r.app.KeyRune(c)
		}
	}
	typeText("zzzz2222")
	s := r.wait(t, "the form open with the code", func(s kiosk.State) bool { return s.Enrol.Open && s.Enrol.Code == "ZZZZ-2222" })
	if s.Phase == kiosk.PhaseCorrecting {
		t.Errorf("typing the enrolment code changed the postal code: %+v", s)
	}
	r.app.Key(kiosk.KeyEnter)
	s = r.wait(t, "the wrong code refused", func(s kiosk.State) bool { return s.Enrol.Error != "" })
	if s.Enrol.Error != "code not accepted: wrong, used or expired" || !s.Enrol.Open {
		t.Errorf("wrong code: form %+v", s.Enrol)
	}
	for range 9 {
		r.app.Key(kiosk.KeyBackspace)
	}
	code, _, err := server.NewEnrolment(context.Background(), st, "depot 7 kiosk", time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	typeText(strings.ToLower(code)) // the dash is typed too, and ignored
	r.wait(t, "the code typed", func(s kiosk.State) bool { return s.Enrol.Code == code })
	r.tap(kiosk.Centre(r.app.Layout().Confirm)) // the Enrol button while the form is open
	s = r.wait(t, "enrolled and synced", func(s kiosk.State) bool { return s.Sync == "synced" && s.Pending == 0 })
	if s.Enrol.Open || s.EnrolOffered || s.Recent[0].State != "sent" {
		t.Errorf("after enrolment: %+v", s)
	}
	b, err := os.ReadFile(filepath.Join(data, kiosk.CredentialFile))
	if err != nil || !strings.HasPrefix(string(b), server.CredentialPrefix) {
		t.Errorf("credential file: %q, %v", b, err)
	}
	fbs, err := st.Feedback(context.Background(), "", 10)
	if err != nil || len(fbs) != 1 || fbs[0].Code != "29384" {
		t.Fatalf("server holds %d records (%v)", len(fbs), err)
	}
}

// Recent codes show where each is; Undo right after a confirm withdraws the code while it is unsent.
func TestApp_RecentCodesAndUndoLastConfirm(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "5"})
	l := r.app.Layout()
	r.write(t, "29384", 4)
	r.wait(t, "recognised", hasCode("29384"))
	r.tap(kiosk.Centre(l.Confirm))
	st := r.wait(t, "confirmed", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseConfirmed && s.Pending == 1 })
	if len(st.Recent) != 1 || st.Recent[0].Code != "29384" || st.Recent[0].State != "pending" || !st.CanUndoConfirm {
		t.Fatalf("recent %+v", st.Recent)
	}
	r.tap(kiosk.Centre(l.Undo))
	st = r.wait(t, "withdrawn", func(s kiosk.State) bool { return s.Pending == 0 })
	if st.Recent[0].State != "withdrawn" || st.CanUndoConfirm {
		t.Errorf("after undo: recent %+v", st.Recent)
	}
	// The withdrawn code is back on the pad, to be fixed and confirmed again.
	if st.Phase != kiosk.PhaseRecognised || st.Code != "29384" || !st.NoticeInfo || st.Notice != "code 29384 withdrawn" {
		t.Errorf("after undo: phase %s code %q notice %q", st.Phase, st.Code, st.Notice)
	}
	r.stop()
	if n := len(readOutbox(t, r.cfg.DataDir)); n != 0 {
		t.Errorf("the withdrawn code is still in the outbox (%d records)", n)
	}
}

// Four digits with format 5: no amber from the first digit; the problem shows, in words that fit, once the
// clerk pauses.
func TestApp_FormatProblemShowsAfterAPause(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "5", FormatPause: 300 * time.Millisecond})
	r.write(t, "2938", 4)
	st := r.wait(t, "recognised", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseRecognised })
	if st.ShowFormat {
		t.Errorf("the format problem shows at once: %+v", st)
	}
	st = r.wait(t, "the pause", func(s kiosk.State) bool { return s.ShowFormat })
	if st.FormatError != fmt.Sprintf("%d of 5 digits: add %d", len(st.Code), 5-len(st.Code)) {
		t.Errorf("format problem %q for code %q", st.FormatError, st.Code)
	}
}

// A corrected digit's card shows the model's confidence in the digit it now shows, not in the one it replaced.
func TestApp_CorrectedCardShowsTheConfidenceOfTheShownDigit(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "5"})
	l := r.app.Layout()
	r.write(t, "29384", 4)
	before := r.wait(t, "recognised", hasCode("29384"))
	r.tap(kiosk.Centre(l.Card(1, 5)))
	r.wait(t, "selected", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseCorrecting })
	r.tap(kiosk.Centre(l.Keys[7]))
	st := r.wait(t, "corrected", hasCode("27384"))
	d := st.Digits[1]
	if !d.Corrected || d.Confidence >= before.Digits[1].Confidence || d.Confidence > 0.5 {
		t.Errorf("corrected card %+v shows confidence %.3f; the 9 read at %.3f, a 7 is unlikely", d, d.Confidence, before.Digits[1].Confidence)
	}
}

// A kiosk without a keyboard is enrolled on its touch screen: the Enrol button opens the form, its letter keys
// and the 0–9 keys type the code, Undo deletes a character, Confirm enrols.
func TestApp_EnrolOnTheTouchScreen(t *testing.T) {
	srv, st := realServer(t)
	r := startApp(t, kiosk.Config{Server: srv.URL()})
	l := r.app.Layout()
	r.wait(t, "not enrolled", func(s kiosk.State) bool { return s.EnrolOffered })
	r.tap(kiosk.Centre(l.Enrol))
	r.wait(t, "the form", func(s kiosk.State) bool { return s.Enrol.Open })
	code, _, err := server.NewEnrolment(context.Background(), st, "touch kiosk", time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tapChar := func(c rune) {
		if c >= '0' && c <= '9' {
			r.tap(kiosk.Centre(l.Keys[c-'0']))
			return
		}
		i := strings.IndexRune(kiosk.EnrolLetters, c)
		if i < 0 {
			t.Fatalf("no on-screen key for %q", c)
		}
		r.tap(kiosk.Centre(l.EnrolKeys[i]))
	}
	raw := strings.ReplaceAll(code, "-", "")
	for _, c := range raw[:5] + "A" {
		tapChar(c)
	}
	r.tap(kiosk.Centre(l.Undo)) // the A was a slip
	for _, c := range raw[5:] {
		tapChar(c)
	}
	s := r.wait(t, "the code tapped", func(s kiosk.State) bool { return s.Enrol.Code == code })
	if s.Strokes != 0 || s.Code != "" {
		t.Errorf("tapping the form wrote on the pad: %+v", s)
	}
	r.tap(kiosk.Centre(l.Confirm))
	r.wait(t, "enrolled", func(s kiosk.State) bool { return s.Sync == "synced" && !s.EnrolOffered })
}

func TestLayout_EnrolKeysSitInsideThePadApart(t *testing.T) {
	l := kiosk.NewLayout(kiosk.ScreenW, kiosk.ScreenH)
	for i, k := range l.EnrolKeys {
		if !k.In(l.Pad) || k.Dx() < 60 || k.Dy() < 50 {
			t.Errorf("key %c %v: outside the pad %v or under 60×50 px", kiosk.EnrolLetters[i], k, l.Pad)
		}
		for j := range i {
			if k.Overlaps(l.EnrolKeys[j]) {
				t.Errorf("keys %c and %c overlap", kiosk.EnrolLetters[i], kiosk.EnrolLetters[j])
			}
		}
	}
}
