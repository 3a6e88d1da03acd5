package kiosk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"digitpad/assets"
	"digitpad/desktop/kiosk"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

type appRig struct {
	app    *kiosk.App
	cfg    kiosk.Config
	cancel context.CancelFunc
	done   chan struct{}
}

func startApp(t *testing.T, cfg kiosk.Config) *appRig {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.KioskID == "" {
		cfg.KioskID = "depot-7"
	}
	if cfg.Sync.Backoff.Min == 0 {
		cfg.Sync.Backoff = kiosk.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
	}
	a, err := kiosk.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &appRig{app: a, cfg: cfg, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); a.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

// stop ends Run and closes the app; safe to call twice.
func (r *appRig) stop() {
	r.cancel()
	<-r.done
	_ = r.app.Close()
}

func (r *appRig) wait(t *testing.T, what string, cond func(kiosk.State) bool) kiosk.State {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := r.app.WaitFor(ctx, cond)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return s
}

// write draws a code on the pad with the pointer, as a clerk would, with the synthetic stroke font.
func (r *appRig) write(t *testing.T, code string, seed uint64) {
	t.Helper()
	l := r.app.Layout()
	p := synth.Defaults()
	p.Seed = seed
	p.Height = 200
	p = synth.Centered(p, len(code), l.Pad.Dx(), l.Pad.Dy())
	c, err := synth.Write(code, p)
	if err != nil {
		t.Fatal(err)
	}
	ox, oy := float64(l.Pad.Min.X), float64(l.Pad.Min.Y)
	for _, s := range c.Strokes {
		// Only every 4th sample, like a pointer sampled once per frame; Capture fills the gaps.
		r.app.PointerDown(1, ox+s[0].X, oy+s[0].Y)
		for i := 4; i < len(s); i += 4 {
			r.app.PointerMove(1, ox+s[i].X, oy+s[i].Y)
		}
		last := s[len(s)-1]
		r.app.PointerMove(1, ox+last.X, oy+last.Y)
		r.app.PointerUp(1)
	}
}

// tap presses and releases a control.
func (r *appRig) tap(x, y float64) {
	r.app.PointerDown(2, x, y)
	r.app.PointerUp(2)
}

func hasCode(code string) func(kiosk.State) bool {
	return func(s kiosk.State) bool { return s.Phase == kiosk.PhaseRecognised && s.Code == code }
}

func readOutbox(t *testing.T, dataDir string) []protocol.Feedback {
	t.Helper()
	o := mustOutbox(t, filepath.Join(dataDir, "outbox.db"))
	defer o.Close()
	recs, err := o.List()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestApp_WriteCorrectConfirm(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "5"})
	l := r.app.Layout()
	r.write(t, "80331", 3)
	s := r.wait(t, "the written code recognised", hasCode("80331"))
	if len(s.Digits) != 5 {
		t.Fatalf("got %d digits, want 5", len(s.Digits))
	}
	for i, d := range s.Digits {
		if d.Box[2] <= d.Box[0] || d.Confidence <= 0 || d.Confidence > 1 {
			t.Errorf("digit %d = %+v: want a box and a confidence in (0,1]", i, d)
		}
		if i > 0 && d.Box[0] < s.Digits[i-1].Box[0] {
			t.Errorf("digit %d is left of digit %d", i, i-1)
		}
	}

	r.tap(kiosk.Centre(l.Card(2, 5)))
	r.wait(t, "digit 2 selected", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseCorrecting && s.Selected == 2 })
	r.tap(kiosk.Centre(l.Keys[7]))
	s = r.wait(t, "the correction applied", hasCode("80731"))
	if !s.Digits[2].Corrected || s.Digits[2].Predicted != 3 {
		t.Errorf("digit 2 = %+v, want corrected from 3", s.Digits[2])
	}

	r.tap(kiosk.Centre(l.Confirm))
	s = r.wait(t, "the code confirmed", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseConfirmed && s.Pending == 1 })
	if s.Saved != "80731" {
		t.Errorf("saved = %q, want 80731", s.Saved)
	}
	model := s.Model
	r.stop()

	recs := readOutbox(t, r.cfg.DataDir)
	if len(recs) != 1 {
		t.Fatalf("outbox holds %d records, want 1", len(recs))
	}
	f := recs[0]
	if err := f.Validate(protocol.DefaultLimits()); err != nil {
		t.Errorf("record fails the server's validation: %v", err)
	}
	if _, err := uuid.Parse(f.IdempotencyKey); err != nil {
		t.Errorf("idempotency key %q is not a UUID: %v", f.IdempotencyKey, err)
	}
	if f.Code != "80731" || f.Predicted != "80331" || !slices.Equal(f.Labels, []int{8, 0, 7, 3, 1}) {
		t.Errorf("record code %q predicted %q labels %v, want 80731, 80331, [8 0 7 3 1]", f.Code, f.Predicted, f.Labels)
	}
	if f.ClientID != "depot-7" || f.ModelSHA256 != model.SHA256 || f.CreatedAt.IsZero() {
		t.Errorf("record client %q model %q created %v", f.ClientID, f.ModelSHA256, f.CreatedAt)
	}
	if len(f.Digits) != 5 || len(f.Inputs) != 5 {
		t.Fatalf("record has %d digits and %d inputs, want 5 each", len(f.Digits), len(f.Inputs))
	}
	for i, in := range f.Inputs {
		ink := 0
		for _, v := range in {
			if v > 128 {
				ink++
			}
		}
		if len(in) != 784 || ink < 20 {
			t.Errorf("input %d: %d bytes with %d ink pixels, want 784 bytes of a drawn digit", i, len(in), ink)
		}
	}
	img, err := png.Decode(bytes.NewReader(f.InkPNG))
	if err != nil {
		t.Fatalf("ink PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != l.Pad.Dx() || b.Dy() != l.Pad.Dy() {
		t.Errorf("ink PNG is %v, want the pad's %dx%d", b, l.Pad.Dx(), l.Pad.Dy())
	}
}

