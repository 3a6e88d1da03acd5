package recognize

import (
	"fmt"
	"strconv"
	"strings"
)

// This file holds the one rule for code formats. A format is "" (any code), a digit count such as "5", or a
// regular expression. Counts, and patterns that only say "n digits" (`^[0-9]{5}$`, `\d{5}`, …), are read by
// hand and matched without a regular-expression engine; every other pattern is compiled by a PatternCompiler.
// Native builds default to Go's regexp (RE2 syntax, format_regexp.go); the browser's wasm does not link
// regexp (it is ~130 kB of the pad's gzip download) and its bridge supplies the browser's RegExp instead.

// Matcher is a compiled pattern. MatchString reports whether s contains a match, as Go's
// (*regexp.Regexp).MatchString does: unanchored unless the pattern itself holds ^ or $.
type Matcher interface {
	MatchString(s string) bool
}

// PatternCompiler compiles a format's regular expression into a Matcher. Nil means the build's default
// (DefaultPatterns).
type PatternCompiler func(pattern string) (Matcher, error)

// maxCount is the largest repeat count a count pattern may give: RE2's (and so regexp's) repeat limit.
const maxCount = 1000

// Format is a compiled code format.
type Format struct {
	count  *digitRun // the format as a run of digits when it is a count or a count pattern, else nil
	re     Matcher   // the compiled pattern when count is nil
	digits int       // expected digit count when the format is a plain count, else 0
	desc   string
}

// ParseFormat compiles a code format ("" for none, a digit count such as "5", or a regular expression) with the
// build's default pattern engine (DefaultPatterns).
func ParseFormat(s string) (*Format, error) { return ParseFormatWith(s, nil) }

// ParseFormatWith compiles a code format: "" (none), a digit count such as "5" (1..32), or a regular
// expression, which patterns compiles (nil: DefaultPatterns). Counts and count patterns such as `^[0-9]{5}$` or
// `\d{5}` never reach patterns: they match as Go's regexp would match them (an unanchored side lets the run of
// digits sit anywhere on that side).
func ParseFormatWith(s string, patterns PatternCompiler) (*Format, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 32 {
			return nil, fmt.Errorf("code format: digit count %d out of range 1..32", n)
		}
		return &Format{count: &digitRun{n: n, start: true, end: true}, digits: n, desc: fmt.Sprintf("%d digits", n)}, nil
	}
	if run, ok := parseCountPattern(s); ok {
		return &Format{count: &run, digits: run.n, desc: "format " + s}, nil
	}
	if patterns == nil {
		patterns = DefaultPatterns
	}
	re, err := patterns(s)
	if err != nil {
		return nil, fmt.Errorf("code format %q: %w", s, err)
	}
	return &Format{re: re, desc: "format " + s}, nil
}

// Match reports whether a code fits the format; a nil format accepts every code.
func (f *Format) Match(code string) bool {
	switch {
	case f == nil:
		return true
	case f.count != nil:
		return f.count.match(code)
	default:
		return f.re.MatchString(code)
	}
}

// digitRun is a count pattern: n ASCII digits, at the start of the code when start, ending it when end.
type digitRun struct {
	n          int
	start, end bool
}

// parseCountPattern reads a pattern of the shape ^?(\d|[0-9]){n}$? (n in 0..maxCount, written without leading
// zeros, as RE2 wants it).
func parseCountPattern(s string) (digitRun, bool) {
	var r digitRun
	s, r.start = strings.CutPrefix(s, "^")
	s, r.end = strings.CutSuffix(s, "$")
	rest, ok := strings.CutPrefix(s, `\d`)
	if !ok {
		if rest, ok = strings.CutPrefix(s, "[0-9]"); !ok {
			return r, false
		}
	}
	num, open := strings.CutPrefix(rest, "{")
	num, closed := strings.CutSuffix(num, "}")
	if !open || !closed || num == "" || !allDigits(num) || (len(num) > 1 && num[0] == '0') {
		return r, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n > maxCount {
		return r, false
	}
	r.n = n
	return r, true
}

// match reports whether code holds the run where the pattern puts it.
func (r *digitRun) match(code string) bool {
	if len(code) < r.n {
		return false
	}
	switch {
	case r.start && r.end:
		return len(code) == r.n && allDigits(code)
	case r.start:
		return allDigits(code[:r.n])
	case r.end:
		return allDigits(code[len(code)-r.n:])
	}
	run := 0
	for i := 0; i < len(code) && run < r.n; i++ {
		run++
		if code[i] < '0' || code[i] > '9' {
			run = 0
		}
	}
	return run >= r.n
}

// allDigits reports whether s holds only the ASCII digits 0-9 (what \d and [0-9] match).
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
