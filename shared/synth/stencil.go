package synth

// Stencil is the first style number of the stencil hand: Params.Styles entry Stencil writes digit d along the
// segments of a postal-code stencil (the dotted template printed on envelopes in some countries, which writers
// trace): straight strokes along a box of two cells and one diagonal per cell, with sharp corners. Each digit is
// plain to a person — a box 0, a 1 with a long flag, a 7 whose stem bends into a diagonal, an 8 as a box with a
// middle bar — but none is a shape of the stroke font, the writers or MNIST. Write's random style choice never
// picks it, so existing writers draw as before.
const Stencil = 100

// The stencil's box: left, right, top, middle and bottom in the glyph unit box.
const (
	stL, stR      = 0.06, 0.54
	stT, stM, stB = 0.02, 0.5, 0.98
)

// stencilGlyphs[d] is digit d in the stencil hand, written as a clerk traces it (one stroke where the pen need
// not lift; a repeated point is a corner).
var stencilGlyphs = [10]glyph{
	0: {{{stL, stT}, {stL, stT}, {stL, stB}, {stL, stB}, {stR, stB}, {stR, stB}, {stR, stT}, {stR, stT}, {stL, stT}}},
	1: {{{stL, stM}, {stR, stT}, {stR, stT}, {stR, stB}}},
	2: {{{stL, stT}, {stR, stT}, {stR, stT}, {stR, stM}, {stR, stM}, {stL, stB}, {stL, stB}, {stR, stB}}},
	3: {{{stL, stT}, {stR, stT}, {stR, stT}, {stL, stM}, {stL, stM}, {stR, stM}, {stR, stM}, {stR, stB}, {stR, stB}, {stL, stB}}},
	4: {{{stL, stT}, {stL, stM}, {stL, stM}, {stR, stM}}, {{stR, stT}, {stR, stB}}},
	5: {{{stR, stT}, {stL, stT}, {stL, stT}, {stL, stM}, {stL, stM}, {stR, stM}, {stR, stM}, {stR, stB}, {stR, stB}, {stL, stB}}},
	6: {{{stR, stT}, {stL, stM}, {stL, stM}, {stL, stB}, {stL, stB}, {stR, stB}, {stR, stB}, {stR, stM}, {stR, stM}, {stL, stM}}},
	7: {{{stL, stT}, {stR, stT}, {stR, stT}, {stR, stM}, {stR, stM}, {stL, stB}}},
	8: {{{stL, stT}, {stL, stT}, {stL, stB}, {stL, stB}, {stR, stB}, {stR, stB}, {stR, stT}, {stR, stT}, {stL, stT}}, {{stL, stM}, {stR, stM}}},
	9: {{{stR, stM}, {stL, stM}, {stL, stM}, {stL, stT}, {stL, stT}, {stR, stT}, {stR, stT}, {stR, stM}, {stR, stM}, {stL, stB}}},
}

// namedGlyph is the glyph of a style number outside the stroke font's own (Stencil), if it names one.
func namedGlyph(d, style int) (glyph, bool) {
	if style == Stencil {
		return stencilGlyphs[d], true
	}
	return nil, false
}
