package main

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"time"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
	"digitpad/train"
)

func main() {
	t := time.Now()
	s, err := train.SynthSet(train.SynthOptions{Writers: synth.TrainWriters, N: 2000, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(time.Since(t), s.Len())
	out := image.NewGray(image.Rect(0, 0, 28*20, 28*10))
	for i := 0; i < 200; i++ {
		var in [784]float32
		copy(in[:], s.Image(i))
		g := ink.InputImage(&in)
		for y := 0; y < 28; y++ {
			for x := 0; x < 28; x++ {
				out.Pix[((i/20)*28+y)*out.Stride+(i%20)*28+x] = g.Pix[y*g.Stride+x]
			}
		}
	}
	fmt.Println(s.Labels[:200])
	f, _ := os.Create("/tmp/h12gen.png")
	png.Encode(f, out)
	f.Close()
}
