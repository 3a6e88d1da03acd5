package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"digitpad/assets"
	"digitpad/shared/ink"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
)

// Config configures an App. Zero values take the defaults noted.
type Config struct {
	// DataDir holds the outbox (outbox.db) and downloaded models (models/). Required.
	DataDir string
	// KioskID is the client id in feedback records (default: the host name).
	KioskID string
	// Format is the code format: "" (any), a digit count such as "5", or a regular expression.
	Format string
	// Threshold is the confirm score (code confidence, lowered for short digits by the card's confirm model)
	// under which a code asks the clerk and its doubtful digits are highlighted (recognize.ConfirmModel; default
	// the model card's, else recognize.DefaultThreshold).
	Threshold float64
	// Server is the server's base URL; empty runs offline only (records stay in the outbox).
	Server string
	// Token is the server's bearer token. Empty: the device credential from enrolment (DataDir/device.credential).
	Token string
	// W, H is the screen the Layout is computed for (default ScreenW×ScreenH).
	W, H int
	// Debounce delays recognition after a stroke so a quick second stroke does not start a wasted run
	// (default 0: recognise at once; the UI uses ~120 ms).
	Debounce time.Duration
	// StateFile, when set, receives the State as JSON on every change (written to a temporary file, then
	// renamed), for tests and monitoring.
	StateFile string
	// Logger receives logs (default: discard).
	Logger *slog.Logger
	// Sync tunes the server connection (Server, Token, ClientID, Outbox and the callbacks are filled in).
	Sync SyncConfig
	// HTTPClient downloads models (default: a client with a 2-minute timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// FormatPause is how long the clerk pauses before a code that does not fit the format is flagged on screen
	// (default 1.2 s; a refused confirm flags it at once).
	FormatPause time.Duration
}

// App is the kiosk: a Pad, recognition off the UI goroutine, the outbox, sync and model updates. Its methods
// are safe for concurrent use; the UI calls the pointer methods and State from its own goroutine.
type App struct {
	cfg    Config
	log    *slog.Logger
	layout Layout
	outbox *Outbox
	models *ModelStore
	syncer *Syncer
	http   *http.Client

	recKick   chan struct{}
	modelKick chan protocol.ModelAnnouncement

	mu       sync.Mutex
	pad      *Pad
	capture  *Capture
	rec      *recognize.Recognizer
	pressed  map[int]Target // pointer id -> control pressed (not the pad)
	lastPos  map[int][2]float64
	lastUp   map[int][2]float64 // where each pointer was last released
	suspect  map[int][2]float64 // strokes that began exactly where the pointer was last released
	pending  int
	online   bool
	refused  bool // the server refused the kiosk's records (not enrolled, revoked)
	message  string
	info     bool   // message is news, not a refusal
	saved    string // last confirmed code
	recent   []RecentCode
	enrol    EnrolForm
	fmtShown uint64 // the code version (Pad.Ver) whose format problem the screen shows
	version  uint64
	changed  chan struct{} // closed and replaced on every change
	inkVer   uint64
	closeErr error
	closed   bool
}

// StaleJump is how far (in screen pixels) the first move after a press must land from a press reported at the
// pointer's last release position for the press position to count as stale.
const StaleJump = 24.0

