// Command digitpad-kiosk is the depot kiosk: a full-screen touch pad where clerks write postal codes, see each
// digit recognised at once, correct digits with large 0–9 keys and confirm. It works with no server at all (the
// model is embedded); confirmed codes wait in a durable outbox and are synced to the server when reachable.
//
// All behaviour lives in package digitpad/desktop/kiosk; this program only draws its state with Ebiten and
// forwards mouse and touch input.
//
// Configuration: flags, each defaulting to an environment variable (DIGITPAD_SERVER, DIGITPAD_TOKEN,
// DIGITPAD_TOKEN_FILE, DIGITPAD_KIOSK_ID, DIGITPAD_FORMAT, DIGITPAD_DATA, DIGITPAD_FULLSCREEN).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"digitpad/desktop/kiosk"
)

func main() {
	m := &Main{Stderr: os.Stderr}
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "digitpad-kiosk:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "digitpad-kiosk:", err)
		os.Exit(1)
	}
}

// Main is the program: flags -> Run.
type Main struct {
	Stderr     io.Writer
	Config     kiosk.Config
	Fullscreen bool
	WindowW    int
	WindowH    int
	TokenFile  string
	EnrolCode  string
	TPS        int
	LogJSON    bool
	LogLevel   slog.Level
	BackoffMax time.Duration
}

// ParseFlags reads flags, with environment variables as their defaults.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("digitpad-kiosk", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	c := &m.Config
	window := "1280x800"
	fs.StringVar(&c.Server, "server", os.Getenv("DIGITPAD_SERVER"), "server base URL, e.g. http://10.0.0.5:8080 (empty: offline only) [DIGITPAD_SERVER]")
	fs.StringVar(&c.Token, "token", os.Getenv("DIGITPAD_TOKEN"), "server bearer token [DIGITPAD_TOKEN]")
	fs.StringVar(&m.TokenFile, "token-file", os.Getenv("DIGITPAD_TOKEN_FILE"), "file holding the bearer token (keeps it out of the process list) [DIGITPAD_TOKEN_FILE]")
	fs.StringVar(&c.KioskID, "kiosk-id", os.Getenv("DIGITPAD_KIOSK_ID"), "kiosk id sent as client_id (default: host name) [DIGITPAD_KIOSK_ID]")
	fs.StringVar(&c.Format, "format", envOr("DIGITPAD_FORMAT", "5"), "code format: digit count or regular expression; \"\" accepts any length [DIGITPAD_FORMAT]")
	fs.StringVar(&m.EnrolCode, "enroll", "", "one-time enrolment code from `digitpad enroll`: exchange it for this kiosk's credential (kept in the data folder), then run")
	fs.StringVar(&c.DataDir, "data", envOr("DIGITPAD_DATA", defaultDataDir()), "data folder: outbox and downloaded models [DIGITPAD_DATA]")
	fs.BoolVar(&m.Fullscreen, "fullscreen", envBool("DIGITPAD_FULLSCREEN"), "kiosk mode: full screen, no cursor [DIGITPAD_FULLSCREEN]")
	fs.StringVar(&window, "window", window, "window size in window mode, WxH")
	fs.Float64Var(&c.Threshold, "threshold", 0, "confirm score (code confidence, lowered for short digits by the card's confirm model) under which a code asks to confirm, its doubtful digits highlighted (default: the model card's)")
	fs.DurationVar(&c.Debounce, "debounce", 120*time.Millisecond, "pause after a stroke before recognising")
	fs.IntVar(&m.TPS, "tps", ebiten.DefaultTPS, "input ticks per second (lower it to try the kiosk as a slow machine runs it)")
	fs.DurationVar(&m.BackoffMax, "backoff-max", 30*time.Second, "longest wait between reconnection attempts")
	fs.StringVar(&c.StateFile, "state-file", "", "write the app state as JSON to this file on every change (tests, monitoring)")
	fs.BoolVar(&m.LogJSON, "log-json", false, "JSON logs")
	fs.TextVar(&m.LogLevel, "log-level", slog.LevelInfo, "log level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	w, h, ok := strings.Cut(window, "x")
	var err1, err2 error
	m.WindowW, err1 = strconv.Atoi(w)
	m.WindowH, err2 = strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil || m.WindowW < 320 || m.WindowH < 200 {
		return fmt.Errorf("-window %q: want WxH, at least 320x200", window)
	}
	if m.BackoffMax <= 0 {
		return fmt.Errorf("-backoff-max %v: want a positive duration", m.BackoffMax)
	}
	c.Sync.Backoff = kiosk.Backoff{Min: min(time.Second, m.BackoffMax), Max: m.BackoffMax}
	if m.TokenFile != "" {
		b, err := os.ReadFile(m.TokenFile)
		if err != nil {
			return fmt.Errorf("token file: %w", err)
		}
		c.Token = strings.TrimSpace(string(b))
	}
	if c.DataDir == "" {
		return errors.New("no data folder: set -data or DIGITPAD_DATA")
	}
	return nil
}

// Run opens the kiosk and runs the window until it is closed or ctx ends.
func (m *Main) Run(ctx context.Context) error {
	opts := &slog.HandlerOptions{Level: m.LogLevel}
	var h slog.Handler = slog.NewTextHandler(m.Stderr, opts)
	if m.LogJSON {
		h = slog.NewJSONHandler(m.Stderr, opts)
	}
	log := slog.New(h)
	m.Config.Logger = log
	m.Config.W, m.Config.H = kiosk.ScreenW, kiosk.ScreenH
	if m.EnrolCode != "" {
		if m.Config.Server == "" {
			return errors.New("-enroll needs -server")
		}
		name := m.Config.KioskID
		if name == "" {
			name, _ = os.Hostname()
		}
		id, err := kiosk.Enrol(ctx, nil, m.Config.Server, m.Config.DataDir, m.EnrolCode, "kiosk "+name)
		if err != nil {
			return err
		}
		log.Info("kiosk enrolled", "device", id)
	}
	app, err := kiosk.Open(m.Config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		app.Run(ctx)
	}()
	st := app.State()
	log.Info("kiosk ready", "data", m.Config.DataDir, "server", m.Config.Server, "kiosk_id", st.KioskID,
		"model", st.Model.Name, "pending", st.Pending)

	ebiten.SetWindowTitle("digitpad kiosk")
	if m.TPS > 0 {
		ebiten.SetTPS(m.TPS)
	}
	ebiten.SetRunnableOnUnfocused(true)
	ebiten.SetScreenClearedEveryFrame(false)
	if m.Fullscreen {
		ebiten.SetFullscreen(true)
		ebiten.SetCursorMode(ebiten.CursorModeHidden)
	} else {
		ebiten.SetWindowSize(m.WindowW, m.WindowH)
		ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	}
	g, err := newGame(ctx, app, log)
	if err != nil {
		cancel()
		<-done
		return errors.Join(err, app.Close())
	}
	runErr := ebiten.RunGame(g)
	cancel()
	<-done
	return errors.Join(runErr, app.Close())
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envBool(k string) bool {
	b, _ := strconv.ParseBool(os.Getenv(k))
	return b
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "digitpad-kiosk")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "digitpad-kiosk")
	}
	return ""
}
