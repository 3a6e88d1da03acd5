//go:build js && wasm

package bridge

import (
	"errors"
	"fmt"
	"syscall/js"

	"digitpad/shared/recognize"
)

// BrowserPatterns is the pad's pattern engine for code formats (recognize.PatternCompiler): the JavaScript
// engine's RegExp, so the wasm does not link Go's regexp (~130 kB of the pad's gzip download). Patterns use
// ECMAScript syntax with the "u" flag (code points, as Go reads UTF-8), where the server, the CLI and the kiosk
// use Go's RE2 syntax; digit counts ("5") and count patterns (`^[0-9]{5}$`, `\d{5}`) never reach an engine, and
// common patterns such as `^7[0-9]{4}$` or `^(75|77)\d{3}$` mean the same in both. A match is RegExp.test, which
// like Go's MatchString is unanchored unless the pattern holds ^ or $.
func BrowserPatterns(pattern string) (m recognize.Matcher, err error) {
	defer func() {
		if r := recover(); r != nil {
			jsErr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			m, err = nil, fmt.Errorf("browser RegExp: %w", errors.New(jsErr.Get("message").String()))
		}
	}()
	return browserRegExp{js.Global().Get("RegExp").New(pattern, "u")}, nil
}

// browserRegExp is a compiled JavaScript RegExp (without the g or y flags, so test keeps no state).
type browserRegExp struct{ re js.Value }

// MatchString reports whether s contains a match of the pattern (RegExp.prototype.test).
func (b browserRegExp) MatchString(s string) bool { return b.re.Call("test", s).Bool() }
