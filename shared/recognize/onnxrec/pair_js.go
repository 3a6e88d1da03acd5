//go:build js

package onnxrec

import "digitpad/shared/recognize"

// shippedPair is nil in the browser: the pad reads strokes, and the pair models do not fit its download budget
// (assets.Pair is native only).
func shippedPair() (*recognize.PairReader, error) { return nil, nil }