func TestApp_UndoAndClear(t *testing.T) {
	r := startApp(t, kiosk.Config{})
	l := r.app.Layout()
	r.write(t, "47", 1)
	r.wait(t, "47 recognised", hasCode("47"))
	r.tap(kiosk.Centre(l.Undo))
	s := r.wait(t, "the last stroke undone", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseRecognised && s.Code != "47" })
	if s.Strokes == 0 {
		t.Error("undo removed every stroke")
	}
	r.tap(kiosk.Centre(l.Clear))
	s = r.wait(t, "a clear pad", func(s kiosk.State) bool { return s.Strokes == 0 })
	if s.Code != "" || len(s.Digits) != 0 || s.Phase != kiosk.PhaseDrawing {
		t.Errorf("after clear: %+v", s)
	}
}

func TestApp_ConfirmRefusedOutsideTheFormatShowsWhy(t *testing.T) {
	r := startApp(t, kiosk.Config{Format: "^1[0-9]{2}$"})
	r.write(t, "803", 5)
	r.wait(t, "803 recognised", hasCode("803"))
	r.tap(kiosk.Centre(r.app.Layout().Confirm))
	s := r.wait(t, "a refusal message", func(s kiosk.State) bool { return s.Message != "" })
	if s.Pending != 0 || s.Phase != kiosk.PhaseRecognised || s.FormatError == "" {
		t.Errorf("state after a refused confirm: %+v", s)
	}
}

func TestApp_StateFileFollowsTheScreen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	r := startApp(t, kiosk.Config{StateFile: path})
	r.write(t, "10115", 2)
	r.wait(t, "recognised", hasCode("10115"))
	var got struct {
		Code   string `json:"code"`
		Digits []struct {
			Digit      int     `json:"digit"`
			Confidence float64 `json:"confidence"`
			Box        [4]int  `json:"box"`
		} `json:"digits"`
		Pending *int  `json:"pending"`
		Online  *bool `json:"online"`
	}
	eventually(t, "the state file to show the code", func() bool {
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &got) == nil && got.Code == "10115"
	})
	if len(got.Digits) != 5 || got.Digits[0].Digit != 1 || got.Digits[0].Box[2] == 0 || got.Pending == nil ||
		got.Online == nil {
		t.Errorf("state file = %+v, want 5 digits with boxes, pending and online", got)
	}
}

func TestApp_SyncsConfirmedCodesAndShowsOnline(t *testing.T) {
	fs := newFakeServer(t)
	srv := httptest.NewServer(fs)
	defer srv.Close()
	r := startApp(t, kiosk.Config{Server: srv.URL, Token: "secret"})
	r.wait(t, "online", func(s kiosk.State) bool { return s.Online })
	r.write(t, "29384", 4)
	r.wait(t, "recognised", hasCode("29384"))
	r.tap(kiosk.Centre(r.app.Layout().Confirm))
	r.wait(t, "the code synced", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseConfirmed && s.Pending == 0 })
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.stored) != 1 {
		t.Fatalf("server stored %d records, want 1", len(fs.stored))
	}
	for _, f := range fs.stored {
		if f.Code != "29384" || f.ClientID != "depot-7" {
			t.Errorf("stored %q from %q, want 29384 from depot-7", f.Code, f.ClientID)
		}
	}
}

