package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"digitpad/shared/ink"
	"digitpad/web"
)

func testFiles() fstest.MapFS {
	return fstest.MapFS{
		"index.html":   {Data: []byte("<!doctype html><title>pad</title>" + strings.Repeat("<p>ink</p>", 50))},
		"gen/app.wasm": {Data: append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{1, 2, 3, 4}, 1000)...)},
		"gen/tiny.js":  {Data: []byte("x")},
	}
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandler_WasmIsGzippedWithWasmContentType(t *testing.T) {
	files := testFiles()
	res := get(t, web.Handler(files, web.Options{}), http.MethodGet, "/gen/app.wasm", map[string]string{"Accept-Encoding": "br, gzip"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	if got := res.Header.Get("Content-Type"); got != "application/wasm" {
		t.Errorf("Content-Type = %q, want application/wasm", got)
	}
	if got := res.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", got)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body(t, res)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, files["gen/app.wasm"].Data) {
		t.Errorf("decompressed body differs from the file (%d vs %d bytes)", len(got), len(files["gen/app.wasm"].Data))
	}
}

func TestHandler_PrefersPrecompressedSibling(t *testing.T) {
	files := testFiles()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("prebuilt"))
	zw.Close()
	files["gen/app.wasm.gz"] = &fstest.MapFile{Data: gz.Bytes()}
	res := get(t, web.Handler(files, web.Options{}), http.MethodGet, "/gen/app.wasm", map[string]string{"Accept-Encoding": "gzip"})
	if got := body(t, res); !bytes.Equal(got, gz.Bytes()) {
		t.Errorf("served %d gzip bytes, want the prebuilt app.wasm.gz", len(got))
	}
}

func TestHandler_PlainWithoutGzipSupport(t *testing.T) {
	files := testFiles()
	h := web.Handler(files, web.Options{})
	for name, enc := range map[string]string{"no header": "", "gzip refused": "gzip;q=0"} {
		t.Run(name, func(t *testing.T) {
			res := get(t, h, http.MethodGet, "/", map[string]string{"Accept-Encoding": enc})
			if got := res.Header.Get("Content-Encoding"); got != "" {
				t.Errorf("Content-Encoding = %q, want none", got)
			}
			if got, want := body(t, res), files["index.html"].Data; !bytes.Equal(got, want) {
				t.Errorf("body = %q, want index.html", got)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
				t.Errorf("Content-Type = %q, want text/html", got)
			}
		})
	}
}

func TestHandler_ETagRevalidation(t *testing.T) {
	h := web.Handler(testFiles(), web.Options{})
	first := get(t, h, http.MethodGet, "/gen/tiny.js", nil)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if got := first.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", got)
	}
	again := get(t, h, http.MethodGet, "/gen/tiny.js", map[string]string{"If-None-Match": etag})
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("status with matching If-None-Match = %d, want 304", again.StatusCode)
	}
}

func TestHandler_ConfigTellsThePageWhereTheWebsocketIs(t *testing.T) {
	for name, ws := range map[string]string{"no server": "", "server": "/v1/ws"} {
		t.Run(name, func(t *testing.T) {
			res := get(t, web.Handler(testFiles(), web.Options{WS: ws}), http.MethodGet, "/config.json", nil)
			var cfg struct {
				WS  string
				Pen struct {
					MinWidth    float64 `json:"min_width"`
					SideDivisor float64 `json:"side_divisor"`
				}
			}
			if err := json.Unmarshal(body(t, res), &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.WS != ws {
				t.Errorf("ws = %q, want %q", cfg.WS, ws)
			}
			// The page's pen, max(min_width, min(w, h)/side_divisor), is ink's default pen.
			for _, sz := range [][2]int{{640, 200}, {60, 30}, {1248, 360}} {
				page := max(cfg.Pen.MinWidth, float64(min(sz[0], sz[1]))/cfg.Pen.SideDivisor)
				if want := ink.PenWidth(sz[0], sz[1]); page != want {
					t.Errorf("%dx%d: page pen %v, want ink.PenWidth %v", sz[0], sz[1], page, want)
				}
			}
		})
	}
}

func TestHandler_Rejects(t *testing.T) {
	h := web.Handler(testFiles(), web.Options{})
	tests := []struct {
		name, method, target string
		want                 int
	}{
		{"missing file", http.MethodGet, "/nope.js", http.StatusNotFound},
		{"directory without index", http.MethodGet, "/gen", http.StatusNotFound},
		{"escape attempt stays inside", http.MethodGet, "/../../etc/passwd", http.StatusNotFound},
		{"post", http.MethodPost, "/", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(t, h, tt.method, tt.target, nil).StatusCode; got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
}

// The embedded page must carry the hooks that outside checks rely on.
func TestFS_PageHasTestHooks(t *testing.T) {
	page, err := fs.ReadFile(web.FS(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, hook := range []string{`data-testid="pad"`, `data-testid="code"`, `data-testid="clear"`, `data-testid="undo"`, `data-testid="confirm"`, `rel="icon"`} {
		if !bytes.Contains(page, []byte(hook)) {
			t.Errorf("index.html lacks %s", hook)
		}
	}
	for _, name := range []string{"app.js", "worker.js", "sw.js", "outbox.js", "sync.js", "style.css", "config.json"} {
		if _, err := fs.Stat(web.FS(), name); err != nil {
			t.Errorf("embedded %s: %v", name, err)
		}
	}
}
