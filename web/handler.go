package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"digitpad/shared/ink"
)

// Options configure Handler.
type Options struct {
	// WS is the websocket path the page uses for server mode and outbox sync (e.g. "/v1/ws"); empty means the
	// page runs without a server. It is served to the page as config.json, with the pen (ink.PenWidth's
	// numbers: {"pen": {"min_width", "side_divisor"}}).
	WS string
}

// Handler serves the pad's files: index.html at "/", application/wasm for .wasm (needed for streaming
// compilation), gzip for text and wasm (a prebuilt NAME.gz beside the file if there is one, else compressed
// once per file version and kept), strong ETags, and
// "no-cache" so the service worker and browsers revalidate instead of running stale code.
func Handler(files fs.FS, opt Options) http.Handler {
	// The pen is ink's default, so the page draws what the model gets without retyping its numbers.
	cfg, _ := json.Marshal(map[string]any{"ws": opt.WS, // a map of strings and numbers always marshals
		"pen": map[string]float64{"min_width": ink.PenMinWidth, "side_divisor": ink.PenSideDivisor}})
	return &handler{files: files, config: cfg, cache: map[string]*entry{}}
}

type handler struct {
	files  fs.FS
	config []byte
	mu     sync.Mutex
	cache  map[string]*entry // key: name + size + mod time
}

type entry struct {
	raw, gz []byte
	etag    string
}

// maxFile bounds what is read into memory; the largest file, the wasm, is a few MB.
const maxFile = 64 << 20

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || strings.HasSuffix(r.URL.Path, "/") {
		name = path.Join(name, "index.html")
	}
	if name == "config.json" {
		h.write(w, r, name, &entry{raw: h.config, etag: etagOf(h.config)})
		return
	}
	e, err := h.load(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		http.NotFound(w, r)
		return
	case err != nil:
		http.Error(w, "cannot read "+name, http.StatusInternalServerError)
		return
	}
	h.write(w, r, name, e)
}

func (h *handler) load(name string) (*entry, error) {
	f, err := h.files.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fs.ErrNotExist
	}
	key := name + "\x00" + st.ModTime().Format(time.RFC3339Nano) + "\x00" + strconv.FormatInt(st.Size(), 10)
	h.mu.Lock()
	e := h.cache[key]
	h.mu.Unlock()
	if e != nil {
		return e, nil
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxFile {
		return nil, errors.New(name + " is too large to serve")
	}
	e = &entry{raw: raw, etag: etagOf(raw)}
	if gz, err := fs.ReadFile(h.files, name+".gz"); err == nil && compressible(name) {
		// Built next to the file by `make web` (gzip -9 of a 27 MB wasm takes seconds; do it once, offline).
		e.gz = gz
	} else if compressible(name) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level never errors
		zw.Write(raw)
		zw.Close()
		if buf.Len() < len(raw) {
			e.gz = buf.Bytes()
		}
	}
	h.mu.Lock()
	h.cache[key] = e
	h.mu.Unlock()
	return e, nil
}

func (h *handler) write(w http.ResponseWriter, r *http.Request, name string, e *entry) {
	hd := w.Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".wasm":
		ctype = "application/wasm"
	case ".onnx", ".graph":
		ctype = "application/octet-stream"
	case ".js", ".mjs":
		ctype = "text/javascript; charset=utf-8"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	hd.Set("Content-Type", ctype)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("ETag", e.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, e.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := e.raw
	if e.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = e.gz
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

func etagOf(b []byte) string {
	s := sha256.Sum256(b)
	return `"` + hex.EncodeToString(s[:12]) + `"`
}

func compressible(name string) bool {
	switch path.Ext(name) {
	case ".html", ".css", ".js", ".mjs", ".json", ".wasm", ".onnx", ".graph", ".svg", ".txt", ".md":
		return true
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
