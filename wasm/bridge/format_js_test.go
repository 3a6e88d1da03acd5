//go:build js && wasm

package bridge_test

import (
	"errors"
	"strings"
	"syscall/js"
	"testing"

	"digitpad/shared/recognize"
	"digitpad/wasm/bridge"
)

// The wasm does not link Go's regexp: the core refuses patterns by itself, and counts need no engine.
func TestParseFormat_JSDefaultRefusesPatternsButReadsCounts(t *testing.T) {
	if _, err := recognize.ParseFormat(`^7[0-9]{4}$`); !errors.Is(err, recognize.ErrNoPatternEngine) {
		t.Errorf("a pattern without an engine: %v, want ErrNoPatternEngine", err)
	}
	for _, s := range []string{"5", `^[0-9]{5}$`, `\d{5}`} {
		f, err := recognize.ParseFormat(s)
		if err != nil || !f.Match("12345") || f.Match("1234") || f.Problem("1234") != "4 of 5 digits: add 1" {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// strokes with a pattern format matches it with the browser's RegExp: a negative lookahead, which Go's RE2
// syntax does not have, works; a bad pattern is the caller's invalid input, as on the server.
func TestStrokes_PatternFormatUsesTheBrowsersRegExp(t *testing.T) {
	d := api(t)
	pts, ends := strokeArgs(line(60, 20, 60, 100))
	formatError := func(format string) string {
		t.Helper()
		out := d.Call("strokes", pts, ends, 120, 120, format)
		mustOK(t, out)
		if out.Get("code").String() != "1" {
			t.Fatalf("one vertical stroke read as %q, want 1", out.Get("code").String())
		}
		if fe := out.Get("format_error"); fe.Type() == js.TypeString {
			return fe.String()
		}
		return ""
	}
	if fe := formatError(`^(?!7)\d$`); fe != "" {
		t.Errorf("1 with format ^(?!7)\\d$: %q, want a match", fe)
	}
	if fe := formatError(`^(?!1)\d$`); !strings.Contains(fe, `format ^(?!1)\d$`) {
		t.Errorf("1 with format ^(?!1)\\d$: format error %q, want a mismatch", fe)
	}
	if fe := formatError(`[1-3]`); fe != "" {
		t.Errorf("1 with format [1-3] (unanchored, as Go's MatchString): %q, want a match", fe)
	}
	if e := d.Call("strokes", pts, ends, 120, 120, "(["); errorCode(e) != "invalid" ||
		!strings.Contains(e.Get("error").Get("message").String(), "browser RegExp") {
		t.Errorf("a bad pattern: want an invalid error with the RegExp's message, got %v", js.Global().Get("JSON").Call("stringify", e))
	}
}

// load's default format may be a pattern too.
func TestLoad_PatternFormatIsTheDefault(t *testing.T) {
	target := js.Global().Get("Object").New()
	b := bridge.Register(target)
	t.Cleanup(b.Release)
	d := target.Get("digitpad")
	mustOK(t, d.Call("load", bytesValue(shippedGraph(t)), map[string]any{"card": cardValue(), "format": `^7\d{4}$`}))
	pts, ends := strokeArgs(line(60, 20, 60, 100))
	out := d.Call("strokes", pts, ends, 120, 120)
	mustOK(t, out)
	if fe := out.Get("format_error"); fe.Type() != js.TypeString || !strings.Contains(fe.String(), `^7\d{4}$`) {
		t.Errorf("1 with the default format ^7\\d{4}$: format error %v", fe)
	}
}

// clerk gates a typed code on a pattern format with the browser's RegExp.
func TestClerk_PatternFormatThroughTheBridge(t *testing.T) {
	target := js.Global().Get("Object").New()
	b := bridge.Register(target)
	t.Cleanup(b.Release)
	d := target.Get("digitpad")
	verdict := func(typed string) js.Value {
		t.Helper()
		out := d.Call("clerk", map[string]any{"format": `^7(?!0)\d{4}$`, "typed": typed, "digits": []any{}})
		mustOK(t, out)
		return out.Get("verdict")
	}
	if v := verdict("71234"); !v.Get("ok").Bool() {
		t.Errorf("71234 fits ^7(?!0)\\d{4}$: verdict %v", js.Global().Get("JSON").Call("stringify", v))
	}
	for _, typed := range []string{"70123", "81234", "7123"} {
		if v := verdict(typed); v.Get("ok").Bool() || v.Get("reason").String() != `does not fit the format ^7(?!0)\d{4}$` {
			t.Errorf("%s: verdict %v, want the format's refusal", typed, js.Global().Get("JSON").Call("stringify", v))
		}
	}
	if errorCode(d.Call("clerk", map[string]any{"format": "([", "digits": []any{}})) != "invalid" {
		t.Error("a bad pattern must be an invalid input")
	}
}

// A clerk input with missing or mistyped fields is an invalid input naming the field, never a panic.
func TestClerk_MalformedInputIsInvalidNamingTheField(t *testing.T) {
	target := js.Global().Get("Object").New()
	b := bridge.Register(target)
	t.Cleanup(b.Release)
	d := target.Get("digitpad")
	// No digits: a typed code needs none, and ink without digits reads as nothing.
	if out := d.Call("clerk", map[string]any{"format": "5", "typed": "12345"}); errorCode(out) != "" || out.Get("code").String() != "12345" {
		t.Errorf("typed code without digits: %v", js.Global().Get("JSON").Call("stringify", out))
	}
	mustOK(t, d.Call("clerk", map[string]any{"format": "5"}))
	digit := func(box any) map[string]any { return map[string]any{"digit": 3, "confidence": 0.9, "box": box} }
	for _, c := range []struct {
		in    map[string]any
		field string
	}{
		{map[string]any{"digits": "12345"}, "digits: want an array"},
		{map[string]any{"digits": []any{map[string]any{"box": []any{0, 0, 10, 20}}}}, "digits[0].digit: want a number"},
		{map[string]any{"digits": []any{digit([]any{0, 0, 10})}}, "digits[0].box: want [x0, y0, x1, y1]"},
		{map[string]any{"digits": []any{digit(nil)}}, "digits[0].box: want [x0, y0, x1, y1]"},
		{map[string]any{"digits": []any{digit([]any{0, 0, "10", 20})}}, "digits[0].box: want a number"},
		{map[string]any{"digits": []any{digit([]any{0, 0, 10.5, 20})}}, "digits[0].box: want a whole number"},
		{map[string]any{"digits": []any{digit([]any{0, 0, 10, 20})}, "confirm": []any{nil}}, "confirm[0]: want a number"},
		{map[string]any{"fixes": []any{map[string]any{"digit": 1}}}, "fixes[0].box: want [x0, y0, x1, y1]"},
		{map[string]any{"edit": map[string]any{"op": "set"}}, "edit.at: want a number"},
	} {
		out := d.Call("clerk", c.in)
		msg := out.Get("error").Get("message")
		if errorCode(out) != "invalid" || !strings.Contains(msg.String(), c.field) {
			t.Errorf("%v: error %s %v, want invalid naming %q", c.in, errorCode(out), msg, c.field)
		}
	}
}
