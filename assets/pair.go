//go:build !js

package assets

import "embed"

// The pair reader (recognize.PairReader, trained by train/cmd/trainpair; its card is pair.json): two int8 models
// that read the left and the right digit of a piece of touching digits holding two of them. Native shells only: the browser's pad
// reads strokes (the stroke lattice) and its download budget has no room for them.
//
//go:embed pair-left.onnx pair-right.onnx pair.json
var pairFiles embed.FS

// Pair returns the pair reader's left and right ONNX models. Callers must not modify them.
func Pair() (left, right []byte) {
	left, _ = pairFiles.ReadFile("pair-left.onnx")
	right, _ = pairFiles.ReadFile("pair-right.onnx")
	return left, right
}
