package recognize

import "digitpad/shared/ink"

// StrokesMask rasterises strokes drawn on a w×h canvas the way recognition sees them: on the working raster
// (WorkScale, WorkSize), with ink's pen. It returns the mask and the scale from canvas pixels to it. Every
// shell's strokes go through it (Recognizer.Strokes, the server, the wasm bridge), and the ink PNG of a
// feedback record is this mask, so a record shows exactly what the model read.
func StrokesMask(strokes []ink.Stroke, w, h int) (*ink.Mask, float64, error) {
	s := WorkScale(h)
	if s != 1 {
		scaled := make([]ink.Stroke, len(strokes))
		for i, st := range strokes {
			scaled[i] = make(ink.Stroke, len(st))
			for k, p := range st {
				scaled[i][k] = ink.Point{X: p.X * s, Y: p.Y * s}
			}
		}
		strokes = scaled
	}
	sw, sh := WorkSize(w, h, s)
	m, err := ink.MaskFromStrokes(strokes, sw, sh)
	if err != nil {
		return nil, 0, err
	}
	return m, s, nil
}
