//go:build js

package recognize

import "errors"

// ErrNoPatternEngine is DefaultPatterns' error in js builds, which do not link Go's regexp.
var ErrNoPatternEngine = errors.New("regular-expression formats need a pattern engine in this build " +
	"(recognize.Config.Patterns; digit counts such as \"5\" need none)")

// DefaultPatterns refuses every pattern in js builds: Go's regexp would add ~130 kB gzip to the browser pad's
// download. Callers that accept patterns there supply an engine (the wasm bridge passes the browser's RegExp).
func DefaultPatterns(pattern string) (Matcher, error) { return nil, ErrNoPatternEngine }
