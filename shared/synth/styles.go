package synth

// extraGlyphs are styles only writers use (Write's random styles stay as they were, so seeded codes in tests
// and samples do not change): shapes MNIST has few of — continental 1 with a long up-stroke, 7 with a curled
// stem, closed 4 with a flat top, 9 with a straight stem, 2 with a flat base, 3 with a flat top, 0 started at
// the side, 5 in one stroke, 6 with an open loop, 8 written as two circles touching.
var extraGlyphs = [10][]glyph{
	0: {
		{{{0.56, 0.5}, {0.5, 0.14}, {0.3, 0.01}, {0.1, 0.14}, {0.04, 0.5}, {0.1, 0.86}, {0.3, 0.99}, {0.5, 0.86}, {0.56, 0.5}, {0.54, 0.34}}},
	},
	1: {
		// continental: long up-stroke from low left to the top, then the stem
		{{{0.02, 0.38}, {0.36, 0.0}, {0.36, 0.0}, {0.34, 1.0}}},
		// flag, stem and base written as separate strokes
		{{{0.1, 0.25}, {0.3, 0.02}}, {{0.32, 0.0}, {0.31, 1.0}}, {{0.1, 1.0}, {0.52, 1.0}}},
	},
	2: {
		{{{0.06, 0.2}, {0.22, 0.03}, {0.44, 0.03}, {0.54, 0.22}, {0.46, 0.44}, {0.04, 0.98}, {0.04, 0.98}, {0.6, 0.98}}},
	},
	3: {
		// round top, pointed middle, round bottom, written hastily
		{{{0.06, 0.16}, {0.3, 0.0}, {0.52, 0.14}, {0.44, 0.36}, {0.22, 0.48}, {0.22, 0.48}, {0.48, 0.58}, {0.56, 0.8}, {0.32, 1.0}, {0.06, 0.86}}},
	},
	4: {
		// closed 4 with the bar overshooting, in two strokes
		{{{0.4, 0.0}, {0.0, 0.64}, {0.0, 0.64}, {0.6, 0.64}}, {{0.42, 0.0}, {0.42, 1.0}}},
		// open 4: short left stroke, bar, tall stem from above the bar
		{{{0.06, 0.0}, {0.02, 0.55}, {0.02, 0.55}, {0.58, 0.55}}, {{0.46, 0.0}, {0.44, 1.0}}},
	},
	5: {
		// one stroke: the bar right to left, down, then the belly
		{{{0.56, 0.02}, {0.12, 0.02}, {0.12, 0.02}, {0.08, 0.44}, {0.08, 0.44}, {0.32, 0.38}, {0.54, 0.54}, {0.54, 0.8}, {0.32, 0.99}, {0.04, 0.88}}},
	},
	6: {
		{{{0.48, 0.04}, {0.22, 0.26}, {0.08, 0.6}, {0.16, 0.94}, {0.36, 0.98}, {0.52, 0.78}, {0.44, 0.56}, {0.24, 0.56}, {0.12, 0.7}}},
	},
	7: {
		// bar, then a stem curling at the foot
		{{{0.02, 0.04}, {0.02, 0.04}, {0.58, 0.02}, {0.58, 0.02}, {0.38, 0.5}, {0.3, 0.8}, {0.32, 1.0}}},
		// continental crossed 7 with a short serif at the left of the bar
		{{{0.02, 0.14}, {0.04, 0.02}, {0.04, 0.02}, {0.58, 0.03}, {0.58, 0.03}, {0.2, 1.0}}, {{0.16, 0.5}, {0.5, 0.5}}},
	},
	8: {
		// two circles drawn separately, touching at the waist
		{{{0.3, 0.0}, {0.1, 0.12}, {0.1, 0.34}, {0.3, 0.46}, {0.5, 0.34}, {0.5, 0.12}, {0.3, 0.0}, {0.28, 0.01}}, {{0.3, 0.46}, {0.06, 0.6}, {0.06, 0.86}, {0.3, 1.0}, {0.54, 0.86}, {0.54, 0.6}, {0.3, 0.46}, {0.28, 0.47}}},
	},
	9: {
		// loop then a straight stem from the loop's right side, slightly slanted
		{{{0.5, 0.16}, {0.3, 0.02}, {0.1, 0.14}, {0.12, 0.38}, {0.32, 0.46}, {0.52, 0.3}}, {{0.52, 0.04}, {0.44, 1.0}}},
	},
}

func numWriterStyles(d int) int { return len(glyphs[d]) + len(extraGlyphs[d]) }

func writerGlyph(d, s int) glyph {
	if s < len(glyphs[d]) {
		return glyphs[d][s]
	}
	return extraGlyphs[d][s-len(glyphs[d])]
}