// Open opens the outbox and the newest verified model (a downloaded one, else the embedded one).
func Open(cfg Config) (*App, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("kiosk: no data folder")
	}
	if cfg.KioskID == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "kiosk"
		}
		cfg.KioskID = h
	}
	if cfg.W <= 0 || cfg.H <= 0 {
		cfg.W, cfg.H = ScreenW, ScreenH
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FormatPause <= 0 {
		cfg.FormatPause = 1200 * time.Millisecond
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	pad, err := NewPad(cfg.Format)
	if err != nil {
		return nil, fmt.Errorf("kiosk: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("kiosk: data folder: %w", err)
	}
	a := &App{
		cfg: cfg, log: cfg.Logger, layout: NewLayout(cfg.W, cfg.H), http: cfg.HTTPClient,
		recKick: make(chan struct{}, 1), modelKick: make(chan protocol.ModelAnnouncement, 1),
		pad: pad, capture: NewCapture(DefaultStep), pressed: map[int]Target{}, lastPos: map[int][2]float64{},
		lastUp: map[int][2]float64{}, suspect: map[int][2]float64{},
		changed: make(chan struct{}), fmtShown: ^uint64(0),
	}
	if a.models, err = OpenModelStore(filepath.Join(cfg.DataDir, "models")); err != nil {
		return nil, fmt.Errorf("kiosk: %w", err)
	}
	if err := a.loadStartModel(); err != nil {
		return nil, err
	}
	if a.outbox, err = OpenOutbox(filepath.Join(cfg.DataDir, "outbox.db"), 5*time.Second); err != nil {
		return nil, fmt.Errorf("kiosk: %w", err)
	}
	if a.pending, err = a.outbox.Len(); err != nil {
		_ = a.outbox.Close()
		return nil, fmt.Errorf("kiosk: %w", err)
	}
	if cfg.Token == "" {
		cfg.Token = readCredential(cfg.DataDir)
		a.cfg.Token = cfg.Token
	}
	if cfg.Server != "" && cfg.Token == "" {
		a.log.Warn("the kiosk is not enrolled: its codes wait in the outbox until an operator types an enrolment code on its screen")
	}
	if cfg.Server != "" {
		sc := cfg.Sync
		sc.Server, sc.Token, sc.ClientID, sc.Outbox = cfg.Server, cfg.Token, cfg.KioskID, a.outbox
		if sc.Logger == nil {
			sc.Logger = cfg.Logger
		}
		sc.OnStatus = a.setOnline
		sc.OnRefused = a.setRefused
		sc.OnOutbox = a.refreshPending
		sc.OnModel = a.announce
		if a.syncer, err = NewSyncer(sc); err != nil {
			_ = a.outbox.Close()
			return nil, fmt.Errorf("kiosk: %w", err)
		}
	}
	return a, nil
}

// loadStartModel prefers the newest verified model on disk and falls back to the embedded one.
func (a *App) loadStartModel() error {
	m, skipped, err := a.models.Newest()
	for _, e := range skipped {
		a.log.Warn("ignoring a model file that fails verification", "err", e)
	}
	if err != nil {
		a.log.Warn("cannot read the model folder", "err", err)
	}
	if m != nil {
		if err := a.useModel(m.ONNX, m.Card); err == nil {
			return nil
		} else {
			a.log.Warn("stored model does not load; using the embedded one", "sha256", m.SHA256, "err", err)
		}
	}
	if err := a.useModel(assets.Variant(assets.FastestVariant())); err != nil {
		return fmt.Errorf("kiosk: embedded model: %w", err)
	}
	return nil
}

// useModel loads ONNX bytes and makes them the recogniser for the next recognition.
func (a *App) useModel(onnx, card []byte) error {
	r, err := onnxrec.New(onnx, card, recognize.Config{Threshold: a.cfg.Threshold, Format: a.cfg.Format})
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.rec = r
	// The ink on the pad is recognised again by the new model unless the clerk already corrected it.
	if ph := a.pad.Phase(); ph == PhaseDrawing || ph == PhaseRecognised && !a.anyCorrectedLocked() {
		a.kickRecognition()
	}
	a.changedLocked()
	a.mu.Unlock()
	a.log.Info("model active", "name", r.Info().Name, "sha256", r.Info().SHA256)
	return nil
}

func (a *App) anyCorrectedLocked() bool {
	for i := range a.pad.Labels() {
		if a.pad.Corrected(i) {
			return true
		}
	}
	return false
}

// Layout returns the screen layout the App hit-tests against.
func (a *App) Layout() Layout { return a.layout }

// Run recognises, writes the state file, syncs and applies model updates until ctx ends. It has no error to
// return: failures (recognition, sync, model downloads) are logged, shown in the State and retried.
func (a *App) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { a.recognizeLoop(ctx) })
	wg.Go(func() { a.modelLoop(ctx) })
	if a.cfg.StateFile != "" {
		wg.Go(func() { a.stateFileLoop(ctx) })
	}
	if a.syncer != nil {
		wg.Go(func() { a.syncer.Run(ctx) })
	}
	wg.Wait()
}

