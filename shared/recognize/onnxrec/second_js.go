//go:build js

package onnxrec

import (
	"digitpad/assets"
	"digitpad/shared/recognize"
)

// shippedSecond: the browser's wasm has no second reader (its download budget has no room for it).
func shippedSecond(assets.Card) (*recognize.SecondReader, error) { return nil, nil }
