//go:build wasm && !purego

package model

import "unsafe"

// The portable kernel's register blocks in WebAssembly assembly (blocks_wasm.s): Go's wasm code generator keeps
// values in its own emulated registers and reloads them, where hand-written code keeps the 8 accumulators in wasm
// locals that V8 maps to machine registers.

//go:noescape
func block2x4Wasm(a unsafe.Pointer, lda uintptr, b unsafe.Pointer, off *int32, k int, c unsafe.Pointer, ldc uintptr)

//go:noescape
func block1x4Wasm(a unsafe.Pointer, lda uintptr, b unsafe.Pointer, off *int32, k int, c unsafe.Pointer, ldc uintptr)

func block2x4(a unsafe.Pointer, lda uintptr, b unsafe.Pointer, offs []int32, c unsafe.Pointer, ldc uintptr) {
	block2x4Wasm(a, lda, b, &offs[0], len(offs), c, ldc)
}

func block1x4(a unsafe.Pointer, b unsafe.Pointer, offs []int32, c unsafe.Pointer) {
	block1x4Wasm(a, 0, b, &offs[0], len(offs), c, 0)
}
