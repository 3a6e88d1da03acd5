//go:build !js

package assets

import "embed"

// The second reader (recognize.SecondReader; its card is second.json, `make train-second` makes both): an int8
// digit model trained apart from the shipped one, which the recogniser consults on digits in doubt. Native shells
// only: the browser's download budget has no room for it.
//
//go:embed second.onnx second.json
var secondFiles embed.FS

// The second reader's further models (its card's more_readers), each with a card of its own: third.onnx
// (third.json, `make train-third`).
//
//go:embed third.onnx third.json
var readerFiles embed.FS

// Second returns the second reader's ONNX model and its card. Callers must not modify them.
func Second() (onnx, card []byte) {
	onnx, _ = secondFiles.ReadFile("second.onnx")
	card, _ = secondFiles.ReadFile("second.json")
	return onnx, card
}

// Reader returns a further model of the second reader (a file its card's more_readers name), or nil if none of
// that name ships. Callers must not modify it.
func Reader(file string) []byte {
	b, err := readerFiles.ReadFile(file)
	if err != nil {
		return nil
	}
	return b
}
