package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"digitpad/shared/ink"
)

// Params place and perturb a written code. The zero value writes 100-pixel digits at (0,0) with no jitter,
// no gap and seeded random styles; Defaults is a friendlier start.
type Params struct {
	// Seed makes the jitter and style choices reproducible.
	Seed uint64
	// X, Y is the top-left corner of the first digit.
	X, Y float64
	// Height is the digit height in canvas pixels; zero means 100.
	Height float64
	// Gap is the horizontal gap between digits as a fraction of Height; negative values make digits overlap
	// (about -0.05 makes neighbours touch).
	Gap float64
	// Slant shears digits to the right (x grows by Slant·Height from bottom to top).
	Slant float64
	// Jitter scales the random variation of size, slant, rotation, baseline and wobble: 0 none, 1 messy.
	Jitter float64
	// Step is the spacing of pointer samples along the path in pixels; zero means 3. Large steps imitate
	// fast pointer moves that the rasteriser must join.
	Step float64
	// Hurried writing: more jitter, rounded corners, overshoot at the ends, sparse samples.
	Hurried bool
	// Styles picks the style of each digit (see NumStyles and the named style constants); a negative or
	// missing entry means a seeded random style.
	Styles []int
}

// Defaults returns Params for a natural-looking code: 100-pixel digits, a gap of a quarter height, moderate
// jitter, random styles.
func Defaults() Params {
	return Params{Height: 100, Gap: 0.25, Jitter: 0.5, Step: 3}
}

// Code is a written code: its strokes in canvas coordinates and the box of each digit's pen path.
type Code struct {
	Text    string
	Strokes []ink.Stroke
	// Boxes are the digits' pen-path bounding boxes (the ink extends by half the pen width beyond them).
	Boxes []image.Rectangle
	// Digit[i] is the index into Boxes of the digit stroke i belongs to.
	Digit []int
}

// Width is the horizontal extent of the code's pen paths (from the first box's left to the last box's right).
func (c *Code) Width() float64 {
	if len(c.Boxes) == 0 {
		return 0
	}
	return float64(c.Boxes[len(c.Boxes)-1].Max.X - c.Boxes[0].Min.X)
}

// Paths returns the strokes as JSON-friendly [stroke][point][x,y] arrays, for JavaScript tests that replay
// the same paths with a pointer.
func (c *Code) Paths() [][][2]float64 {
	out := make([][][2]float64, len(c.Strokes))
	for i, s := range c.Strokes {
		out[i] = make([][2]float64, len(s))
		for j, p := range s {
			out[i][j] = [2]float64{p.X, p.Y}
		}
	}
	return out
}

// Write writes a code of digits with the stroke font.
func Write(text string, p Params) (*Code, error) {
	if p.Height == 0 {
		p.Height = 100
	}
	if p.Step == 0 {
		p.Step = 3
	}
	if p.Height < 0 || p.Step < 0 || math.IsNaN(p.Height+p.Step+p.Gap+p.Slant+p.Jitter+p.X+p.Y) {
		return nil, fmt.Errorf("synth: invalid params %+v", p)
	}
	jit := p.Jitter
	step := p.Step
	if p.Hurried {
		jit = jit*1.5 + 0.3
		step = math.Max(step, 0.12*p.Height)
	}
	c := &Code{Text: text}
	x := p.X
	for i, r := range text {
		d := int(r - '0')
		if d < 0 || d > 9 {
			return nil, fmt.Errorf("synth: %q is not a digit string", text)
		}
		rng := rand.New(rand.NewPCG(p.Seed, uint64(i)))
		style := -1
		if i < len(p.Styles) {
			style = p.Styles[i]
		}
		g, named := namedGlyph(d, style)
		if !named {
			if style < 0 || style >= len(glyphs[d]) {
				style = rng.IntN(len(glyphs[d]))
			}
			g = glyphs[d][style]
		}
		strokes := writeGlyph(g, p, jit, p.Hurried, rng)
		box := pathBox(strokes)
		// Lay digits out by their actual extent so a narrow 1 does not leave a hole.
		dx := x - box.x0
		for si := range strokes {
			for pi := range strokes[si] {
				strokes[si][pi].x += dx
			}
		}
		box.x0 += dx
		box.x1 += dx
		for _, s := range strokes {
			c.Strokes = append(c.Strokes, sample(s, step))
			c.Digit = append(c.Digit, i)
		}
		c.Boxes = append(c.Boxes, image.Rect(int(math.Floor(box.x0)), int(math.Floor(box.y0)),
			int(math.Ceil(box.x1)), int(math.Ceil(box.y1))))
		x = box.x1 + p.Gap*p.Height
	}
	return c, nil
}