// modelServer serves one ONNX file at /v1/model.onnx and counts downloads.
func modelServer(t *testing.T, onnx []byte) (*httptest.Server, *int) {
	t.Helper()
	n := new(int)
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/model.onnx", func(w http.ResponseWriter, r *http.Request) {
		*n++
		_, _ = w.Write(onnx)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, n
}

func TestApp_ModelSwapVerifiesTheHash(t *testing.T) {
	v2 := variantModel(t, "v2")
	srv, downloads := modelServer(t, v2)
	dir := t.TempDir()
	r := startApp(t, kiosk.Config{DataDir: dir, Server: srv.URL})
	before := r.app.ModelInfo()
	ctx := context.Background()

	bad := protocol.ModelAnnouncement{Name: "v2", SHA256: sha([]byte("something else")), URL: "/v1/model.onnx"}
	if err := r.app.ApplyModel(ctx, bad); !errors.Is(err, kiosk.ErrHashMismatch) {
		t.Fatalf("announcement with a wrong hash: got %v, want ErrHashMismatch", err)
	}
	if got := r.app.ModelInfo(); got != before {
		t.Fatalf("model changed to %+v after a failed verification", got)
	}

	good := protocol.ModelAnnouncement{Name: "v2", SHA256: sha(v2), URL: "/v1/model.onnx"}
	if err := r.app.ApplyModel(ctx, good); err != nil {
		t.Fatal(err)
	}
	if got := r.app.ModelInfo(); got.SHA256 != sha(v2) || got.Name != "v2" {
		t.Fatalf("model = %+v, want v2 %s", got, sha(v2))
	}
	// The new model recognises at once, without a restart.
	r.write(t, "47110", 6)
	s := r.wait(t, "recognised by v2", hasCode("47110"))
	if s.Model.SHA256 != sha(v2) {
		t.Errorf("state names model %s, want v2", s.Model.SHA256)
	}
	if err := r.app.ApplyModel(ctx, good); err != nil || *downloads != 2 {
		t.Errorf("re-announcing the active model: err %v, %d downloads; want no new download (2 in all)", err, *downloads)
	}
	r.stop()

	// A restart prefers the newest verified model on disk over the embedded one.
	r2 := startApp(t, kiosk.Config{DataDir: dir})
	if got := r2.app.ModelInfo(); got.SHA256 != sha(v2) {
		t.Errorf("after restart model = %+v, want v2 from disk", got)
	}
}

func TestApp_ModelAnnouncedOverTheWebsocketIsSwappedIn(t *testing.T) {
	v3 := variantModel(t, "v3")
	fs := newFakeServer(t)
	mux := http.NewServeMux()
	mux.Handle("/v1/ws", fs)
	mux.HandleFunc("/v1/model.onnx", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(v3) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fs.announce = &protocol.ModelAnnouncement{Name: "v3", SHA256: sha(v3), URL: srv.URL + "/v1/model.onnx"}
	r := startApp(t, kiosk.Config{Server: srv.URL})
	s := r.wait(t, "the announced model active", func(s kiosk.State) bool { return s.Model.SHA256 == sha(v3) })
	if s.Model.Name != "v3" {
		t.Errorf("model name %q, want v3", s.Model.Name)
	}
}

func TestApp_AnnouncingTheActiveModelChangesNothing(t *testing.T) {
	card := embeddedCard(t)
	fs := newFakeServer(t)
	fs.announce = &protocol.ModelAnnouncement{Name: "same", SHA256: card.SHA256, URL: "/v1/model.onnx"}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	r := startApp(t, kiosk.Config{Server: srv.URL})
	r.wait(t, "online", func(s kiosk.State) bool { return s.Online })
	// The announcement arrives right after connecting; give the model loop a moment to (not) act on it.
	time.Sleep(200 * time.Millisecond)
	if s := r.app.State(); s.Message != "" || s.Model.SHA256 != card.SHA256 {
		t.Errorf("after announcing the active model: message %q, model %s", s.Message, s.Model.SHA256)
	}
}

// TestApp_LowConfidenceDigitsAreFlagged: with no threshold configured the model card's calibrated confirm
// threshold decides which digits are low by the confirm policy (recognize.ConfirmDigits, as on the server and
// the pad); an operator's threshold replaces it.
func TestApp_LowConfidenceDigitsAreFlagged(t *testing.T) {
	cardThreshold := embeddedCard(t).Calibration.Threshold
	if cardThreshold <= 0 || cardThreshold >= 1 {
		t.Fatalf("embedded card's confirm threshold %v, want one in (0, 1)", cardThreshold)
	}
	tests := []struct {
		name      string
		threshold float64
		want      float64 // the threshold the policy applies
	}{
		{"the card's threshold by default", 0, cardThreshold},
		{"a threshold no code reaches", 1.5, 1.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := startApp(t, kiosk.Config{Threshold: tc.threshold})
			r.write(t, "10115", 2)
			s := r.wait(t, "recognised", hasCode("10115"))
			conf := make([]float64, len(s.Digits))
			for i, d := range s.Digits {
				conf[i] = d.Confidence
			}
			flagged := recognize.ConfirmDigits(conf, tc.want)
			high := 0
			for i, d := range s.Digits {
				if want := slices.Contains(flagged, i); d.Low != want {
					t.Errorf("digit %d (confidence %.4f, code threshold %.4f) low = %v, want %v", i, d.Confidence, tc.want, d.Low, want)
				}
				if d.Confidence < tc.want && !d.Low {
					t.Errorf("digit %d at %.4f below the threshold %.4f on its own, not low", i, d.Confidence, tc.want)
				}
				if !d.Low {
					high++
				}
			}
			if tc.threshold == 0 && high == 0 {
				t.Errorf("no digit of a clean code passes the card's threshold %.4f: %+v", cardThreshold, s.Digits)
			}
		})
	}
}

