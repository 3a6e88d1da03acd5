//go:build js && wasm

package bridge

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"sync"
	"syscall/js"
	"time"

	"digitpad/shared/ink"
	"digitpad/shared/model"
	"digitpad/shared/recognize"
)

// Bridge holds the worker's recogniser and the last ink mask (kept for the feedback record's PNG, which is
// encoded only when a code is confirmed, not on every stroke).
type Bridge struct {
	mu       sync.Mutex
	rec      *recognize.Recognizer
	lastMask *ink.Mask
	funcs    []js.Func
}

// Register installs the API on target (normally globalThis) as target.digitpad:
//
//	load(graphBytes: Uint8Array, opts?: {name?: string, card?: model card JSON, threshold?: number, format?: string})
//	    -> {model: {name, sha256}, ms}; the card's input_scale and calibration configure the recogniser
//	    (recognize.Calibration, as on the server and the kiosk), threshold overrides the card's
//	    graphBytes is a model graph file (model.Graph.MarshalBinary, made from the ONNX file by onnx-go at build
//	    or serve time: onnxload.GraphFile); sha256 is the ONNX file's.
//	strokes(points: Float32Array /* x0,y0,x1,y1,... CSS px */, ends: Uint32Array /* exclusive end per stroke,
//	    in points */, width: number, height: number, format?: string) -> Result
//	image(rgba: Uint8Array|Uint8ClampedArray, width: number, height: number, format?: string) -> Result
//	inkPNG() -> {png: base64 string} of the last recognised ink
//	feedback(points, ends, width, height, confirmation: {idempotency_key, client_id, labels: number[],
//	    created_at: ms since the epoch, prediction: the result shown (this bridge's, or the server's with
//	    inputs)}) -> {record}: the feedback record of a confirmed code, built by protocol.NewFeedback like the
//	    kiosk's, as an object that JSON.stringify turns into protocol.Feedback's JSON; its ink PNG is the
//	    strokes at the canvas size (ink.StrokesPNG).
//	scratch(points: Float32Array, ends: Uint32Array) -> {erase: [stroke indexes]}: the strokes the last stroke
//	    scratches out (ink.ScratchOut), empty when it is not a scribble over ink
//	clerk(input: {digits, confirm, fixes, format, anyway, typed?: string, edit?: {op, at, digit}} as ClerkInput)
//	    -> recognize.Review's JSON: the clerk's fixes (set, delete, insert) and the edit applied, or the typed
//	    code read, and whether the code may be confirmed (no model needed)
//
// A format is "" (any code), a digit count such as "5", or a regular expression in the browser's RegExp
// (ECMAScript) syntax, where the server and the kiosk use Go's RE2 syntax (BrowserPatterns).
//
// Result is recognize.Result's JSON shape plus inputs (base64 28×28 bytes per digit) and ms (time in Go).
// Every call returns {error: {code, message}} instead of throwing; codes are those of package protocol.
func Register(target js.Value) *Bridge {
	b := &Bridge{}
	api := js.Global().Get("Object").New()
	for name, fn := range map[string]func(args []js.Value) (map[string]any, error){
		"load":     b.load,
		"strokes":  b.strokes,
		"image":    b.image,
		"inkPNG":   b.inkPNG,
		"feedback": b.feedback,
		"clerk":    clerkJS,
		"scratch":  b.scratch,
	} {
		f := js.FuncOf(guard(fn))
		b.funcs = append(b.funcs, f)
		api.Set(name, f)
	}
	target.Set("digitpad", api)
	return b
}

// Release frees the JavaScript callbacks; the API must not be called afterwards.
func (b *Bridge) Release() {
	for _, f := range b.funcs {
		f.Release()
	}
	b.funcs = nil
}

// guard converts errors and panics into the {error} object so a bug never kills the worker's Go runtime.
func guard(fn func(args []js.Value) (map[string]any, error)) func(js.Value, []js.Value) any {
	return func(_ js.Value, args []js.Value) (ret any) {
		defer func() {
			if p := recover(); p != nil {
				ret = js.ValueOf(errorObject(errors.New("panic: " + panicText(p))))
			}
		}()
		out, err := fn(args)
		if err != nil {
			return js.ValueOf(errorObject(err))
		}
		return js.ValueOf(out)
	}
}

