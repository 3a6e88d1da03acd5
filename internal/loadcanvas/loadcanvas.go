// Package loadcanvas builds the canvases the serving benchmarks and the load run send, so every figure in
// server/README.md names a payload that one function produces: a pad's 280×280 RGB snapshot of one digit, a
// 640×200 RGB snapshot of a five-digit code, and a small 76×64 grey digit. The codes are written by
// shared/synth with a fixed seed; the PNGs are encoded once by image/png.
package loadcanvas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"digitpad/shared/protocol"
	"digitpad/shared/synth"
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
