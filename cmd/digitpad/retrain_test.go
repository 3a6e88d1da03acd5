package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"digitpad/assets"
	"digitpad/registry"
	regopen "digitpad/registry/open"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
	"digitpad/train/calibrate"
	"digitpad/train/retrain"
)

// hardStyle is a writing style the shipped model reads poorly: every digit traced along a postal-code stencil,
// hurried and slanted (retrain.StencilHand; about 88% of its digits right on the style's validation codes, where
// the model reads nearly every 1, whose flag starts at mid-height, as 7, and a third of the 8s, boxes with a middle
// bar, as 0). Session 6's very strongly slanted style was read at 97%, too well to show much. (A back-slanted
// continental 7 whose stem starts apart from its bar was tried before: the model reads it as 1 because
// segmentation cuts the bar off, so learning it cost MNIST 1s, and the gate refused that candidate.)
var hardStyle = retrain.StencilHand

// retrainSteps are the fine-tuning steps the proof runs: half of `digitpad retrain`'s default 800, which the
// style needs less of (session 11, 400 steps: 85.50% -> 99.83% on the unseen samples, MNIST test 99.63% -> 99.62%; 800 steps gave 100%), and the test's whole cost is the training.
const retrainSteps = 400

// calibrationCodes are the validation codes of each kind the proof's candidate is calibrated on, with and without
// the second reader: a tenth of `digitpad retrain`'s default, as the test only checks the cards are fitted and used
// (5,000 cost ~90 CPU s a fit; at 1,000 the two fits added ~60 s to make test's wall time).
const calibrationCodes = 500

// styleGoal is the accuracy goal on unseen samples of the style after the retrain (or +10 points).
const styleGoal = 0.98

type retrainOut struct {
	Version  int                `json:"version"`
	Base     int                `json:"base"`
	Passed   bool               `json:"passed"`
	Promoted bool               `json:"promoted"`
	Reasons  []string           `json:"reasons"`
	Metrics  map[string]float64 `json:"metrics"`
}