func panicText(p any) string {
	switch v := p.(type) {
	case error:
		return v.Error()
	case string:
		return v
	default:
		return "unexpected value"
	}
}

func (b *Bridge) load(args []js.Value) (map[string]any, error) {
	start := time.Now()
	if len(args) < 1 {
		return nil, wrapInvalid("load(graphBytes, opts?): graph bytes missing")
	}
	data, err := bytesArg(args[0], "graphBytes")
	if err != nil {
		return nil, err
	}
	var info recognize.ModelInfo
	var cfg recognize.Config
	if len(args) > 1 && args[1].Type() == js.TypeObject {
		o := args[1]
		if v := o.Get("name"); v.Type() == js.TypeString {
			info.Name = v.String()
		}
		if v := o.Get("threshold"); v.Type() == js.TypeNumber {
			cfg.Threshold = v.Float()
		}
		if v := o.Get("format"); v.Type() == js.TypeString {
			cfg.Format = v.String()
		}
		cfg = cardCalibration(o.Get("card")).Configure(cfg)
	}
	cfg.Patterns = BrowserPatterns
	m, err := model.LoadGraph(data)
	if err != nil {
		return nil, wrapInvalid("load model: " + err.Error())
	}
	info.SHA256 = m.SHA256()
	if info.Name == "" {
		info.Name = "model-" + info.SHA256[:12]
	}
	rec, err := recognize.New(m, info, cfg)
	if err != nil {
		return nil, errors.New("build recogniser: " + err.Error())
	}
	b.mu.Lock()
	b.rec, b.lastMask = rec, nil
	b.mu.Unlock()
	return map[string]any{
		"model": map[string]any{"name": info.Name, "sha256": info.SHA256},
		"ms":    msSince(start),
	}, nil
}

func (b *Bridge) strokes(args []js.Value) (map[string]any, error) {
	start := time.Now()
	if len(args) < 4 {
		return nil, wrapInvalid("strokes(points, ends, width, height, format?): arguments missing")
	}
	strokes, w, h, err := strokesArgs(args)
	if err != nil {
		return nil, err
	}
	if len(strokes) == 0 {
		return nil, ink.ErrNoInk
	}
	m, scale, err := recognize.StrokesMask(strokes, w, h)
	if err != nil {
		return nil, err
	}
	return b.recognise(m, formatArg(args, 4), start, scale, w, h)
}

func (b *Bridge) feedback(args []js.Value) (map[string]any, error) {
	if len(args) < 5 || args[4].Type() != js.TypeObject {
		return nil, wrapInvalid("feedback(points, ends, width, height, confirmation): arguments missing")
	}
	strokes, w, h, err := strokesArgs(args)
	if err != nil {
		return nil, err
	}
	conf, _ := goValue(args[4], 0).(map[string]any)
	f, err := feedbackRecord(strokes, w, h, conf)
	if err != nil {
		return nil, err
	}
	return map[string]any{"record": recordObject(f)}, nil
}

// goValue copies a JSON-like JavaScript value into Go (objects, arrays, numbers, strings, booleans; anything
// else is nil). Depth and array length are bounded: a feedback confirmation is small.
func goValue(v js.Value, depth int) any {
	if depth > 8 {
		return nil
	}
	switch v.Type() {
	case js.TypeString:
		return v.String()
	case js.TypeNumber:
		return v.Float()
	case js.TypeBoolean:
		return v.Bool()
	case js.TypeObject:
		if js.Global().Get("Array").Call("isArray", v).Bool() {
			n := v.Length()
			if n > 1024 {
				return nil
			}
			a := make([]any, n)
			for i := range a {
				a[i] = goValue(v.Index(i), depth+1)
			}
			return a
		}
		keys := js.Global().Get("Object").Call("keys", v)
		if keys.Length() > 64 {
			return nil
		}
		o := make(map[string]any, keys.Length())
		for i := 0; i < keys.Length(); i++ {
			k := keys.Index(i).String()
			o[k] = goValue(v.Get(k), depth+1)
		}
		return o
	}
	return nil
}

