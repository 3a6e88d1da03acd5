//go:build !js

package onnxrec

import (
	"fmt"

	"digitpad/assets"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
)

// PairReader compiles the shipped pair reader (assets.Pair).
func PairReader() (*recognize.PairReader, error) {
	left, right := assets.Pair()
	var ms [2]*model.Model
	for i, b := range [][]byte{left, right} {
		g, err := onnxload.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("load pair reader: %w", err)
		}
		if ms[i], err = model.Compile(g); err != nil {
			return nil, fmt.Errorf("load pair reader: %w", err)
		}
	}
	return recognize.NewPairReader(ms[0], ms[1])
}

// shippedPair is the pair reader a recogniser gets unless its config sets one.
func shippedPair() (*recognize.PairReader, error) { return PairReader() }
