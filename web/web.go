// Package web holds the browser drawing pad: a static page (HTML, CSS, JavaScript, a service worker and a Web
// Worker running the recogniser compiled to WebAssembly). The page needs no build step; `make web` only adds the
// generated folder static/gen (app.wasm, wasm_exec.js, the model and its manifest).
package web

import (
	"embed"
	"io/fs"
)

// static is embedded with all: so the generated folder's placeholder and dotfiles come along.
//
//go:embed all:static
var static embed.FS

// FS returns the pad's files rooted at the page (index.html at the top), ready for http.FileServerFS.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only on an invalid path literal, which would be a build-time bug.
		panic("web: embedded static folder: " + err.Error())
	}
	return sub
}
