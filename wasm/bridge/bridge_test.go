//go:build js && wasm

package bridge_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"math"
	"syscall/js"
	"testing"

	"digitpad/assets"
	"digitpad/shared/ink"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/wasm/bridge"
)

// api registers the bridge on a fresh object (not globalThis) and loads the shipped model.
func api(t *testing.T) js.Value {
	t.Helper()
	target := js.Global().Get("Object").New()
	b := bridge.Register(target)
	t.Cleanup(b.Release)
	d := target.Get("digitpad")
	out := d.Call("load", bytesValue(shippedGraph(t)), map[string]any{"name": "shipped", "card": cardValue()})
	mustOK(t, out)
	return d
}

// cardValue is the shipped model card as the page has it (JSON.parse of the card file).
func cardValue() js.Value { return js.Global().Get("JSON").Call("parse", string(assets.ModelCard())) }

// The card handed to load configures the recogniser as Card.Configure does on the server and the kiosk: the
// same confidences as a native recogniser built from the card, which differ from an uncalibrated one's.
func TestLoad_CardConfiguresLikeTheServer(t *testing.T) {
	card, err := assets.ParseCard(assets.ModelCard(), assets.Model())
	if err != nil {
		t.Fatal(err)
	}
	if card.Calibration.Temperature == 0 || card.Calibration.Temperature == 1 {
		t.Skipf("the shipped card is uncalibrated (temperature %v): nothing to tell apart", card.Calibration.Temperature)
	}
	m, err := model.LoadGraph(shippedGraph(t))
	if err != nil {
		t.Fatal(err)
	}
	native, err := recognize.New(m, recognize.ModelInfo{}, card.Configure(recognize.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	strokes := []ink.Stroke{{{X: 60, Y: 20}, {X: 60, Y: 100}}}
	want, err := native.Strokes(strokes, 120, 120, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pts, ends := strokeArgs(line(60, 20, 60, 100))
	conf := func(opts map[string]any) float64 {
		target := js.Global().Get("Object").New()
		b := bridge.Register(target)
		defer b.Release()
		d := target.Get("digitpad")
		mustOK(t, d.Call("load", bytesValue(shippedGraph(t)), opts))
		out := d.Call("strokes", pts, ends, 120, 120, "")
		mustOK(t, out)
		return out.Get("digits").Index(0).Get("confidence").Float()
	}
	withCard, bare := conf(map[string]any{"card": cardValue()}), conf(map[string]any{})
	if math.Abs(withCard-want.Digits[0].Confidence) > 1e-9 {
		t.Errorf("confidence with the card %v, native with Card.Configure %v", withCard, want.Digits[0].Confidence)
	}
	if math.Abs(withCard-bare) < 1e-6 {
		t.Errorf("the card changed nothing (%v): its calibration was not applied", withCard)
	}
}

// The card's confirm model reaches the pad's recogniser as it reaches the server's: a "1" much shorter than its
// neighbour is flagged with the card's confirm model, as a native recogniser from the same card flags it, and
// passes without it.
func TestLoad_CardConfirmModelFlagsLikeTheServer(t *testing.T) {
	const withModel = `{"calibration":{"confirm_threshold":0.5,"confirm_model":{"short":20,"short_one":20}}}`
	const without = `{"calibration":{"confirm_threshold":0.5}}`
	flags := func(card string) []int { return padFlags(t, card) }
	c, err := assets.ParseCard([]byte(withModel), shippedGraph(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadGraph(shippedGraph(t))
	if err != nil {
		t.Fatal(err)
	}
	native, err := recognize.New(m, recognize.ModelInfo{}, c.Configure(recognize.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	want, err := native.Strokes([]ink.Stroke{strokeOf(line(40, 20, 40, 100)), strokeOf(line(100, 50, 100, 100))}, 160, 120, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := flags(withModel); len(want.Digits) != 2 || len(got) != 1 || len(want.Confirm) != 1 || got[0] != want.Confirm[0] {
		t.Errorf("with the card's confirm model: pad flags %v, native %v (code %q)", got, want.Confirm, want.Code)
	}
	if got := flags(without); len(got) != 0 {
		t.Errorf("without a confirm model: pad flags %v, want none", got)
	}
}

// padFlags is the pad's confirm flags for a short "1" beside a taller one, read from strokes by the shipped
// graph loaded with card (JSON).
func padFlags(t *testing.T, card string) []int {
	t.Helper()
	pts, ends := strokeArgs(line(40, 20, 40, 100), line(100, 50, 100, 100))
	target := js.Global().Get("Object").New()
	b := bridge.Register(target)
	defer b.Release()
	d := target.Get("digitpad")
	mustOK(t, d.Call("load", bytesValue(shippedGraph(t)), map[string]any{"card": js.Global().Get("JSON").Call("parse", card)}))
	out := d.Call("strokes", pts, ends, 160, 120, "")
	mustOK(t, out)
	c := out.Get("confirm")
	got := []int{}
	for i := range c.Length() {
		got = append(got, c.Index(i).Int())
	}
	return got
}

// The card's stroke policy (calibration.strokes) decides the pad's flags, which are always for strokes; a card
// without it leaves them to the image policy.
func TestLoad_CardStrokePolicyDecidesThePadsFlags(t *testing.T) {
	if got := padFlags(t, `{"calibration":{"confirm_threshold":1e-9,"strokes":{"confirm_threshold":1.0000001}}}`); len(got) != 2 {
		t.Errorf("stroke threshold above 1: pad flags %v, want both digits", got)
	}
	if got := padFlags(t, `{"calibration":{"confirm_threshold":1e-9}}`); len(got) != 0 {
		t.Errorf("no stroke policy, image threshold 1e-9: pad flags %v, want none", got)
	}
}

// The browser has no second reader: a card's calibration_without_second (fitted on codes read without it)
// decides over its calibration (fitted with it).
func TestLoad_CardWithoutSecondDecides(t *testing.T) {
	const card = `{"calibration":{"confirm_threshold":1e-9,"strokes":{"confirm_threshold":1e-9}},` +
		`"calibration_without_second":{"confirm_threshold":1e-9,"strokes":{"confirm_threshold":1.0000001}}}`
	if got := padFlags(t, card); len(got) != 2 {
		t.Errorf("stroke threshold above 1 without the second reader: pad flags %v, want both digits", got)
	}
}

// The browser has neither the pair reader nor the second reader: a card's calibration_digit_model_only (fitted
// on codes read by the digit model alone) decides over its calibration_without_second (read with the pair reader).
func TestLoad_CardDigitModelOnlyDecides(t *testing.T) {
	const card = `{"calibration":{"confirm_threshold":1e-9,"strokes":{"confirm_threshold":1e-9}},` +
		`"calibration_without_second":{"confirm_threshold":1e-9,"strokes":{"confirm_threshold":1e-9}},` +
		`"calibration_digit_model_only":{"confirm_threshold":1e-9,"strokes":{"confirm_threshold":1.0000001}}}`
	if got := padFlags(t, card); len(got) != 2 {
		t.Errorf("stroke threshold above 1 for the digit model alone: pad flags %v, want both digits", got)
	}
}

// strokeOf turns a flat [x0,y0,x1,y1,...] stroke into points.
func strokeOf(flat []float64) ink.Stroke {
	var s ink.Stroke
	for i := 0; i+1 < len(flat); i += 2 {
		s = append(s, ink.Point{X: flat[i], Y: flat[i+1]})
	}
	return s
}

// shippedGraph is the shipped model as the page gets it: a graph file decoded from the ONNX file by onnx-go.
func shippedGraph(t *testing.T) []byte {
	t.Helper()
	g, err := onnxload.GraphFile(assets.Model())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func bytesValue(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

func mustOK(t *testing.T, v js.Value) {
	t.Helper()
	if e := v.Get("error"); e.Type() != js.TypeUndefined {
		t.Fatalf("bridge error %s: %s", e.Get("code").String(), e.Get("message").String())
	}
}

func errorCode(v js.Value) string {
	if e := v.Get("error"); e.Type() == js.TypeObject {
		return e.Get("code").String()
	}
	return ""
}

// strokeArgs flattens strokes ([x0,y0,x1,y1,...] each) into the Float32Array and Uint32Array the worker sends.
func strokeArgs(strokes ...[]float64) (js.Value, js.Value) {
	n := 0
	for _, s := range strokes {
		n += len(s)
	}
	pts := js.Global().Get("Float32Array").New(n)
	ends := js.Global().Get("Uint32Array").New(len(strokes))
	k := 0
	for i, s := range strokes {
		for _, v := range s {
			pts.SetIndex(k, v)
			k++
		}
		ends.SetIndex(i, k/2)
	}
	return pts, ends
}

// line samples a straight stroke every 2 px, like a pointer would.
func line(x0, y0, x1, y1 float64) []float64 {
	var s []float64
	const steps = 40
	for i := 0; i <= steps; i++ {
		f := float64(i) / steps
		s = append(s, x0+f*(x1-x0), y0+f*(y1-y0))
	}
	return s
}

func TestLoad_ReportsModelSHA256(t *testing.T) {
	target := js.Global().Get("Object").New()
	defer bridge.Register(target).Release()
	out := target.Get("digitpad").Call("load", bytesValue(shippedGraph(t)), map[string]any{"name": "shipped"})
	mustOK(t, out)
	sum := sha256.Sum256(assets.Model())
	if got, want := out.Get("model").Get("sha256").String(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("sha256 = %s, want %s", got, want)
	}
	if got := out.Get("model").Get("name").String(); got != "shipped" {
		t.Errorf("name = %q, want shipped", got)
	}
}

func TestStrokes_TwoOnesMakeCode11(t *testing.T) {
	d := api(t)
	pts, ends := strokeArgs(line(60, 20, 60, 100), line(180, 20, 180, 100))
	out := d.Call("strokes", pts, ends, 260, 120, "2")
	mustOK(t, out)
	if got := out.Get("code").String(); got != "11" {
		t.Errorf("code = %q, want 11", got)
	}
	digits := out.Get("digits")
	if digits.Length() != 2 {
		t.Fatalf("%d digits, want 2", digits.Length())
	}
	box := digits.Index(0).Get("box")
	if x0, x1 := box.Index(0).Int(), box.Index(2).Int(); x0 > 60 || x1 < 60 {
		t.Errorf("first box x %d..%d does not cover the stroke at x=60", x0, x1)
	}
	if got := out.Get("inputs").Length(); got != 2 {
		t.Errorf("%d inputs, want one per digit", got)
	}
	in, err := base64.StdEncoding.DecodeString(out.Get("inputs").Index(0).String())
	if err != nil || len(in) != 784 {
		t.Errorf("input 0: %d bytes, err %v; want 784 bytes", len(in), err)
	}
	if got := out.Get("format_error").String(); got != "" {
		t.Errorf("format_error = %q for a 2-digit code with format 2", got)
	}
	if out.Get("ms").Float() <= 0 {
		t.Errorf("ms = %v, want the time spent in Go", out.Get("ms"))
	}
}

func TestStrokes_FormatMismatchIsReported(t *testing.T) {
	d := api(t)
	pts, ends := strokeArgs(line(60, 20, 60, 100))
	out := d.Call("strokes", pts, ends, 260, 120, "5")
	mustOK(t, out)
	if out.Get("format_error").String() == "" {
		t.Error("one digit with format 5: want a format error")
	}
}

func TestInkPNG_IsTheLastCanvas(t *testing.T) {
	d := api(t)
	if got := errorCode(d.Call("inkPNG")); got != "no_ink" {
		t.Errorf("inkPNG before any recognition: code %q, want no_ink", got)
	}
	pts, ends := strokeArgs(line(60, 20, 60, 100))
	mustOK(t, d.Call("strokes", pts, ends, 260, 120))
	out := d.Call("inkPNG")
	mustOK(t, out)
	raw, err := base64.StdEncoding.DecodeString(out.Get("png").String())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 260 || b.Dy() != 120 {
		t.Errorf("png is %v, want 260x120", b)
	}
}

func TestImage_RecognisesCanvasPixels(t *testing.T) {
	d := api(t)
	const w, h = 120, 80
	pix := make([]byte, 4*w*h)
	for i := range pix {
		pix[i] = 255 // white, opaque
	}
	for y := 15; y < 65; y++ {
		for x := 58; x < 63; x++ {
			i := 4 * (y*w + x)
			pix[i], pix[i+1], pix[i+2] = 0, 0, 0
		}
	}
	clamped := js.Global().Get("Uint8ClampedArray").New(len(pix))
	js.CopyBytesToJS(clamped, pix)
	out := d.Call("image", clamped, w, h)
	mustOK(t, out)
	if got := out.Get("code").String(); got != "1" {
		t.Errorf("code = %q, want 1", got)
	}
}

func TestCalls_RejectBadInputWithCodes(t *testing.T) {
	d := api(t)
	pts, ends := strokeArgs(line(60, 20, 60, 100))
	emptyPts, emptyEnds := strokeArgs()
	tests := []struct {
		name string
		call func() js.Value
		want string
	}{
		{"no strokes", func() js.Value { return d.Call("strokes", emptyPts, emptyEnds, 100, 100) }, "no_ink"},
		{"missing arguments", func() js.Value { return d.Call("strokes", pts) }, "invalid"},
		{"points not a typed array", func() js.Value { return d.Call("strokes", "x", ends, 100, 100) }, "invalid"},
		{"zero canvas", func() js.Value { return d.Call("strokes", pts, ends, 0, 100) }, "invalid"},
		{"huge canvas", func() js.Value { return d.Call("strokes", pts, ends, 100000, 100) }, "invalid"},
		{"pixels too short", func() js.Value { return d.Call("image", bytesValue(make([]byte, 10)), 10, 10) }, "invalid"},
		{"not a model", func() js.Value { return d.Call("load", bytesValue([]byte("not onnx"))) }, "invalid"},
		{"ONNX instead of a graph file", func() js.Value { return d.Call("load", bytesValue(assets.Model())) }, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorCode(tt.call()); got != tt.want {
				t.Errorf("error code = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStrokes_BeforeLoadIsAnError(t *testing.T) {
	target := js.Global().Get("Object").New()
	defer bridge.Register(target).Release()
	pts, ends := strokeArgs(line(60, 20, 60, 100))
	if got := errorCode(target.Get("digitpad").Call("strokes", pts, ends, 260, 120)); got != "internal" {
		t.Errorf("error code = %q, want internal (no model loaded)", got)
	}
}

// The page's confirm: the shown result goes back with the clerk's labels and comes out as protocol.Feedback.
func TestFeedback_BuildsTheRecordFromTheShownResult(t *testing.T) {
	d := api(t)
	pts, ends := strokeArgs(line(60, 20, 60, 100), line(180, 20, 180, 100))
	res := d.Call("strokes", pts, ends, 260, 120, "")
	mustOK(t, res)
	conf := js.Global().Get("Object").New()
	conf.Set("idempotency_key", "key-1")
	conf.Set("client_id", "pad-1")
	conf.Set("labels", js.ValueOf([]any{1, 7}))
	conf.Set("created_at", 1764670215123.0)
	conf.Set("prediction", res)
	out := d.Call("feedback", pts, ends, 260, 120, conf)
	mustOK(t, out)
	text := js.Global().Get("JSON").Call("stringify", out.Get("record")).String()
	var f protocol.Feedback
	if err := json.Unmarshal([]byte(text), &f); err != nil {
		t.Fatalf("record %s: %v", text, err)
	}
	if f.Code != "17" || f.Predicted != res.Get("code").String() || f.ClientID != "pad-1" || f.IdempotencyKey != "key-1" {
		t.Errorf("record %+v: want code 17, predicted %s, client pad-1, key key-1", f, res.Get("code").String())
	}
	if got := f.CreatedAt.UnixMilli(); got != 1764670215123 {
		t.Errorf("created_at = %v (%d ms), want 1764670215123 ms", f.CreatedAt, got)
	}
	if len(f.Inputs) != 2 || base64.StdEncoding.EncodeToString(f.Inputs[1]) != res.Get("inputs").Index(1).String() {
		t.Errorf("inputs: want the shown result's two inputs")
	}
	img, err := png.Decode(bytes.NewReader(f.InkPNG))
	if err != nil || img.Bounds().Dx() != 260 || img.Bounds().Dy() != 120 {
		t.Errorf("ink_png: %v, err %v; want the 260×120 strokes", img.Bounds(), err)
	}
	conf.Set("labels", js.ValueOf([]any{1}))
	if got := errorCode(d.Call("feedback", pts, ends, 260, 120, conf)); got != "invalid" {
		t.Errorf("one label for two digits: code %q, want invalid", got)
	}
}
