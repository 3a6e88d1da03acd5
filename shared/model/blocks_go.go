//go:build !wasm || purego

package model

import "unsafe"

func block2x4(a unsafe.Pointer, lda uintptr, b unsafe.Pointer, offs []int32, c unsafe.Pointer, ldc uintptr) {
	gemmGo2x4(a, lda, b, offs, c, ldc)
}

func block1x4(a unsafe.Pointer, b unsafe.Pointer, offs []int32, c unsafe.Pointer) {
	gemmGo1x4(a, b, offs, c)
}
