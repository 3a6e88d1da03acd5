package synth

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// CanvasStyle is how Upscale paints a 28×28 digit image onto a canvas.
type CanvasStyle int

// Canvas styles: what a pad or a scanner hands over.
const (
	DarkOnWhiteRGB  CanvasStyle = iota // black ink on white, RGBA
	DarkOnWhiteGrey                    // black ink on white, 8-bit grey
	WhiteOnBlackRGB                    // white ink on black, RGBA
)

// ParseCanvasStyle reads "rgb", "grey" or "inverse".
func ParseCanvasStyle(s string) (CanvasStyle, error) {
	switch s {
	case "rgb", "":
		return DarkOnWhiteRGB, nil
	case "grey", "gray":
		return DarkOnWhiteGrey, nil
	case "inverse":
		return WhiteOnBlackRGB, nil
	}
	return 0, fmt.Errorf("synth: canvas style %q: want rgb, grey or inverse", s)
}

// Upscale draws a 28×28 image (row-major, 0..1, ink = 1) onto a w×h canvas: the whole 28×28 frame scaled
// bilinearly by min(w,h)/28 and centred, the way a digit image is blown up to a canvas snapshot. It is how the
// image pipeline is checked against MNIST: read back, the canvas should give the model what the raw image does.
func Upscale(d *[784]float32, w, h int, style CanvasStyle) (image.Image, error) {
	if w < 28 || h < 28 || w*h > 1<<24 {
		return nil, fmt.Errorf("synth: upscale canvas %dx%d", w, h)
	}
	s := float64(min(w, h)) / 28
	ox, oy := (float64(w)-28*s)/2, (float64(h)-28*s)/2
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= 28 || y >= 28 {
			return 0
		}
		return float64(d[y*28+x])
	}
	var grey *image.Gray
	var rgba *image.RGBA
	if style == DarkOnWhiteGrey {
		grey = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		rgba = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	for y := 0; y < h; y++ {
		sy := (float64(y)+0.5-oy)/s - 0.5
		y0 := int(math.Floor(sy))
		fy := sy - float64(y0)
		for x := 0; x < w; x++ {
			sx := (float64(x)+0.5-ox)/s - 0.5
			x0 := int(math.Floor(sx))
			fx := sx - float64(x0)
			v := (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
			c := uint8(math.Round(255 * math.Max(0, math.Min(1, v))))
			switch style {
			case DarkOnWhiteGrey:
				grey.Pix[y*grey.Stride+x] = 255 - c
			case WhiteOnBlackRGB:
				rgba.SetRGBA(x, y, color.RGBA{c, c, c, 255})
			default:
				rgba.SetRGBA(x, y, color.RGBA{255 - c, 255 - c, 255 - c, 255})
			}
		}
	}
	if grey != nil {
		return grey, nil
	}
	return rgba, nil
}
