//go:build e2e

package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"digitpad/assets"
	"digitpad/desktop/kiosk"
	"digitpad/onnxpb"
	"digitpad/server"
	"digitpad/server/store/sqlite"
	"digitpad/shared/synth"
)

// kioskState is the --state-file contract.
type kioskState struct {
	Phase    string `json:"phase"`
	Code     string `json:"code"`
	Selected int    `json:"selected"`
	Saved    string `json:"saved"`
	Strokes  int    `json:"strokes"`
	Digits   []struct {
		Digit      int     `json:"digit"`
		Confidence float64 `json:"confidence"`
		Box        [4]int  `json:"box"`
	} `json:"digits"`
	Pending int  `json:"pending"`
	Online  bool `json:"online"`
	Model   struct {
		SHA256 string `json:"sha256"`
	} `json:"model"`
}

// kioskProc is one run of the kiosk binary.
type kioskProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	state  string
	window string
	log    string
	exited chan struct{}
}

const (
	code      = "80331"
	corrected = "80731" // digit 2 corrected from 3 to 7 on screen
	token     = "e2e-token"
	kioskID   = "e2e-kiosk"
)

// TestKiosk_DrawCorrectConfirmSurviveKillSync is the kiosk's acceptance test, in order: write a code with the
// mouse, correct a digit with the on-screen keys, confirm with the server down (the record waits in the
// outbox), SIGKILL the kiosk, restart it (the record is still pending), start the real server: the record
// arrives exactly once and the kiosk shows nothing pending; then the server swaps its model and the running
// kiosk downloads, verifies and uses it.
func TestKiosk_DrawCorrectConfirmSurviveKillSync(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run this test under xvfb-run (make test-desktop)")
	}
	for _, tool := range []string{"xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (make desktop-test-deps installs it): %v", tool, err)
		}
	}
	bin := kioskBinary(t)
	data := t.TempDir()
	addr := freeAddr(t) // the server's address, unused until the server starts
	args := []string{"-data", data, "-server", "http://" + addr, "-token", token, "-kiosk-id", kioskID,
		"-format", "5", "-window", "1280x800", "-backoff-max", "1s", "-debounce", "50ms"}

	k := startKiosk(t, bin, args)
	st := k.waitState("the kiosk up and offline", func(s kioskState) bool { return s.Phase == "drawing" && !s.Online })
	if st.Pending != 0 {
		t.Fatalf("a fresh kiosk has %d pending records", st.Pending)
	}

	// Write the code along the synthetic font's pen paths.
	l := kiosk.NewLayout(kiosk.ScreenW, kiosk.ScreenH)
	p := synth.Defaults()
	p.Seed = 3
	p.Height = 200
	p = synth.Centered(p, len(code), l.Pad.Dx(), l.Pad.Dy())
	written, err := synth.Write(code, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range written.Strokes {
		path := make([][2]float64, 0, len(s)/3+2)
		for i := 0; i < len(s); i += 3 {
			path = append(path, [2]float64{s[i].X + float64(l.Pad.Min.X), s[i].Y + float64(l.Pad.Min.Y)})
		}
		last := s[len(s)-1]
		path = append(path, [2]float64{last.X + float64(l.Pad.Min.X), last.Y + float64(l.Pad.Min.Y)})
		k.drag(path)
	}
	st = k.waitState("the code recognised", func(s kioskState) bool { return s.Phase == "recognised" && s.Code == code })
	if len(st.Digits) != 5 || st.Strokes != len(written.Strokes) {
		t.Fatalf("state has %d digits from %d strokes, want 5 from %d", len(st.Digits), st.Strokes, len(written.Strokes))
	}
	for i, d := range st.Digits {
		if d.Box[2] <= d.Box[0] || d.Box[3] <= d.Box[1] || d.Confidence <= 0 {
			t.Errorf("digit %d = %+v: want a box and a confidence", i, d)
		}
	}

	// Tap digit 2, then the 7 key.
	k.click(kiosk.Centre(l.Card(2, 5)))
	k.waitState("digit 2 selected", func(s kioskState) bool { return s.Phase == "correcting" && s.Selected == 2 })
	k.click(kiosk.Centre(l.Keys[7]))
	k.waitState("the correction shown", func(s kioskState) bool { return s.Phase == "recognised" && s.Code == corrected })
	time.Sleep(500 * time.Millisecond) // the state file is written before the next frame is drawn
	k.screenshot()

	k.click(kiosk.Centre(l.Confirm))
	st = k.waitState("the code confirmed into the outbox", func(s kioskState) bool {
		return s.Phase == "confirmed" && s.Pending == 1
	})
	if st.Saved != corrected || st.Online {
		t.Errorf("after confirm: saved %q online %v, want %s offline", st.Saved, st.Online, corrected)
	}

	// Power cut: nothing pending may be lost.
	k.kill()
	ob, err := kiosk.OpenOutbox(filepath.Join(data, "outbox.db"), 5*time.Second)
	if err != nil {
		t.Fatalf("outbox after SIGKILL: %v", err)
	}
	recs, err := ob.List()
	if cerr := ob.Close(); err == nil {
		err = cerr
	}
	if err != nil || len(recs) != 1 || recs[0].Code != corrected || recs[0].Predicted != code {
		t.Fatalf("outbox after SIGKILL holds %d records (%v), want the one confirmed %s", len(recs), err, corrected)
	}
	key := recs[0].IdempotencyKey
	_ = os.Remove(k.state)
	k = startKiosk(t, bin, args)
	k.waitState("the restarted kiosk with its pending record", func(s kioskState) bool {
		return s.Phase == "drawing" && s.Pending == 1
	})

	// The real server comes up on the address the kiosk has been trying.
	st2, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	srv, err := server.New(server.Config{Addr: addr, Store: st2, Token: token})
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
	k.waitState("the record synced", func(s kioskState) bool { return s.Online && s.Pending == 0 })

	// Exactly once, even after a moment for any stray resend.
	time.Sleep(time.Second)
	fbs, err := st2.Feedback(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(fbs) != 1 {
		t.Fatalf("server stored %d feedback records, want exactly 1", len(fbs))
	}
	f := fbs[0]
	if f.IdempotencyKey != key {
		t.Errorf("stored idempotency key %q, want the outbox record's %q", f.IdempotencyKey, key)
	}
	if f.Code != corrected || f.Predicted != code || f.ClientID != kioskID || len(f.Inputs) != 5 ||
		len(f.InkPNG) == 0 || f.ModelSHA256 == "" {
		t.Errorf("stored record: code %q predicted %q client %q, %d inputs, %d ink bytes, model %q",
			f.Code, f.Predicted, f.ClientID, len(f.Inputs), len(f.InkPNG), f.ModelSHA256)
	}

	// A new model on the server reaches the running kiosk: announced, downloaded, verified, swapped.
	v2 := variantModel(t)
	if err := srv.SetModel(v2, nil); err != nil {
		t.Fatal(err)
	}
	want := srv.ModelInfo().SHA256
	k.waitState("the server's new model active in the kiosk", func(s kioskState) bool { return s.Model.SHA256 == want })
	if _, err := os.Stat(filepath.Join(data, "models", want+".onnx")); err != nil {
		t.Errorf("the new model is not kept on disk: %v", err)
	}
	k.stop()
}

// variantModel is the shipped model with another producer name: other bytes, the same network.
func variantModel(t *testing.T) []byte {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(assets.Model(), &m); err != nil {
		t.Fatal(err)
	}
	m.ProducerName = proto.String("digitpad-e2e-v2")
	b, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// kioskBinary is the binary `make desktop` built, or a fresh build.
func kioskBinary(t *testing.T) string {
	if b := os.Getenv("DIGITPAD_KIOSK_BIN"); b != "" {
		return b
	}
	bin := filepath.Join(t.TempDir(), "digitpad-kiosk")
	out, err := exec.Command("go", "build", "-o", bin, "digitpad/desktop/cmd/digitpad-kiosk").CombinedOutput()
	if err != nil {
		t.Fatalf("build kiosk: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startKiosk(t *testing.T, bin string, args []string) *kioskProc {
	t.Helper()
	// The X server itself may refuse a connection for a moment (an Xvfb that resets when its last client
	// leaves): a kiosk that cannot open the display is started again, up to three times; any other early exit
	// fails the test.
	for attempt := 1; ; attempt++ {
		k := launchKiosk(t, bin, args)
		var log string
		if k.window, log = k.findWindow(); k.window != "" {
			return k
		}
		if attempt == 3 || !strings.Contains(log, "Failed to open display") {
			t.Fatalf("kiosk exited before showing a window (attempt %d):\n%s", attempt, log)
		}
		t.Logf("kiosk could not open the display (attempt %d); starting it again", attempt)
		time.Sleep(time.Second)
	}
}

// launchKiosk starts the kiosk with its own state file and log, killed when the test ends.
func launchKiosk(t *testing.T, bin string, args []string) *kioskProc {
	t.Helper()
	dir := t.TempDir()
	k := &kioskProc{t: t, state: filepath.Join(dir, "state.json"), log: filepath.Join(dir, "kiosk.log"),
		exited: make(chan struct{})}
	logf, err := os.Create(k.log)
	if err != nil {
		t.Fatal(err)
	}
	k.cmd = exec.Command(bin, append(args, "-state-file", k.state)...)
	k.cmd.Stdout, k.cmd.Stderr = logf, logf
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = k.cmd.Wait(); logf.Close(); close(k.exited) }()
	t.Cleanup(k.kill)
	return k
}

// findWindow waits for the kiosk's X window (the first cgo/GL start is slow on a busy machine). If the kiosk
// exits first it returns no window and the kiosk's log.
func (k *kioskProc) findWindow() (window, exitLog string) {
	k.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	pid := strconv.Itoa(k.cmd.Process.Pid)
	for time.Now().Before(deadline) {
		select {
		case <-k.exited:
			return "", k.logText()
		default:
		}
		out, err := exec.Command("xdotool", "search", "--all", "--pid", pid, "--name", "digitpad kiosk").Output()
		if err == nil {
			if f := strings.Fields(string(out)); len(f) > 0 {
				return f[0], ""
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	k.t.Fatalf("no kiosk window after 90 s:\n%s", k.logText())
	return "", ""
}

func (k *kioskProc) logText() string {
	b, _ := os.ReadFile(k.log)
	return string(b)
}

func (k *kioskProc) readState() (kioskState, error) {
	var s kioskState
	b, err := os.ReadFile(k.state)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

func (k *kioskProc) waitState(what string, cond func(kioskState) bool) kioskState {
	k.t.Helper()
	var out kioskState
	k.waitRaw(what, func(b []byte) bool {
		var s kioskState
		if json.Unmarshal(b, &s) != nil {
			return false
		}
		out = s
		return cond(s)
	})
	return out
}

// waitRaw waits up to 60 s for the state file to satisfy cond.
func (k *kioskProc) waitRaw(what string, cond func([]byte) bool) {
	k.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var err error
	var b []byte
	for time.Now().Before(deadline) {
		if b, err = os.ReadFile(k.state); err == nil && cond(b) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	k.screenshotAs("failure.png")
	k.t.Fatalf("timed out waiting for %s (read error %v); state file:\n%s\nkiosk log:\n%s", what, err, b, k.logText())
}

// xdo runs one xdotool command chain.
func (k *kioskProc) xdo(args ...string) {
	k.t.Helper()
	if out, err := exec.Command("xdotool", args...).CombinedOutput(); err != nil {
		k.t.Fatalf("xdotool %s: %v\n%s", strings.Join(args[:min(len(args), 8)], " "), err, out)
	}
}

func (k *kioskProc) moveArgs(x, y float64) []string {
	return []string{"mousemove", "--window", k.window, strconv.Itoa(int(x)), strconv.Itoa(int(y))}
}

// drag presses the button at the first point, moves through the rest and releases. The pauses let Ebiten,
// which polls the pointer once per tick (and ticks slowly under Xvfb's software GL on a busy machine), see the
// press and the release.
func (k *kioskProc) drag(path [][2]float64) {
	k.t.Helper()
	args := append(k.moveArgs(path[0][0], path[0][1]), "sleep", "0.25", "mousedown", "1", "sleep", "0.25")
	for _, p := range path[1:] {
		args = append(args, k.moveArgs(p[0], p[1])...)
		args = append(args, "sleep", "0.025")
	}
	args = append(args, "sleep", "0.25", "mouseup", "1", "sleep", "0.25")
	k.xdo(args...)
}

func (k *kioskProc) click(x, y float64) {
	k.t.Helper()
	k.xdo(append(k.moveArgs(x, y), "sleep", "0.25", "mousedown", "1", "sleep", "0.25", "mouseup", "1", "sleep", "0.25")...)
}

// screenshot saves the window as desktop/testdata/artifacts/kiosk.png.
func (k *kioskProc) screenshot() { k.screenshotAs("kiosk.png") }

func (k *kioskProc) screenshotAs(name string) {
	dir := filepath.Join("..", "testdata", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		k.t.Logf("screenshot: %v", err)
		return
	}
	out := filepath.Join(dir, name)
	if b, err := exec.Command("import", "-window", k.window, out).CombinedOutput(); err != nil {
		k.t.Logf("screenshot %s: %v\n%s", out, err, b)
		return
	}
	k.t.Logf("screenshot saved to %s", out)
}

// kill is a power cut: SIGKILL, no chance to flush anything.
func (k *kioskProc) kill() {
	select {
	case <-k.exited:
		return
	default:
	}
	if err := k.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		k.t.Errorf("kill kiosk: %v", err)
	}
	<-k.exited
}

// stop asks the kiosk to quit and checks it does so cleanly.
func (k *kioskProc) stop() {
	k.t.Helper()
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.exited:
		if !k.cmd.ProcessState.Success() {
			k.t.Errorf("kiosk exited with %v on SIGTERM:\n%s", k.cmd.ProcessState, k.logText())
		}
	case <-time.After(20 * time.Second):
		k.t.Errorf("kiosk did not exit within 20 s of SIGTERM")
	}
}
