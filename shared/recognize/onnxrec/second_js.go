//go:build js

package onnxrec

import "digitpad/shared/recognize"

// shippedSecond: the browser's wasm has no second reader (its download budget has no room for it).
func shippedSecond([]string) (*recognize.SecondReader, error) { return nil, nil }
