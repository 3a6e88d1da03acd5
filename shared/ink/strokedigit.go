package ink

import (
	"image"
	"math"
)

// StrokesDigit normalises pen paths (mask pixels) as one digit, rendered from the paths with the MNIST-like pen
// as Segment renders the digits of a stroke mask. codeH is the code's ink height: a mark shorter than a quarter
// of it (a dot, a dash) is not blown up to full size. Box is the paths' ink box for a pen of diameter pen,
// clipped to a w×h mask. The paths must hold at least one point.
func StrokesDigit(paths []Stroke, codeH, pen float64, w, h int, opt Options) Digit {
	x0, y0, x1, y1 := pathBounds(paths)
	r := pen / 2
	box := image.Rect(int(math.Floor(x0-r)), int(math.Floor(y0-r)), int(math.Ceil(x1+r)), int(math.Ceil(y1+r)))
	return Digit{
		Box:   box.Intersect(image.Rect(0, 0, w, h)),
		Input: fromStrokes(paths, opt.strokeWidth(), 0.25*codeH),
	}
}

// pathBounds is the bounding box of the points of pen paths (+Inf, -Inf when there are none).
func pathBounds(paths []Stroke) (x0, y0, x1, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range paths {
		a, b, c, d := StrokeBounds(s)
		x0, y0, x1, y1 = min(x0, a), min(y0, b), max(x1, c), max(y1, d)
	}
	return x0, y0, x1, y1
}
