// Package synth makes synthetic pad input for tests, samples and benchmarks: postal codes written with a
// hand-made stroke font and seeded jitter, rendered to canvases of either polarity or onto transparency, and
// real MNIST digits composited into code images. Everything is deterministic given a seed.
package synth

// A glyph is a digit template in a unit box: x in 0..0.6, y in 0..1 (top to bottom). Each stroke is a list
// of control points passed through by a Catmull-Rom spline; a repeated point makes a sharp corner.
type glyph [][]pt

type pt struct{ x, y float64 }

// glyphs[d] lists the styles of digit d.
var glyphs = [10][]glyph{
	0: {
		{{{0.32, 0.02}, {0.12, 0.15}, {0.03, 0.45}, {0.08, 0.8}, {0.3, 0.99}, {0.52, 0.82}, {0.58, 0.5}, {0.5, 0.15}, {0.32, 0.02}, {0.22, 0.08}}},
		{{{0.45, 0.08}, {0.3, 0.01}, {0.12, 0.12}, {0.06, 0.5}, {0.14, 0.88}, {0.32, 0.99}, {0.5, 0.85}, {0.55, 0.45}, {0.5, 0.12}, {0.36, 0.03}}},
	},
	1: {
		{{{0.32, 0.0}, {0.3, 1.0}}},
		{{{0.12, 0.22}, {0.34, 0.0}, {0.34, 0.0}, {0.33, 1.0}}},
		{{{0.14, 0.2}, {0.32, 0.0}, {0.32, 0.0}, {0.31, 1.0}}, {{0.12, 1.0}, {0.5, 1.0}}},
	},
	2: {
		{{{0.04, 0.22}, {0.18, 0.04}, {0.38, 0.01}, {0.54, 0.16}, {0.5, 0.4}, {0.28, 0.66}, {0.02, 0.98}, {0.02, 0.98}, {0.6, 0.97}}},
		{{{0.05, 0.18}, {0.28, 0.0}, {0.52, 0.12}, {0.48, 0.42}, {0.1, 0.92}, {0.2, 0.84}, {0.34, 0.92}, {0.34, 0.92}, {0.46, 1.0}, {0.6, 0.95}}},
	},
	3: {
		{{{0.04, 0.12}, {0.28, 0.0}, {0.5, 0.1}, {0.5, 0.3}, {0.24, 0.46}, {0.24, 0.46}, {0.5, 0.58}, {0.58, 0.8}, {0.36, 0.99}, {0.04, 0.9}}},
		{{{0.04, 0.02}, {0.56, 0.02}, {0.56, 0.02}, {0.26, 0.4}, {0.26, 0.4}, {0.52, 0.55}, {0.58, 0.8}, {0.34, 0.99}, {0.03, 0.88}}},
	},
	4: {
		// open 4: an L and a separate stem crossing its bar
		{{{0.1, 0.0}, {0.1, 0.0}, {0.04, 0.62}, {0.04, 0.62}, {0.6, 0.6}}, {{0.44, 0.18}, {0.44, 1.0}}},
		// closed 4 in one stroke
		{{{0.42, 1.0}, {0.44, 0.0}, {0.44, 0.0}, {0.01, 0.66}, {0.01, 0.66}, {0.6, 0.66}}},
	},
	5: {
		{{{0.1, 0.03}, {0.1, 0.03}, {0.06, 0.44}, {0.06, 0.44}, {0.3, 0.38}, {0.52, 0.52}, {0.56, 0.76}, {0.36, 0.98}, {0.04, 0.9}}, {{0.1, 0.03}, {0.55, 0.02}}},
		// the bar written apart, clear of the body
		{{{0.12, 0.16}, {0.12, 0.16}, {0.08, 0.48}, {0.08, 0.48}, {0.3, 0.42}, {0.52, 0.56}, {0.56, 0.78}, {0.36, 0.99}, {0.04, 0.9}}, {{0.16, 0.0}, {0.58, -0.01}}},
	},
	6: {
		{{{0.5, 0.02}, {0.26, 0.18}, {0.08, 0.5}, {0.08, 0.8}, {0.28, 1.0}, {0.5, 0.88}, {0.53, 0.66}, {0.3, 0.52}, {0.09, 0.64}}},
		{{{0.46, 0.0}, {0.16, 0.35}, {0.06, 0.72}, {0.2, 0.98}, {0.44, 0.95}, {0.54, 0.74}, {0.38, 0.55}, {0.14, 0.6}}},
	},
	7: {
		{{{0.02, 0.03}, {0.02, 0.03}, {0.58, 0.02}, {0.58, 0.02}, {0.22, 1.0}}},
		{{{0.02, 0.03}, {0.02, 0.03}, {0.58, 0.02}, {0.58, 0.02}, {0.22, 1.0}}, {{0.16, 0.52}, {0.52, 0.5}}},
		// two strokes that do not meet: bar, then the stem started apart
		{{{0.0, 0.02}, {0.5, 0.02}}, {{0.6, 0.14}, {0.24, 1.0}}},
	},
	8: {
		{{{0.52, 0.12}, {0.3, 0.0}, {0.08, 0.12}, {0.12, 0.32}, {0.3, 0.47}, {0.52, 0.64}, {0.55, 0.86}, {0.3, 1.0}, {0.05, 0.86}, {0.08, 0.64}, {0.3, 0.47}, {0.48, 0.32}, {0.52, 0.12}, {0.48, 0.05}}},
		// two loops
		{{{0.3, 0.46}, {0.1, 0.3}, {0.12, 0.08}, {0.3, 0.0}, {0.48, 0.08}, {0.5, 0.3}, {0.3, 0.46}, {0.25, 0.5}}, {{0.3, 0.46}, {0.06, 0.62}, {0.06, 0.86}, {0.3, 1.0}, {0.54, 0.86}, {0.54, 0.62}, {0.3, 0.46}, {0.32, 0.47}}},
	},
	9: {
		{{{0.52, 0.2}, {0.32, 0.02}, {0.1, 0.12}, {0.1, 0.36}, {0.3, 0.46}, {0.52, 0.3}, {0.52, 0.3}, {0.52, 0.02}, {0.52, 0.02}, {0.5, 1.0}}},
		{{{0.54, 0.16}, {0.3, 0.0}, {0.08, 0.14}, {0.12, 0.4}, {0.34, 0.44}, {0.54, 0.22}, {0.54, 0.22}, {0.46, 0.7}, {0.3, 1.0}}},
	},
}

// NumStyles is the number of handwriting styles of digit d (0 for a non-digit).
func NumStyles(d int) int {
	if d < 0 || d > 9 {
		return 0
	}
	return len(glyphs[d])
}

// Named styles, for tests that need a particular way of writing.
const (
	OneStroke    = 0 // 1 as a plain bar
	OneFlag      = 1 // 1 with a flag
	OneFlagBase  = 2 // 1 with flag and base
	ThreeFlatTop = 1 // 3 with a flat top and a straight diagonal
	FourOpen     = 0 // 4 as an L plus a stem
	FourClosed   = 1 // 4 in one stroke
	FiveJoined   = 0 // 5 whose bar touches the body
	FiveDetached = 1 // 5 whose bar is written apart
	SevenPlain   = 0 // 7 in one stroke
	SevenBar     = 1 // 7 with a crossbar
	SevenApart   = 2 // 7 as a bar and a stem that do not meet
)
