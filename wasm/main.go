//go:build js && wasm

// Command wasm is the recogniser compiled to WebAssembly for the web pad. It runs inside a Web Worker
// (web/static/worker.js), installs globalThis.digitpad (see package bridge) and calls globalThis.digitpadReady
// when the API is there.
package main

import (
	"syscall/js"

	"digitpad/wasm/bridge"
)

func main() {
	bridge.Register(js.Global())
	if ready := js.Global().Get("digitpadReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	// The Go runtime must stay alive to serve calls from JavaScript.
	select {}
}