// TestRetrain_LearnsAStyleFromCorrectionsAndRefusesPoison is the continual-learning proof: clerks writing a style
// the model reads poorly confirm a few hundred codes through a real `digitpad serve` (HTTP and websocket),
// `digitpad retrain --promote` fine-tunes, gates and promotes, the server and a connected websocket client
// switch to the new model, and unseen samples of the style are read better with no MNIST loss. Then a kiosk
// that labels everything 1 sends its batch and the next retrain refuses it with the reason.
func TestRetrain_LearnsAStyleFromCorrectionsAndRefusesPoison(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "digitpad.db")
	regDir := filepath.Join(dir, "registry")
	pr, pw := io.Pipe()
	var serveErr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--db", db, "--registry", regDir,
			"--variant", "fp32", "--registry-poll", "100ms", "--rate", "0"}, pw, &serveErr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no URL: %v\n%s", err, serveErr.String())
	}
	go io.Copy(io.Discard, pr)
	base := ""
	for _, w := range strings.Fields(line) {
		if strings.HasPrefix(w, "http://") {
			base = w
			break
		}
	}
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	tokenB, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenB))
	auth := http.Header{"Authorization": {"Bearer " + token}}
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/v1/ws"
	// A client connected from the start must end on the new model.
	watcher, _, err := websocket.DefaultDialer.Dial(wsURL, auth)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	// The watcher reads all the time (as a kiosk does), so it answers the server's pings.
	announced := make(chan string, 16)
	go func() {
		for {
			var env protocol.Envelope
			if err := watcher.ReadJSON(&env); err != nil {
				close(announced)
				return
			}
			var a protocol.ModelAnnouncement
			if env.Type == protocol.TypeModel && json.Unmarshal(env.Data, &a) == nil {
				announced <- a.SHA256
			}
		}
	}()
	clerk, _, err := websocket.DefaultDialer.Dial(wsURL, auth)
	if err != nil {
		t.Fatal(err)
	}
	defer clerk.Close()

	baseONNX, baseCard := assets.Variant("fp32")
	baseRec, err := onnxrec.New(baseONNX, baseCard, recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// Accuracy on unseen samples of the style (seed never used for the corrections).
	unseenX, unseenL, err := retrain.StrokeWriters{Rec: baseRec, Params: hardStyle.Writer}.Digits(987654321, 600)
	if err != nil {
		t.Fatal(err)
	}
	styleAcc := func(rec *recognize.Recognizer) float64 {
		res, err := rec.Digits(unseenX, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		for i, d := range res.Digits {
			if d.Digit == int(unseenL[i]) {
				right++
			}
		}
		return float64(right) / float64(len(unseenL))
	}
	before := styleAcc(baseRec)
	t.Logf("base model on unseen samples of the style: %.2f%%", 100*before)

	// Clerks confirm codes of the style: half predicted and confirmed over the websocket, half over HTTP.
	const codes = 300
	rng := rand.New(rand.NewPCG(2026, 14))
	client := &http.Client{Timeout: 10 * time.Second}
	sent, corrected := 0, 0
	confirm := func(i int, code string, clientID string, labels []int) {
		c, err := retrain.WriteOnCanvas(code, hardStyle.Writer(rng, code))
		if err != nil {
			t.Fatal(err)
		}
		req := protocol.Predict{Strokes: c.Paths(), Width: retrain.CanvasW, Height: retrain.CanvasH, Format: "5", Inputs: true}
		var pred protocol.Prediction
		overWS := i%2 == 0
		if overWS {
			pred = wsRoundTrip[protocol.Prediction](t, clerk, protocol.TypePredict, fmt.Sprintf("p%d", i), req, protocol.TypePrediction)
		} else {
			b, _ := json.Marshal(req)
			r, err := http.NewRequest(http.MethodPost, base+"/v1/predict", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", "application/json")
			res, err := client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 {
				body, _ := io.ReadAll(res.Body)
				t.Fatalf("predict: %d %s", res.StatusCode, body)
			}
			if err := json.NewDecoder(res.Body).Decode(&pred); err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
		}
		if len(pred.Inputs) != len(code) {
			return // the clerk would redraw a mis-segmented code
		}
		if labels == nil {
			labels = make([]int, len(code))
			for k, ch := range code {
				labels[k] = int(ch - '0')
			}
		}
		if pred.Code != protocol.LabelsCode(labels) {
			corrected++
		}
		f, err := protocol.NewFeedback(protocol.Confirmation{IdempotencyKey: fmt.Sprintf("%s-%d", clientID, i), ClientID: clientID,
			Labels: labels, Prediction: pred, CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if overWS {
			wsRoundTrip[protocol.Ack](t, clerk, protocol.TypeFeedback, fmt.Sprintf("f%d", i), f, protocol.TypeAck)
		} else {
			b, _ := json.Marshal(f)
			r, _ := http.NewRequest(http.MethodPost, base+"/v1/feedback", bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+token)
			res, err := client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
				t.Fatalf("feedback: status %d", res.StatusCode)
			}
		}
		sent++
	}
	for i := 0; i < codes; i++ {
		code := make([]byte, 5)
		for k := range code {
			code[k] = byte('0' + rng.IntN(10))
		}
		confirm(i, string(code), fmt.Sprintf("pad-%d", i%3), nil)
	}
	t.Logf("%d codes confirmed through the API, %d of them corrected by the clerk", sent, corrected)

	retrainArgs := []string{"retrain", "--data", dir, "--db", db, "--registry", regDir, "--promote", "--json",
		"--steps", fmt.Sprint(retrainSteps), "--calibration-codes", fmt.Sprint(calibrationCodes), "--calibration-holdout", "-1"}
	out, errOut, err := mustRun(t, retrainArgs...)
	if err != nil {
		t.Fatalf("retrain: %v\n%s", err, errOut)
	}
	var res retrainOut
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not the JSON outcome: %v\n%s", err, out)
	}
	t.Logf("retrain: %s\nprogress:\n%s", lines[len(lines)-1], errOut)
	if !res.Passed || !res.Promoted || res.Version != 2 || res.Base != 1 {
		t.Fatalf("retrain did not pass and promote version 2: %+v\nprogress:\n%s", res, errOut)
	}
	m := res.Metrics
	if loss := m["base_mnist_test_accuracy"] - m["candidate_mnist_test_accuracy"]; loss > 0.001 {
		t.Errorf("MNIST test loss %.3f points", 100*loss)
	}
	reg, err := regopen.Open(ctx, regopen.Location{Registry: regDir}, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	v, err := reg.Resolve(ctx, registry.Ref{Model: registry.DefaultModel, Alias: registry.Production})
	if err != nil || v.Version != 2 || v.Lineage.Parent != 1 || v.Lineage.DataDigest == "" || v.Lineage.FeedbackTo == "" {
		// Once (session 8, a box at load average 15) production read version 1 here although retrain had
		// reported version 2 promoted: say who moved the aliases, so a recurrence explains itself.
		h, herr := reg.History(ctx, registry.DefaultModel, "")
		t.Fatalf("production after promotion: %+v, %v\nalias history (%v):\n%s", v, err, herr, aliasHistory(h))
	}
	if _, ok := v.File("report/retrain.png"); !ok {
		t.Error("the candidate has no report/retrain.png")
	}
	onnx, card, _, err := reg.Variant(ctx, v, "fp32")
	if err != nil {
		t.Fatal(err)
	}
	newRec, err := onnxrec.New(onnx, card, recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	after := styleAcc(newRec)
	checkCandidateCard(t, onnx, card, newRec)
	if _, card8, _, err := reg.Variant(ctx, v, "int8"); err != nil || !strings.Contains(string(card8), secondSHA(t)) {
		t.Errorf("the candidate's int8 card does not name the second reader (%v):\n%.400s", err, card8)
	}
	t.Logf("unseen samples of the style: base %.2f%% -> retrained %.2f%%; MNIST test %.2f%% -> %.2f%%", 100*before, 100*after,
		100*m["base_mnist_test_accuracy"], 100*m["candidate_mnist_test_accuracy"])
	// The goal: +10 points or at least 98%, and a gain. Measured 85.50% -> 99.83% with the stencil hand
	// and retrainSteps (session 11; 800 steps gave 100.00%, README): both clauses hold, with 4.3 points to spare on
	// the first and 1.8 on the second.
	if after-before < 0.10 && after < styleGoal || after <= before {
		t.Errorf("style accuracy %.2f%% -> %.2f%%: want +10 points or at least %.0f%%, and a gain", 100*before, 100*after, 100*styleGoal)
	}
	newSHA := newRec.Info().SHA256
	// The server and the connected client switch to it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var mi struct {
			SHA256 string `json:"sha256"`
		}
		r, err := client.Get(base + "/v1/model")
		if err == nil {
			json.NewDecoder(r.Body).Decode(&mi)
			r.Body.Close()
		}
		if mi.SHA256 == newSHA {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still serves %s, want %s", mi.SHA256, newSHA)
		}
		time.Sleep(100 * time.Millisecond)
	}
	timeout := time.After(20 * time.Second)
	for told := false; !told; {
		select {
		case sha, ok := <-announced:
			if !ok {
				t.Fatalf("websocket client closed before it was told of model %s", newSHA)
			}
			told = sha == newSHA
		case <-timeout:
			t.Fatalf("websocket client never told of model %s", newSHA)
		}
	}

	// The clerk's connection idled through the retrain; a client reconnects.
	clerk.Close()
	if clerk, _, err = websocket.DefaultDialer.Dial(wsURL, auth); err != nil {
		t.Fatal(err)
	}

	// A kiosk that labels everything 1.
	sent = 0
	for i := 0; i < 60; i++ {
		code := make([]byte, 5)
		for k := range code {
			code[k] = byte('0' + rng.IntN(10))
		}
		confirm(1000+i, string(code), "kiosk-stuck", []int{1, 1, 1, 1, 1})
	}
	out, errOut, err = mustRun(t, retrainArgs...)
	if err != nil {
		t.Fatalf("retrain: %v\n%s", err, errOut)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	var poisoned retrainOut
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &poisoned); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("poisoned retrain: %s", lines[len(lines)-1])
	if poisoned.Passed || poisoned.Promoted || !strings.Contains(strings.Join(poisoned.Reasons, "; "), "kiosk-stuck") {
		t.Fatalf("poisoned batch not refused with its reason: %+v", poisoned)
	}
	if v, _ := reg.Resolve(ctx, registry.Ref{Model: registry.DefaultModel, Alias: registry.Production}); v.Version != 2 {
		t.Fatalf("production moved to %d after a poisoned batch", v.Version)
	}
}

// wsRoundTrip sends one request and waits for its reply of type want (skipping announcements).
func wsRoundTrip[T any](t *testing.T, c *websocket.Conn, typ, id string, data any, want string) T {
	t.Helper()
	env, err := protocol.NewEnvelope(typ, id, data)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteJSON(env); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var got protocol.Envelope
		if err := c.ReadJSON(&got); err != nil {
			t.Fatal(err)
		}
		if got.ID != id {
			continue
		}
		if got.Type != want {
			t.Fatalf("%s %s: got %s %s", typ, id, got.Type, got.Data)
		}
		var v T
		if err := json.Unmarshal(got.Data, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// aliasHistory is the registry's alias moves, a line each, for failure messages.
func aliasHistory(h []registry.AliasMove) string {
	var b strings.Builder
	for _, m := range h {
		fmt.Fprintf(&b, "  #%d %s %s: %d -> %d by %q at %s: %s\n", m.Seq, m.Model, m.Alias, m.From, m.To, m.By,
			m.At.Format(time.RFC3339Nano), m.Reason)
	}
	return b.String()
}

// secondSHA is the shipped second reader's sha256.
func secondSHA(t *testing.T) string {
	t.Helper()
	_, sc, err := onnxrec.SecondModels()
	if err != nil {
		t.Fatal(err)
	}
	return sc.SHA256
}

// checkCandidateCard: a retrained candidate's card states a confirm policy fitted for it (on calibrationCodes
// validation codes, not its parent's 10,000) with the shipped second reader at retrain's weight, and rec, the recogniser the card
// makes (as serve's alias follow, shadow and canary make it), consults that reader on the digits in doubt of
// validation codes, where the same model under a card that names no second reader consults none.
func checkCandidateCard(t *testing.T, onnx, card []byte, rec *recognize.Recognizer) {
	t.Helper()
	var c struct {
		Calibration    calibrate.Calibration  `json:"calibration"`
		WithoutSecond  *calibrate.Calibration `json:"calibration_without_second"`
		DigitModelOnly *calibrate.Calibration `json:"calibration_digit_model_only"`
	}
	if err := json.Unmarshal(card, &c); err != nil {
		t.Fatal(err)
	}
	cal := c.Calibration
	if cal.Second == nil || cal.Second.SHA256 != secondSHA(t) || math.Abs(cal.Second.Share()-retrain.DefaultSecondWeight) > 1e-9 || cal.Temperature <= 0 || cal.Threshold <= 0 || cal.Threshold > 1 ||
		cal.Strokes == nil || cal.Strokes.Threshold <= 0 || !strings.Contains(cal.Validation, fmt.Sprintf("%d 5-digit codes", calibrationCodes)) {
		t.Fatalf("candidate card's calibration is not fitted with the second reader: %+v", cal)
	}
	// A native reader without the second reader gets a policy fitted on the same codes read without it.
	if w := c.WithoutSecond; w == nil || w.Second != nil || w.Threshold <= 0 || w.Threshold > 1 || w.Strokes == nil ||
		!strings.Contains(w.Validation, fmt.Sprintf("%d 5-digit codes", calibrationCodes)) {
		t.Fatalf("candidate card's calibration_without_second is not a fit without the second reader: %+v", w)
	}
	// The browser's pad (neither the pair nor the second reader) gets one fitted on the codes read so.
	if d := c.DigitModelOnly; d == nil || d.Second != nil || d.Threshold <= 0 || d.Threshold > 1 || d.Strokes == nil ||
		!strings.Contains(d.Validation, "without the pair reader") || strings.Contains(c.WithoutSecond.Validation, "without the pair reader") {
		t.Fatalf("candidate card's calibration_digit_model_only is not a fit by the digit model alone: %+v", d)
	}
	bare, err := onnxrec.New(onnx, []byte(`{"name":"bare"}`), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	consulted := func(r *recognize.Recognizer) int {
		n := 0
		for i := range 20 {
			img, _, err := synth.SetSheet(synth.ValWriters, synth.Codes5, 11, i, 100)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Image(img, recognize.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range res.Digits {
				if d.Second {
					n++
				}
			}
		}
		return n
	}
	got, none := consulted(rec), consulted(bare)
	t.Logf("candidate card: temperature %.4f, threshold %.4f (validation %.2f%% asked), strokes %.4f; second reader consulted on %d digits of 20 validation codes",
		cal.Temperature, cal.Threshold, 100*cal.ConfirmRate, cal.Strokes.Threshold, got)
	if got == 0 || none != 0 {
		t.Errorf("second reader consulted on %d digits of 20 validation codes under the candidate's card, %d under a bare card: want some, none", got, none)
	}
}