// Close closes the outbox. Call it after Run returned.
func (a *App) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return a.closeErr
	}
	a.closed = true
	a.closeErr = a.outbox.Close()
	return a.closeErr
}

// PointerDown forwards a mouse press or touch start at screen position (x, y).
func (a *App) PointerDown(id int, x, y float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.hitLocked(x, y)
	if t.Kind == TargetPad {
		a.pad.BeginStroke()
		a.capture.Down(id, a.padPoint(x, y))
		delete(a.suspect, id)
		if up, ok := a.lastUp[id]; ok && up == [2]float64{x, y} {
			a.suspect[id] = up
		}
		a.inkVer++
		a.changedLocked()
		return
	}
	a.pressed[id] = t
	a.lastPos[id] = [2]float64{x, y}
}

// PointerMove forwards a pointer's new position.
func (a *App) PointerMove(id int, x, y float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if at, ok := a.suspect[id]; ok {
		delete(a.suspect, id)
		// A press reported exactly where the pointer was last released, then a jump: the press position was
		// stale (touch screens in mouse emulation move and press in one instant; a slow frame reports the
		// press before the move). The stroke starts where the pointer really is.
		if math.Hypot(x-at[0], y-at[1]) > StaleJump && a.capture.Drawing(id) {
			a.capture.Down(id, a.padPoint(x, y))
			a.inkVer++
			return
		}
	}
	if a.capture.Move(id, a.padPoint(x, y)) {
		a.inkVer++
		return
	}
	if _, ok := a.pressed[id]; ok {
		a.lastPos[id] = [2]float64{x, y}
	}
}

