package ink_test

import (
	"fmt"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

func TestDebugPlan(t *testing.T) {
	p := codeParams(4, 5, 120, 640, 200)
	p.Gap = -0.03
	p.Jitter = 0.3
	c, _ := synth.Write("52803", p)
	fmt.Println(c.Boxes)
	m, _ := ink.MaskFromStrokesOpt(c.Strokes, 640, 200, ink.Options{PenWidth: 6})
	ink.DebugPlan(t, m, ink.Options{ExpectDigits: 5})
	ds, _ := ink.Segment(m, ink.Options{ExpectDigits: 5})
	for _, d := range ds {
		fmt.Println(d.Box)
	}
	for y := 0; y < 200; y += 6 {
		line := []byte{}
		for x := 80; x < 480; x += 3 {
			if m.Pix[y*640+x] > 100 {
				line = append(line, '#')
			} else {
				line = append(line, ' ')
			}
		}
		fmt.Println(string(line))
	}
}