// strokesArgs reads (points: Float32Array, ends: Uint32Array, width, height) in canvas pixels.
func strokesArgs(args []js.Value) ([]ink.Stroke, int, int, error) {
	pts, err := bytesArg(args[0], "points")
	if err != nil {
		return nil, 0, 0, err
	}
	endBytes, err := bytesArg(args[1], "ends")
	if err != nil {
		return nil, 0, 0, err
	}
	if len(endBytes)%4 != 0 {
		return nil, 0, 0, wrapInvalid("ends: want a Uint32Array")
	}
	ends := make([]uint32, len(endBytes)/4)
	for i := range ends {
		ends[i] = uint32(endBytes[4*i]) | uint32(endBytes[4*i+1])<<8 | uint32(endBytes[4*i+2])<<16 | uint32(endBytes[4*i+3])<<24
	}
	w, h, err := sizeArgs(args[2], args[3])
	if err != nil {
		return nil, 0, 0, err
	}
	strokes, err := strokesFromFlat(pts, ends, 1)
	if err != nil {
		return nil, 0, 0, err
	}
	return strokes, w, h, nil
}

func (b *Bridge) image(args []js.Value) (map[string]any, error) {
	start := time.Now()
	if len(args) < 3 {
		return nil, wrapInvalid("image(rgba, width, height, format?): arguments missing")
	}
	pix, err := bytesArg(args[0], "rgba")
	if err != nil {
		return nil, err
	}
	w, h, err := sizeArgs(args[1], args[2])
	if err != nil {
		return nil, err
	}
	img, err := rgbaImage(pix, w, h)
	if err != nil {
		return nil, err
	}
	m, err := ink.MaskFromImage(img)
	if err != nil {
		return nil, err
	}
	return b.recognise(m, formatArg(args, 3), start, 1, w, h)
}

// recognise runs the recogniser on a mask; the mask is built by the bridge (not inside Recognizer.Strokes) so it
// can be kept for inkPNG. scale maps the w×h canvas to the mask; boxes are returned in canvas pixels.
func (b *Bridge) recognise(m *ink.Mask, format string, start time.Time, scale float64, w, h int) (map[string]any, error) {
	b.mu.Lock()
	rec := b.rec
	b.mu.Unlock()
	if rec == nil {
		return nil, errors.New("no model loaded: call load first")
	}
	// As on the server (prepareError): an empty canvas is no_ink, anything else Prepare refuses (a bad format,
	// ink beyond the limits) is the caller's invalid input; only the model's own failures are internal.
	j, err := rec.Prepare(m, recognize.Options{Format: format})
	if err != nil {
		if errors.Is(err, ink.ErrNoInk) {
			return nil, err
		}
		return nil, wrapInvalid("cannot recognise this input: " + err.Error())
	}
	if err := rec.Classify([]*recognize.Job{j}); err != nil {
		return nil, err
	}
	res := j.Result()
	b.mu.Lock()
	b.lastMask = m
	b.mu.Unlock()
	res.UnscaleBoxes(scale, w, h)
	out := resultObject(res)
	out["ms"] = msSince(start)
	return out, nil
}

func (b *Bridge) inkPNG([]js.Value) (map[string]any, error) {
	b.mu.Lock()
	m := b.lastMask
	b.mu.Unlock()
	if m == nil {
		return nil, ink.ErrNoInk
	}
	var buf bytes.Buffer
	if err := ink.EncodeMaskPNG(&buf, m); err != nil {
		return nil, err
	}
	return map[string]any{"png": encodeBase64(buf.Bytes())}, nil
}

