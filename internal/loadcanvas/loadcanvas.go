// Package loadcanvas builds the canvases the serving benchmarks and the load run send, so every figure in
// server/README.md names a payload that one function produces: a pad's 280×280 RGB snapshot of one digit, a
// 640×200 RGB snapshot of a five-digit code, and a small 76×64 grey digit. The codes are written by
// shared/synth with a fixed seed; the PNGs are encoded once by image/png.
package loadcanvas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"digitpad/shared/protocol"
	"digitpad/shared/synth"
	"digitpad/train/mnist"
)

// Canvas is one pre-encoded request payload.
type Canvas struct {
	// Name says size, colour model and digit count, e.g. "280x280-rgb-1digit".
	Name string
	// Code is the text written on it.
	Code string
	W, H int
	// PNG is the raw image/png request body.
	PNG []byte
	// Strokes is the same code as a protocol.Predict JSON body (what the web pad sends).
	Strokes []byte
}

// Spec describes a canvas to build.
type Spec struct {
	Code string
	W, H int
	// Gray encodes an 8-bit grey PNG; otherwise an opaque RGB PNG, as a browser canvas snapshot is.
	Gray bool
	// Pen is the pen diameter in pixels; zero means the web pad's max(2, min(W,H)/40).
	Pen float64
}

// Standard returns the three canvases of the serving goals (issue 16): 280×280 RGB one digit, 640×200 RGB
// five digits, 76×64 grey one digit.
func Standard() ([]*Canvas, error) {
	specs := []Spec{
		{Code: "8", W: 280, H: 280},
		{Code: "80331", W: 640, H: 200},
		{Code: "8", W: 76, H: 64, Gray: true, Pen: 3.2},
	}
	out := make([]*Canvas, len(specs))
	for i, s := range specs {
		c, err := Build(s)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// Build writes the spec's code centred on the canvas, digits 60% of its height.
func Build(s Spec) (*Canvas, error) {
	if s.Code == "" || s.W <= 0 || s.H <= 0 {
		return nil, fmt.Errorf("loadcanvas: bad spec %+v", s)
	}
	p := synth.Defaults()
	p.Height = 0.6 * float64(s.H)
	p = synth.Centered(p, len(s.Code), s.W, s.H)
	p.Seed = 1
	code, err := synth.Write(s.Code, p)
	if err != nil {
		return nil, fmt.Errorf("loadcanvas: %w", err)
	}
	pen := s.Pen
	if pen == 0 {
		pen = max(2, float64(min(s.W, s.H))/40)
	}
	rgba, err := synth.Render(code.Strokes, s.W, s.H, synth.Pen{Width: pen, Background: color.White})
	if err != nil {
		return nil, fmt.Errorf("loadcanvas: %w", err)
	}
	var img image.Image = rgba
	kind := "rgb"
	if s.Gray {
		g := image.NewGray(rgba.Bounds())
		draw.Draw(g, g.Bounds(), rgba, image.Point{}, draw.Src)
		img, kind = g, "gray"
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("loadcanvas: encode: %w", err)
	}
	st, err := json.Marshal(protocol.Predict{Strokes: code.Paths(), Width: s.W, Height: s.H})
	if err != nil {
		return nil, fmt.Errorf("loadcanvas: %w", err)
	}
	digits := "digits"
	if len(s.Code) == 1 {
		digits = "digit"
	}
	return &Canvas{
		Name: fmt.Sprintf("%dx%d-%s-%d%s", s.W, s.H, kind, len(s.Code), digits),
		Code: s.Code, W: s.W, H: s.H, PNG: buf.Bytes(), Strokes: st,
	}, nil
}

// MNISTName is the 76×64 grey canvas that holds an MNIST test digit (issue 16's "76×64 grey MNIST digit").
const MNISTName = "76x64-gray-mnist"

// mnistScale is how many canvas pixels an MNIST pixel becomes: the 28×28 frame is drawn 56×56, about the size of
// the synthetic 76×64 digit's box.
const mnistScale = 2

// MNISTPNG draws MNIST sample i of set dark on white, each pixel as a 2×2 square, centred on a 76×64 grey
// canvas, and encodes it as a PNG.
func MNISTPNG(set *mnist.Set, i int) ([]byte, error) {
	const w, h = 76, 64
	g := image.NewGray(image.Rect(0, 0, w, h))
	for k := range g.Pix {
		g.Pix[k] = 255
	}
	x0, y0 := (w-set.Cols*mnistScale)/2, (h-set.Rows*mnistScale)/2
	for y, row := 0, set.Image(i); y < set.Rows*mnistScale; y++ {
		for x := 0; x < set.Cols*mnistScale; x++ {
			v := row[(y/mnistScale)*set.Cols+x/mnistScale]
			g.Pix[(y0+y)*g.Stride+x0+x] = 255 - uint8(v*255+0.5)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		return nil, fmt.Errorf("loadcanvas: mnist canvas: %w", err)
	}
	return buf.Bytes(), nil
}

// MNIST is the MNISTName canvas: the first digit of the MNIST test set (found as train/mnist finds it; nothing
// is downloaded) labelled 8, the digit the other canvases carry. It has no strokes.
func MNIST(ctx context.Context) (*Canvas, error) {
	dir, err := mnist.Locate(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("loadcanvas: %w", err)
	}
	set, err := mnist.LoadTest(dir)
	if err != nil {
		return nil, fmt.Errorf("loadcanvas: %w", err)
	}
	for i, l := range set.Labels {
		if l == 8 {
			b, err := MNISTPNG(set, i)
			if err != nil {
				return nil, err
			}
			return &Canvas{Name: MNISTName, Code: "8", W: 76, H: 64, PNG: b}, nil
		}
	}
	return nil, errors.New("loadcanvas: mnist: no 8 in the test set")
}
