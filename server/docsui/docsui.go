// Package docsui serves the API documentation without the internet: the Swagger UI viewer's files, installed
// from npm at build time (make docs-assets: swagger-ui-dist pinned in package-lock.json, copied into dist/) and
// embedded in the binary, the page that points it at the OpenAPI document, and the AsyncAPI document of the
// websocket protocol.
package docsui

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed all:dist
var dist embed.FS

//go:embed page.html docs.js asyncapi.yaml
var own embed.FS

// Assets are the viewer files make docs-assets copies into dist/.
var Assets = []string{"swagger-ui-bundle.js", "swagger-ui.css"}

// Available reports whether the viewer's files were embedded (make docs-assets ran before the build).
func Available() bool {
	for _, a := range Assets {
		if _, err := fs.Stat(dist, "dist/"+a); err != nil {
			return false
		}
	}
	return true
}

// Register adds GET /docs (the viewer page), GET /docs/assets/{file} and GET /asyncapi.yaml to mux.
func Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		if !Available() {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("The docs viewer was not built into this binary (run `make docs-assets` before `go build`).\n" +
				"The API is described by /openapi.json and /openapi.yaml, the websocket protocol by /asyncapi.yaml.\n"))
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
		serve(w, r, own, "page.html", "text/html; charset=utf-8")
	})
	mux.HandleFunc("GET /docs/assets/{file}", func(w http.ResponseWriter, r *http.Request) {
		switch f := r.PathValue("file"); f {
		case "docs.js":
			serve(w, r, own, "docs.js", "text/javascript; charset=utf-8")
		case "swagger-ui-bundle.js":
			serve(w, r, dist, "dist/"+f, "text/javascript; charset=utf-8")
		case "swagger-ui.css":
			serve(w, r, dist, "dist/"+f, "text/css; charset=utf-8")
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("GET /asyncapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, own, "asyncapi.yaml", "application/yaml")
	})
}

func serve(w http.ResponseWriter, r *http.Request, fsys fs.FS, name, ctype string) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}
