package ink

// The default pen: strokes are rasterised for the model with it (MaskFromStrokes), feedback records' ink images
// are drawn with it (StrokesPNG), and the pads draw the clerk's ink on screen with it (the kiosk calls
// PenWidth; the web pad gets these numbers in its config.json from package web), so what a clerk sees is what
// the model gets.
const (
	// PenMinWidth is the narrowest default pen, in canvas pixels.
	PenMinWidth = 2.0
	// PenSideDivisor: the default pen is the canvas's shorter side divided by this.
	PenSideDivisor = 40.0
)

// PenWidth is the default pen width in pixels for a w×h canvas: max(PenMinWidth, min(w, h)/PenSideDivisor).
func PenWidth(w, h int) float64 {
	return max(PenMinWidth, float64(min(w, h))/PenSideDivisor)
}