// bytesArg copies a typed array (any element type) into Go.
func bytesArg(v js.Value, name string) ([]byte, error) {
	if v.Type() != js.TypeObject || v.Get("buffer").Type() != js.TypeObject || v.Get("byteLength").Type() != js.TypeNumber {
		return nil, wrapInvalid(name + ": want a typed array")
	}
	n := v.Get("byteLength").Int()
	if n > 64<<20 {
		return nil, wrapInvalid(name + ": " + strconv.Itoa(n) + " bytes is too large")
	}
	u8 := js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), n)
	out := make([]byte, n)
	js.CopyBytesToGo(out, u8)
	return out, nil
}

func sizeArgs(wv, hv js.Value) (int, int, error) {
	if wv.Type() != js.TypeNumber || hv.Type() != js.TypeNumber {
		return 0, 0, wrapInvalid("width and height must be numbers")
	}
	w, h := int(wv.Float()+0.5), int(hv.Float()+0.5)
	return w, h, checkSize(w, h)
}

func formatArg(args []js.Value, i int) string {
	if len(args) > i && args[i].Type() == js.TypeString {
		return args[i].String()
	}
	return ""
}

func (b *Bridge) scratch(args []js.Value) (map[string]any, error) {
	if len(args) < 2 {
		return nil, wrapInvalid("scratch(points, ends): arguments missing")
	}
	pts, err := bytesArg(args[0], "points")
	if err != nil {
		return nil, err
	}
	endBytes, err := bytesArg(args[1], "ends")
	if err != nil {
		return nil, err
	}
	if len(endBytes)%4 != 0 {
		return nil, wrapInvalid("ends: want a Uint32Array")
	}
	ends := make([]uint32, len(endBytes)/4)
	for i := range ends {
		ends[i] = uint32(endBytes[4*i]) | uint32(endBytes[4*i+1])<<8 | uint32(endBytes[4*i+2])<<16 | uint32(endBytes[4*i+3])<<24
	}
	strokes, err := strokesFromFlat(pts, ends, 1)
	if err != nil {
		return nil, err
	}
	erase := []any{}
	for _, i := range ink.ScratchOut(strokes) {
		erase = append(erase, i)
	}
	return map[string]any{"erase": erase}, nil
}

// cardCalibration reads a model card's JSON object (assets.Card: input_scale, calibration.temperature,
// calibration.confirm_threshold, calibration.confirm_model, calibration.strokes; calibration_digit_model_only,
// else calibration_without_second, the same fields, in its place when present); missing fields stay zero.
func cardCalibration(card js.Value) recognize.Calibration {
	var c recognize.Calibration
	if card.Type() != js.TypeObject {
		return c
	}
	num := func(o js.Value, name string) float64 {
		if v := o.Get(name); v.Type() == js.TypeNumber {
			return v.Float()
		}
		return 0
	}
	c.InputScale = float32(num(card, "input_scale"))
	// The browser has neither the pair reader nor the second reader: the card's calibration fitted on the digit
	// model alone, else the nearest stated (recognize.CardCalibrations, as assets.Card.For picks).
	var cal js.Value
	for _, name := range recognize.CardCalibrations(recognize.Config{}) {
		if cal = card.Get(name); cal.Type() == js.TypeObject {
			break
		}
	}
	if cal.Type() == js.TypeObject {
		c.Temperature, c.Threshold = num(cal, "temperature"), num(cal, "confirm_threshold")
		confirmModel := func(o js.Value) recognize.ConfirmModel {
			if cm := o.Get("confirm_model"); cm.Type() == js.TypeObject {
				return recognize.ConfirmModel{Short: num(cm, "short"), ShortOne: num(cm, "short_one"), Pair: num(cm, "pair"), Edge: num(cm, "edge")}
			}
			return recognize.ConfirmModel{}
		}
		c.Confirm = confirmModel(cal)
		if st := cal.Get("strokes"); st.Type() == js.TypeObject {
			c.StrokeThreshold, c.StrokeConfirm = num(st, "confirm_threshold"), confirmModel(st)
		}
	}
	return c
}

