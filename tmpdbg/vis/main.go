package main

import (
	"context"
	"image"
	"image/draw"
	"image/png"
	"os"
	"strconv"

	"digitpad/shared/synth"
	"digitpad/train/mnist"
)

func main() {
	dir, _ := mnist.Locate(context.Background(), "")
	set, _ := mnist.LoadTest(dir)
	out := image.NewRGBA(image.Rect(0, 0, 140*len(os.Args[1:]), 140))
	for k, a := range os.Args[1:] {
		i, _ := strconv.Atoi(a)
		var in [784]float32
		copy(in[:], set.Image(i))
		img, _ := synth.Upscale(&in, 140, 140, synth.DarkOnWhiteRGB)
		draw.Draw(out, image.Rect(k*140, 0, k*140+140, 140), img, image.Point{}, draw.Src)
	}
	f, _ := os.Create("/tmp/h12vis.png")
	png.Encode(f, out)
	f.Close()
}
