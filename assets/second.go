//go:build !js

package assets

import "embed"

// The second reader (recognize.SecondReader; its card is second.json, `make train-second` makes both): an int8
// digit model trained apart from the shipped one, which the recogniser consults on digits in doubt. Native shells
// only: the browser's download budget has no room for it.
//
//go:embed second.onnx second.json
var secondFiles embed.FS

// Second returns the second reader's ONNX model and its card. Callers must not modify them.
func Second() (onnx, card []byte) {
	onnx, _ = secondFiles.ReadFile("second.onnx")
	card, _ = secondFiles.ReadFile("second.json")
	return onnx, card
}