// PointerUp ends a pointer's press: a stroke is finished and recognised; a control fires when the pointer is
// released over the control it pressed.
func (a *App) PointerUp(id int) {
	a.mu.Lock()
	delete(a.suspect, id)
	if p, ok := a.lastPos[id]; ok {
		a.lastUp[id] = p
	}
	if s, ok := a.capture.Active1(id); ok && len(s) > 0 {
		last := s[len(s)-1]
		a.lastUp[id] = [2]float64{last.X + float64(a.layout.Pad.Min.X), last.Y + float64(a.layout.Pad.Min.Y)}
	}
	if s, ok := a.capture.Up(id); ok {
		a.pad.AddStroke(s)
		if a.pad.ScratchOut() {
			a.message, a.info = "scratched out; Undo brings it back", true
		}
		a.inkVer++
		a.kickRecognition()
		a.changedLocked()
		a.mu.Unlock()
		return
	}
	t, ok := a.pressed[id]
	pos := a.lastPos[id]
	delete(a.pressed, id)
	delete(a.lastPos, id)
	if !ok || a.hitLocked(pos[0], pos[1]) != t {
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.activate(t)
}

// hitLocked is the control at (x, y) as the screen now shows it: the Enrol button only while enrolment is
// offered; while the enrolment form is open it covers the pad, and Confirm and Clear enrol and cancel.
func (a *App) hitLocked(x, y float64) Target {
	t := a.layout.Hit(x, y, len(a.pad.Labels()))
	if a.enrolmentOffered() || a.enrol.Open {
		if t.Kind == TargetNone && image.Pt(int(math.Floor(x)), int(math.Floor(y))).In(a.layout.Enrol) {
			return Target{Kind: TargetEnrol}
		}
	}
	if a.enrol.Open {
		p := image.Pt(int(math.Floor(x)), int(math.Floor(y)))
		for i, r := range a.layout.EnrolKeys {
			if p.In(r) {
				return Target{Kind: TargetEnrolKey, Index: i}
			}
		}
		switch t.Kind {
		case TargetEnrol, TargetConfirm, TargetClear, TargetUndo, TargetKey:
			return t
		}
		return Target{}
	}
	return t
}

func (a *App) activate(t Target) {
	a.mu.Lock()
	form := a.enrol.Open
	a.mu.Unlock()
	if form {
		// The enrolment form: letter keys and the 0–9 keys type the code, Undo deletes the last character,
		// Confirm enrols, Clear (or the Enrol button) closes the form.
		switch t.Kind {
		case TargetEnrolKey:
			a.KeyRune(rune(EnrolLetters[t.Index]))
		case TargetKey:
			a.KeyRune(rune('0' + t.Index))
		case TargetUndo:
			a.Key(KeyBackspace)
		case TargetConfirm:
			a.SubmitEnrol()
		case TargetClear, TargetEnrol:
			a.CancelEnrol()
		}
		return
	}
	switch t.Kind {
	case TargetEnrol:
		a.OpenEnrol()
	case TargetCard:
		a.report(a.Select(t.Index))
	case TargetKey:
		// On a pad without ink the keys are an on-screen number pad: they type the code.
		if st := a.State(); st.Phase != PhaseCorrecting && st.Strokes == 0 {
			a.report(a.TypeDigit(t.Index))
			return
		}
		a.report(a.Correct(t.Index))
	case TargetUndo:
		ph := a.State().Phase
		// While a digit is selected the button deletes it.
		if ph == PhaseCorrecting {
			a.report(a.EraseDigit(false))
			return
		}
		// Right after a confirm, Undo withdraws the code while it is still unsent.
		if ph == PhaseConfirmed {
			a.report(a.UndoConfirm())
			return
		}
		a.Undo()
	case TargetClear:
		// While a digit is selected the button adds a digit after it.
		if a.State().Phase == PhaseCorrecting {
			a.report(a.BeginInsert())
			return
		}
		a.Clear()
	case TargetConfirm:
		// Saving fsyncs; keep it off the UI goroutine. BeginConfirm's phase change makes a double tap harmless.
		go func() { a.report(a.Confirm()) }()
	}
}

// report shows a refused action's reason on screen.
func (a *App) report(err error) {
	if err == nil {
		return
	}
	a.mu.Lock()
	a.message, a.info = err.Error(), false
	a.changedLocked()
	a.mu.Unlock()
}

func (a *App) padPoint(x, y float64) ink.Point {
	return ink.Point{X: x - float64(a.layout.Pad.Min.X), Y: y - float64(a.layout.Pad.Min.Y)}
}

// Select starts correcting digit i.
func (a *App) Select(i int) error {
	return a.do(func() error { return a.pad.Select(i) })
}

// Correct replaces the selected digit with d.
func (a *App) Correct(d int) error {
	return a.do(func() error { return a.pad.Correct(d) })
}

// Undo reverts the last correction or stroke.
func (a *App) Undo() {
	_ = a.do(func() error {
		g := a.pad.Gen()
		a.pad.Undo()
		if a.pad.Gen() != g {
			a.inkVer++
			a.kickRecognition()
		}
		return nil
	})
}

// Clear empties the pad.
func (a *App) Clear() {
	_ = a.do(func() error {
		a.capture.Cancel()
		a.pad.Clear()
		a.inkVer++
		return nil
	})
}

func (a *App) do(f func() error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	err := f()
	a.message = ""
	a.armFormatPauseLocked()
	a.changedLocked()
	return err
}

// armFormatPauseLocked shows the code's format problem once the clerk has paused (Config.FormatPause) on it:
// not while the code is still being written or typed; a.mu must be held.
func (a *App) armFormatPauseLocked() {
	ver := a.pad.Ver()
	if a.pad.FormatError() == "" || a.fmtShown == ver {
		return
	}
	time.AfterFunc(a.cfg.FormatPause, func() {
		a.mu.Lock()
		if a.pad.Ver() == ver && a.fmtShown != ver {
			a.fmtShown = ver
			a.changedLocked()
		}
		a.mu.Unlock()
	})
}

// Confirm writes the recognised (and corrected) code to the outbox as a feedback record and hands it to sync.
func (a *App) Confirm() error {
	a.mu.Lock()
	d, err := a.pad.BeginConfirm()
	a.message = ""
	if errors.Is(err, ErrFormat) {
		a.fmtShown = a.pad.Ver()
	}
	a.changedLocked()
	a.mu.Unlock()
	if err != nil {
		return err
	}
	rec, err := a.record(d)
	if err == nil {
		err = a.outbox.Put(rec)
	}
	a.mu.Lock()
	a.pad.EndConfirm(d, err)
	if err == nil {
		a.saved = d.Code()
		a.addRecentLocked(d.Code(), rec.IdempotencyKey)
		// In the same step as the phase, so no one sees "confirmed" with a pending count that lacks the code.
		a.refreshPendingLocked()
	}
	a.changedLocked()
	a.mu.Unlock()
	if err != nil {
		a.log.Error("cannot save the confirmed code", "err", err)
		return errors.New("code not saved (disk): press Confirm again")
	}
	a.log.Info("code confirmed", "code", rec.Code, "predicted", rec.Predicted, "key", rec.IdempotencyKey)
	if a.syncer != nil {
		a.syncer.Kick()
	}
	return nil
}

// record builds the feedback record of a confirmed draft with protocol.NewFeedback and ink.StrokesPNG, as the
// web pad does through the wasm bridge.
func (a *App) record(d *Draft) (protocol.Feedback, error) {
	key, err := uuid.NewRandom()
	if err != nil {
		return protocol.Feedback{}, fmt.Errorf("idempotency key: %w", err)
	}
	c := protocol.Confirmation{
		IdempotencyKey: key.String(),
		ClientID:       a.cfg.KioskID,
		Labels:         d.Labels,
		CreatedAt:      a.cfg.Now(),
		Edited:         d.Edited,
		Typed:          d.Typed,
	}
	if d.Result != nil {
		c.Prediction = protocol.Prediction{Result: *d.Result}
	}
	if len(d.Strokes) > 0 {
		if c.InkPNG, err = ink.StrokesPNG(d.Strokes, a.layout.Pad.Dx(), a.layout.Pad.Dy()); err != nil {
			return protocol.Feedback{}, fmt.Errorf("ink image: %w", err)
		}
	}
	return protocol.NewFeedback(c)
}

// refreshPending recounts the outbox after sync removed records.
func (a *App) refreshPending() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refreshPendingLocked() {
		a.changedLocked()
	}
}