func TestApp_StartIgnoresATamperedModelFile(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := os.MkdirAll(models, 0o700); err != nil {
		t.Fatal(err)
	}
	v2 := variantModel(t, "v2")
	// Named for v2 but holding other bytes.
	if err := os.WriteFile(filepath.Join(models, sha(v2)+".onnx"), variantModel(t, "tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startApp(t, kiosk.Config{DataDir: dir})
	card := embeddedCard(t)
	if got := r.app.ModelInfo(); got.SHA256 != card.SHA256 {
		t.Errorf("model = %+v, want the embedded %s", got, card.SHA256)
	}
}

func TestOpen_RejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  kiosk.Config
	}{
		{"no data folder", kiosk.Config{}},
		{"bad format", kiosk.Config{DataDir: t.TempDir(), Format: "(["}},
		{"bad server url", kiosk.Config{DataDir: t.TempDir(), Server: "ftp://x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := kiosk.Open(tc.cfg)
			if err == nil {
				a.Close()
				t.Fatal("no error")
			}
		})
	}
}

// embeddedCard is the card of the embedded model the kiosk starts with (the fastest variant on this CPU).
func embeddedCard(t *testing.T) assets.Card {
	t.Helper()
	onnx, cardJSON := assets.Variant(assets.FastestVariant())
	c, err := assets.ParseCard(cardJSON, onnx)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestApp_AnnouncedModelRunsWithItsCardCalibration: a swapped-in model is configured from the server's card
// (GET /v1/model: temperature, confirm threshold), as the server and the pad configure it, and keeps that card
// across a restart. The card here has a temperature of 50, which flattens every confidence far below 0.5; the
// name-only card the kiosk kept before read the same digits at their uncalibrated, high confidences.
func TestApp_AnnouncedModelRunsWithItsCardCalibration(t *testing.T) {
	v4 := variantModel(t, "v4")
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/model.onnx", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(v4) })
	mux.HandleFunc("/v1/model", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"sha256": sha(v4), "card": map[string]any{
			"name": "server-name", "calibration": map[string]any{"temperature": 50, "confirm_threshold": 0.5}}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	r := startApp(t, kiosk.Config{DataDir: dir, Server: srv.URL})
	m := protocol.ModelAnnouncement{Name: "v4", SHA256: sha(v4), URL: "/v1/model.onnx"}
	if err := r.app.ApplyModel(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	flat := func(s kiosk.State) bool {
		if s.Phase != kiosk.PhaseRecognised || s.Model.SHA256 != sha(v4) || len(s.Digits) == 0 {
			return false
		}
		for _, d := range s.Digits {
			if d.Confidence >= 0.5 {
				return false
			}
		}
		return true
	}
	r.write(t, "47110", 6)
	s := r.wait(t, "digits read with the card's temperature", flat)
	if s.Model.Name != "v4" {
		t.Errorf("model name %q, want the announced v4", s.Model.Name)
	}
	r.stop()

	r2 := startApp(t, kiosk.Config{DataDir: dir})
	r2.write(t, "47110", 6)
	r2.wait(t, "after a restart, the stored card's temperature", flat)
}
