package monitor

import "math"

// Input features of one digit, computed from what every prediction has: the 28×28 model input (0..1, ink = 1)
// and the digit's box on the canvas. The names are the keys of Profile.Features and of the per-feature tests.
var featureNames = [...]string{"ink_density", "box_aspect", "stroke_width", "slant", "centre_offset"}

const nFeatures = len(featureNames)

// digitsPerCode is the code-level feature: digits found on one canvas.
const digitsPerCode = "digits_per_code"

// digitFeatures computes the per-digit input features:
//   - ink_density: mean ink of the 28×28 input (how much of the frame the digit covers);
//   - box_aspect: width/height of the digit's box on the canvas;
//   - stroke_width: ink per pixel of ink boundary in the 28×28 input (thick pens survive normalisation partly);
//   - slant: shear of the ink, the second-moment ratio mu11/mu02 (positive leans right);
//   - centre_offset: horizontal distance of the centre of mass from the ink's bounding-box centre, in pixels.
func digitFeatures(in *[784]float32, box [4]int) [nFeatures]float64 {
	var f [nFeatures]float64
	var sum, sx, sy float64
	x0, y0, x1, y1 := 28, 28, -1, -1
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			v := float64(in[y*28+x])
			if v <= 0 {
				continue
			}
			sum += v
			sx += v * float64(x)
			sy += v * float64(y)
			if v > 0.3 {
				x0, y0 = min(x0, x), min(y0, y)
				x1, y1 = max(x1, x), max(y1, y)
			}
		}
	}
	f[0] = sum / 784
	if h := box[3] - box[1]; h > 0 {
		f[1] = float64(box[2]-box[0]) / float64(h)
	}
	if sum == 0 {
		return f
	}
	cx, cy := sx/sum, sy/sum
	var mu11, mu02, edge float64
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			v := float64(in[y*28+x])
			if x < 27 {
				edge += math.Abs(v - float64(in[y*28+x+1]))
			}
			if y < 27 {
				edge += math.Abs(v - float64(in[(y+1)*28+x]))
			}
			if v <= 0 {
				continue
			}
			dx, dy := float64(x)-cx, float64(y)-cy
			mu11 += v * dx * dy
			mu02 += v * dy * dy
		}
	}
	if edge > 0 {
		f[2] = 2 * sum / edge
	}
	if mu02 > 0 {
		f[3] = -mu11 / mu02 // image y grows downwards: a right lean has negative mu11
	}
	if x1 >= x0 {
		f[4] = cx - float64(x0+x1)/2
	}
	return f
}

// entropy is the Shannon entropy (nats) of a probability vector.
func entropy(p *[10]float64) float64 {
	h := 0.0
	for _, v := range p {
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	return h
}