type rect struct{ x0, y0, x1, y1 float64 }

func pathBox(strokes [][]pt) rect {
	b := rect{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, s := range strokes {
		for _, q := range s {
			b.x0, b.y0 = math.Min(b.x0, q.x), math.Min(b.y0, q.y)
			b.x1, b.y1 = math.Max(b.x1, q.x), math.Max(b.y1, q.y)
		}
	}
	return b
}

// writeGlyph turns a template into dense canvas-space polylines: jitter on the control points, a spline
// through them, then the digit's affine transform and a slow wobble.
func writeGlyph(g glyph, p Params, jit float64, hurried bool, rng *rand.Rand) [][]pt {
	H := p.Height
	sx := 1 + jit*0.12*rng.NormFloat64()
	sy := 1 + jit*0.06*rng.NormFloat64()
	slant := p.Slant + jit*0.1*rng.NormFloat64()
	rot := jit * 0.05 * rng.NormFloat64()
	base := jit * 0.05 * rng.NormFloat64() * H
	cr, sr := math.Cos(rot), math.Sin(rot)
	wobA := jit * 0.012 * H
	wobF := 2 + 2*rng.Float64()
	wobP := rng.Float64() * 2 * math.Pi

	var out [][]pt
	for _, s := range g {
		ctrl := make([]pt, len(s))
		for i, q := range s {
			ctrl[i] = pt{q.x + jit*0.02*rng.NormFloat64(), q.y + jit*0.02*rng.NormFloat64()}
			// Keep repeated points (corners) repeated.
			if i > 0 && s[i] == s[i-1] {
				ctrl[i] = ctrl[i-1]
			}
		}
		if hurried {
			ctrl = roundCorners(ctrl)
			ctrl = overshoot(ctrl, 0.06*rng.Float64())
		}
		dense := spline(ctrl, 12)
		for i, q := range dense {
			// rotate about the box centre, then scale, shear and place
			ux, uy := q.x-0.3, q.y-0.5
			ux, uy = ux*cr-uy*sr, ux*sr+uy*cr
			ux, uy = (ux+0.3)*sx, (uy+0.5)*sy
			ux += slant * (1 - uy)
			w := wobA * math.Sin(wobF*float64(i)/float64(len(dense))*2*math.Pi+wobP)
			dense[i] = pt{p.X + ux*H + w, p.Y + base + uy*H + 0.5*w}
		}
		out = append(out, dense)
	}
	return out
}

// roundCorners drops repeated control points so the spline glides through corners, as hurried hands do.
func roundCorners(c []pt) []pt {
	out := c[:0:0]
	for i, q := range c {
		if i > 0 && q == c[i-1] {
			continue
		}
		out = append(out, q)
	}
	return out
}

// overshoot extends the last segment by a fraction of the unit box.
func overshoot(c []pt, f float64) []pt {
	if len(c) < 2 {
		return c
	}
	a, b := c[len(c)-2], c[len(c)-1]
	d := math.Hypot(b.x-a.x, b.y-a.y)
	if d == 0 {
		return c
	}
	return append(c, pt{b.x + (b.x-a.x)/d*f, b.y + (b.y-a.y)/d*f})
}

// spline samples a Catmull-Rom curve through the control points, n samples per span.
func spline(c []pt, n int) []pt {
	if len(c) < 2 {
		return append([]pt(nil), c...)
	}
	at := func(i int) pt { return c[min(max(i, 0), len(c)-1)] }
	var out []pt
	for i := 0; i+1 < len(c); i++ {
		p0, p1, p2, p3 := at(i-1), at(i), at(i+1), at(i+2)
		for k := 0; k < n; k++ {
			t := float64(k) / float64(n)
			t2, t3 := t*t, t*t*t
			f := func(a, b, c, d float64) float64 {
				return 0.5 * (2*b + (-a+c)*t + (2*a-5*b+4*c-d)*t2 + (-a+3*b-3*c+d)*t3)
			}
			out = append(out, pt{f(p0.x, p1.x, p2.x, p3.x), f(p0.y, p1.y, p2.y, p3.y)})
		}
	}
	return append(out, c[len(c)-1])
}

// sample resamples a dense polyline at equal arc-length steps, like a pointer reporting every few pixels.
func sample(s []pt, step float64) ink.Stroke {
	if len(s) == 0 {
		return nil
	}
	out := ink.Stroke{{X: s[0].x, Y: s[0].y}}
	acc := 0.0
	for i := 1; i < len(s); i++ {
		a, b := s[i-1], s[i]
		d := math.Hypot(b.x-a.x, b.y-a.y)
		for acc+d >= step && d > 0 {
			t := (step - acc) / d
			q := pt{a.x + t*(b.x-a.x), a.y + t*(b.y-a.y)}
			out = append(out, ink.Point{X: q.x, Y: q.y})
			d -= step - acc
			a = q
			acc = 0
		}
		acc += d
	}
	last := s[len(s)-1]
	if lp := out[len(out)-1]; lp.X != last.x || lp.Y != last.y {
		out = append(out, ink.Point{X: last.x, Y: last.y})
	}
	return out
}

// Dotted turns strokes into dots every spacing pixels along the paths, one single-point stroke per dot: what
// a paint program that stamps one brush per frame leaves from a fast stroke.
func Dotted(strokes []ink.Stroke, spacing float64) []ink.Stroke {
	var out []ink.Stroke
	for _, s := range strokes {
		dense := make([]pt, len(s))
		for i, q := range s {
			dense[i] = pt{q.X, q.Y}
		}
		for _, q := range sample(dense, spacing) {
			out = append(out, ink.Stroke{q})
		}
	}
	return out
}

// Fit returns p with X, Y set so that text written with p is centred on a w×h canvas, measured by writing
// it once.
func Fit(text string, p Params, w, h int) (Params, error) { return FitWithin(text, p, w, h, 0) }

// FitWithin is Fit for a pad the text must stay on: when the written text is wider than fill·w (0 < fill ≤ 1;
// 0 never shrinks), its height is scaled so that it is about fill·w wide, and it is centred as written at that
// height. Slanted writing is wider than its digit count suggests (Centered's estimate ignores slant: at a slant
// of 0.8 each digit is about 1.3 heights wide), so a pad that must show every digit places codes with this.
func FitWithin(text string, p Params, w, h int, fill float64) (Params, error) {
	q := p
	q.X, q.Y = 0, 0
	c, err := Write(text, q)
	if err != nil {
		return p, err
	}
	if cw := c.Width(); fill > 0 && cw > fill*float64(w) {
		if p.Height == 0 {
			p.Height = Defaults().Height
		}
		p.Height *= fill * float64(w) / cw
		q = p
		q.X, q.Y = 0, 0
		if c, err = Write(text, q); err != nil {
			return p, err
		}
	}
	if len(c.Boxes) == 0 {
		return p, nil
	}
	b := c.Boxes[0]
	for _, r := range c.Boxes[1:] {
		b = b.Union(r)
	}
	p.X = (float64(w)-float64(b.Dx()))/2 - float64(b.Min.X)
	p.Y = (float64(h)-float64(b.Dy()))/2 - float64(b.Min.Y)
	return p, nil
}

// Centered returns p with X, Y set so a code of n digits written with p sits in the middle of a w×h canvas.
// It estimates the width from the font's average digit width, so it is approximate.
func Centered(p Params, n, w, h int) Params {
	H := p.Height
	if H == 0 {
		H = 100
	}
	width := float64(n)*0.5*H + float64(n-1)*p.Gap*H
	p.X = (float64(w) - width) / 2
	p.Y = (float64(h) - H) / 2
	return p
}