// refreshPendingLocked recounts the outbox and reports whether the count changed; a.mu must be held, which
// orders concurrent recounts so the last one written is the freshest (a count is a cheap read, no fsync).
func (a *App) refreshPendingLocked() bool {
	n, err := a.outbox.Len()
	if err != nil {
		a.log.Error("cannot count the outbox", "err", err)
		return false
	}
	changed := n != a.pending
	a.pending = n
	return a.markSentLocked() || changed
}

func (a *App) setRefused(r bool) {
	a.mu.Lock()
	if r != a.refused {
		a.refused = r
		a.changedLocked()
	}
	a.mu.Unlock()
}

func (a *App) setOnline(on bool) {
	a.mu.Lock()
	if on != a.online {
		a.online = on
		a.changedLocked()
	}
	a.mu.Unlock()
}

// kickRecognition asks the recognition loop to run; a.mu must be held.
func (a *App) kickRecognition() {
	select {
	case a.recKick <- struct{}{}:
	default:
	}
}

// changedLocked bumps the state version and wakes everyone waiting for a change; a.mu must be held.
func (a *App) changedLocked() {
	a.version++
	close(a.changed)
	a.changed = make(chan struct{})
}

func (a *App) recognizeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.recKick:
		}
		if a.cfg.Debounce > 0 {
			t := time.NewTimer(a.cfg.Debounce)
		wait:
			for {
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-a.recKick:
					t.Reset(a.cfg.Debounce)
				case <-t.C:
					break wait
				}
			}
		}
		a.mu.Lock()
		gen, strokes, rec := a.pad.Gen(), a.pad.Strokes(), a.rec
		a.mu.Unlock()
		var res *recognize.Result
		var err error
		if len(strokes) > 0 {
			res, err = rec.Strokes(strokes, a.layout.Pad.Dx(), a.layout.Pad.Dy(), recognize.Options{})
		}
		a.mu.Lock()
		if a.pad.SetResult(gen, res, err) {
			a.message = ""
			if e := a.pad.RecognitionError(); e != nil {
				a.log.Warn("cannot read the ink", "err", e)
				a.message, a.info = "cannot read this ink: write it again", false
			}
			a.armFormatPauseLocked()
			a.changedLocked()
		}
		a.mu.Unlock()
	}
}

// announce receives model announcements from sync; the latest one wins.
func (a *App) announce(m protocol.ModelAnnouncement) {
	for {
		select {
		case a.modelKick <- m:
			return
		default:
		}
		select {
		case <-a.modelKick:
		default:
		}
	}
}

