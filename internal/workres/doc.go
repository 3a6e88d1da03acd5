// Package workres holds the check that reading images at working resolution (ink.WorkMaskFromImage: canvases
// taller than ink.WorkHeight reduced while decoding) reads as well as at full resolution, on MNIST test digits
// drawn as 280×280 pad canvases. It has tests only; it sits outside shared/ because it needs the MNIST loader
// of train/.
package workres