func clerkJS(args []js.Value) (map[string]any, error) {
	if len(args) < 1 || args[0].Type() != js.TypeObject {
		return nil, wrapInvalid("clerk(input): an object {digits, confirm, fixes, format, anyway, typed, edit}")
	}
	o := args[0]
	var ci ClerkInput
	var in jsFields
	in.list(o.Get("digits"), "digits", func(d js.Value, at string) {
		dg := recognize.Digit{Digit: in.int(d.Get("digit"), at+".digit"), Box: in.box(d.Get("box"), at+".box")}
		if c := d.Get("confidence"); !c.IsUndefined() {
			dg.Confidence = in.num(c, at+".confidence")
		}
		if p := d.Get("probs"); p.Type() == js.TypeObject && p.Length() == 10 {
			for k := range 10 {
				dg.Probs[k] = in.num(p.Index(k), at+".probs")
			}
		}
		ci.Digits = append(ci.Digits, dg)
	})
	in.list(o.Get("confirm"), "confirm", func(c js.Value, at string) { ci.Confirm = append(ci.Confirm, in.int(c, at)) })
	in.list(o.Get("fixes"), "fixes", func(f js.Value, at string) {
		fx := recognize.Fix{Box: in.box(f.Get("box"), at+".box")}
		if d := f.Get("digit"); d.Type() == js.TypeNumber {
			fx.Digit = in.int(d, at+".digit")
		}
		if op := f.Get("op"); op.Type() == js.TypeString {
			fx.Op = op.String()
		}
		ci.Fixes = append(ci.Fixes, fx)
	})
	if f := o.Get("format"); f.Type() == js.TypeString {
		ci.Format = f.String()
	}
	ci.Anyway = o.Get("anyway").Truthy()
	if t := o.Get("typed"); t.Type() == js.TypeString {
		ci.Typed, ci.IsTyped = t.String(), true
	}
	if e := o.Get("edit"); e.Type() == js.TypeObject {
		ci.Edit = &Edit{Op: e.Get("op").String(), At: in.int(e.Get("at"), "edit.at")}
		if d := e.Get("digit"); d.Type() == js.TypeNumber {
			ci.Edit.Digit = in.int(d, "edit.digit")
		}
	}
	if in.err != nil {
		return nil, in.err
	}
	out, err := Clerk(ci, BrowserPatterns)
	if err != nil {
		return nil, err
	}
	return out.Object(), nil
}

// jsFields reads typed fields of a JavaScript object; the first field of the wrong type is kept as an invalid
// error naming it (syscall/js would panic on it), and later reads return zero values.
type jsFields struct{ err error }

func (f *jsFields) fail(at, want string) {
	if f.err == nil {
		f.err = wrapInvalid("clerk(input): " + at + ": want " + want)
	}
}

// num is a finite number.
func (f *jsFields) num(v js.Value, at string) float64 {
	if v.Type() != js.TypeNumber || math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0) {
		f.fail(at, "a number")
		return 0
	}
	return v.Float()
}

// int is a whole number that fits an int32 (digits, indexes and pixel coordinates).
func (f *jsFields) int(v js.Value, at string) int {
	x := f.num(v, at)
	if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
		f.fail(at, "a whole number")
		return 0
	}
	return int(x)
}

func (f *jsFields) box(v js.Value, at string) (b [4]int) {
	if !isArray(v) || v.Length() != 4 {
		f.fail(at, "[x0, y0, x1, y1]")
		return b
	}
	for i := range 4 {
		b[i] = f.int(v.Index(i), at)
	}
	return b
}

// list calls each for every element of an array; undefined or null is an empty list.
func (f *jsFields) list(v js.Value, at string, each func(e js.Value, at string)) {
	if v.IsUndefined() || v.IsNull() {
		return
	}
	if !isArray(v) {
		f.fail(at, "an array")
		return
	}
	for i := 0; i < v.Length() && f.err == nil; i++ {
		each(v.Index(i), at+"["+strconv.Itoa(i)+"]")
	}
}

func isArray(v js.Value) bool { return js.Global().Get("Array").Call("isArray", v).Bool() }

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