func (a *App) modelLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-a.modelKick:
			if err := a.applyAnnouncement(ctx, m); err != nil {
				a.log.Error("model update failed; keeping the current model", "sha256", m.SHA256, "err", err)
				a.report(errors.New("new model not loaded; the log says why"))
			}
		}
	}
}

// applyAnnouncement makes the announced model active: from disk when a verified copy is there, otherwise
// downloaded (relative URLs resolve against the server), verified and kept.
func (a *App) applyAnnouncement(ctx context.Context, m protocol.ModelAnnouncement) error {
	if !isSHA256(m.SHA256) {
		return fmt.Errorf("announcement has no valid sha256: %q", m.SHA256)
	}
	if a.ModelInfo().SHA256 == m.SHA256 {
		if a.models.Has(m.SHA256) {
			return a.models.Touch(m.SHA256, a.cfg.Now())
		}
		return nil // the embedded model, already active
	}
	if !a.models.Has(m.SHA256) {
		u, err := resolveURL(a.cfg.Server, m.URL)
		if err != nil {
			return err
		}
		a.log.Info("downloading announced model", "name", m.Name, "sha256", m.SHA256, "url", u)
		a.mu.Lock()
		tok := a.cfg.Token
		a.mu.Unlock()
		if err := a.models.Download(ctx, a.http, u, tok, m.SHA256, m.Name); err != nil {
			return err
		}
		// The card carries the calibration (temperature, confirm threshold) the server and the pad apply to
		// this model; without it the kiosk's confidences and "please confirm" flags would differ from theirs.
		if err := a.fetchCard(ctx, m, tok); err != nil {
			a.log.Warn("model card not fetched; the model runs uncalibrated", "sha256", m.SHA256, "err", err)
		}
	}
	sm, err := a.models.Load(m.SHA256)
	if err != nil {
		return err
	}
	if err := a.useModel(sm.ONNX, sm.Card); err != nil {
		return err
	}
	return a.models.Touch(m.SHA256, a.cfg.Now())
}

// fetchCard keeps the announced model's card from the server (m.CardURL, else GET /v1/model: the shape
// {"sha256": ..., "card": {...}}) beside the stored model, when it describes that model.
func (a *App) fetchCard(ctx context.Context, m protocol.ModelAnnouncement, token string) error {
	ref := m.CardURL
	if ref == "" {
		ref = "/v1/model"
	}
	u, err := resolveURL(a.cfg.Server, ref)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("model card: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("model card: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("model card %s: status %s", u, resp.Status)
	}
	var body struct {
		SHA256 string          `json:"sha256"`
		Card   json.RawMessage `json:"card"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxCardBytes)).Decode(&body); err != nil {
		return fmt.Errorf("model card %s: %w", u, err)
	}
	if body.SHA256 != m.SHA256 {
		return fmt.Errorf("model card %s describes %.12s, announced %.12s", u, body.SHA256, m.SHA256)
	}
	var card map[string]any
	if err := json.Unmarshal(body.Card, &card); err != nil || card == nil {
		return fmt.Errorf("model card %s has no card object", u)
	}
	if m.Name != "" {
		card["name"] = m.Name // the kiosk names the model as it was announced, as before
	}
	b, err := json.Marshal(card)
	if err != nil {
		return fmt.Errorf("model card: %w", err)
	}
	return a.models.SetCard(m.SHA256, b)
}

// maxCardBytes bounds a model card download (cards with their risk–coverage curves are a few KB).
const maxCardBytes = 1 << 20

// ApplyModel is applyAnnouncement for callers outside sync (tests, tools).
func (a *App) ApplyModel(ctx context.Context, m protocol.ModelAnnouncement) error {
	return a.applyAnnouncement(ctx, m)
}

func resolveURL(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("model url %q: %w", ref, err)
	}
	if r.IsAbs() {
		return r.String(), nil
	}
	b, err := url.Parse(base)
	if err != nil || base == "" {
		return "", fmt.Errorf("model url %q is relative and there is no server url", ref)
	}
	return b.ResolveReference(r).String(), nil
}

// ModelInfo names the active model.
func (a *App) ModelInfo() recognize.ModelInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rec.Info()
}
