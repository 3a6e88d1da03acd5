package synth

import "image"

// Invert returns a copy of a grey canvas with light and dark swapped (light ink on a dark ground).
func Invert(g *image.Gray) *image.Gray {
	inv := image.NewGray(g.Rect)
	for k, v := range g.Pix {
		inv.Pix[k] = 255 - v
	}
	return inv
}
