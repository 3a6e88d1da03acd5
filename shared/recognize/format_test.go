package recognize_test

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"slices"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
)

// noEngine is a pattern compiler that fails the test when a format reaches it.
func noEngine(t *testing.T) recognize.PatternCompiler {
	return func(p string) (recognize.Matcher, error) {
		t.Errorf("pattern %q reached the regular-expression engine", p)
		return nil, errors.New("no engine")
	}
}

// Digit counts and count patterns are read by hand: they need no engine, and count patterns still give the
// format's digit count (the clerk's "add 1" / "remove 1" and the lattice's expected count).
func TestParseFormat_CountsNeedNoEngine(t *testing.T) {
	for _, c := range []struct{ format, desc string }{
		{"5", "5 digits"}, {" 5 ", "5 digits"}, {`^[0-9]{5}$`, `format ^[0-9]{5}$`}, {`^\d{5}$`, `format ^\d{5}$`},
		{`\d{5}`, `format \d{5}`}, {`[0-9]{5}$`, `format [0-9]{5}$`},
	} {
		f, err := recognize.ParseFormatWith(c.format, noEngine(t))
		if err != nil {
			t.Fatalf("%q: %v", c.format, err)
		}
		if f.String() != c.desc {
			t.Errorf("%q reads as %q, want %q", c.format, f.String(), c.desc)
		}
		if !f.Match("12345") || f.Match("1234") || f.Match("12a45") {
			t.Errorf("%q: 12345 must match, 1234 and 12a45 not", c.format)
		}
		if got := f.Problem("1234"); got != "4 of 5 digits: add 1" {
			t.Errorf("%q: Problem(1234) = %q, want the count's advice", c.format, got)
		}
	}
	for _, bad := range []string{"0", "33", "-1"} {
		if _, err := recognize.ParseFormatWith(bad, noEngine(t)); err == nil {
			t.Errorf("digit count %q must be out of range", bad)
		}
	}
}

// A count pattern matches exactly what Go's regexp matches for it, anchored or not.
func TestParseFormat_CountPatternsMatchLikeRegexp(t *testing.T) {
	codes := []string{"", "1", "12", "123", "1234", "12345", "123456", "a123", "123a", "a123a", "12a3", "1a234",
		"١٢٣", "12\n", "\n123", "x12345y"}
	for _, class := range []string{`\d`, `[0-9]`} {
		for _, n := range []string{"0", "1", "3", "5"} {
			for _, anchors := range [][2]string{{"", ""}, {"^", ""}, {"", "$"}, {"^", "$"}} {
				p := anchors[0] + class + "{" + n + "}" + anchors[1]
				f, err := recognize.ParseFormatWith(p, noEngine(t))
				if err != nil {
					t.Fatalf("%q: %v", p, err)
				}
				re := regexp.MustCompile(p)
				for _, code := range codes {
					if got, want := f.Match(code), re.MatchString(code); got != want {
						t.Errorf("%q on %q: %v, regexp says %v", p, code, got, want)
					}
				}
			}
		}
	}
}

// Patterns that only look like counts go to the engine.
func TestParseFormat_OtherPatternsGoToTheEngine(t *testing.T) {
	for _, p := range []string{`\d{05}`, `\d{5,}`, `^\d{5}$$`, `^^\d{5}$`, `[0-9]{1001}`, `\d{}`, `\D{5}`, `7\d{4}`, `^(75|77)\d{3}$`} {
		var got []string
		// The engine decides whether the pattern is valid (RE2 rejects {1001}).
		_, _ = recognize.ParseFormatWith(p, func(s string) (recognize.Matcher, error) {
			got = append(got, s)
			return regexp.Compile(s)
		})
		if !slices.Equal(got, []string{p}) {
			t.Errorf("%q: the engine saw %q", p, got)
		}
	}
}

// Pattern formats compile with Go's regexp natively, as before: unanchored unless the pattern says so, and a
// bad pattern is an error that wraps the parser's.
func TestParseFormat_PatternsUseRegexpNatively(t *testing.T) {
	f, err := recognize.ParseFormat(`^7[0-9]{4}$`)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match("70123") || f.Match("80123") || f.Match("701234") {
		t.Error("^7[0-9]{4}$: 70123 must match, 80123 and 701234 not")
	}
	if got := f.Problem("80123"); got != "does not fit the format ^7[0-9]{4}$" {
		t.Errorf("Problem(80123) = %q", got)
	}
	if f, err = recognize.ParseFormat(`7\d`); err != nil || !f.Match("1734") {
		t.Errorf(`7\d must match inside 1734 (unanchored): %v`, err)
	}
	var se *syntax.Error
	if _, err = recognize.ParseFormat("(["); !errors.As(err, &se) {
		t.Errorf("bad pattern: %v, want a wrapped *syntax.Error", err)
	}
	if f, err = recognize.ParseFormat("  "); f != nil || err != nil || !f.Match("anything") {
		t.Errorf("blank format: %v %v, want none", f, err)
	}
}

// The recogniser compiles its default and per-call pattern formats with Config.Patterns.
func TestConfig_PatternsCompileTheRecognisersFormats(t *testing.T) {
	var seen []string
	r := mustRecognizer(t, recognize.Config{Format: "^9$", Patterns: func(p string) (recognize.Matcher, error) {
		seen = append(seen, p)
		return regexp.Compile(p)
	}})
	strokes := []ink.Stroke{{{X: 60, Y: 20}, {X: 60, Y: 100}}}
	res, err := r.Strokes(strokes, 120, 120, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != "1" || res.FormatError == "" {
		t.Errorf("a 1 with format ^9$: code %q, format error %q", res.Code, res.FormatError)
	}
	if res, err = r.Strokes(strokes, 120, 120, recognize.Options{Format: "^[1-3]$"}); err != nil || res.FormatError != "" {
		t.Errorf("a 1 with format ^[1-3]$: %+v %v", res.FormatError, err)
	}
	if !slices.Equal(seen, []string{"^9$", "^[1-3]$"}) {
		t.Errorf("the engine compiled %q", seen)
	}
}
