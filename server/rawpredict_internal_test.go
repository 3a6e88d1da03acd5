package server

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"digitpad/assets"
	"digitpad/internal/loadcanvas"
	"digitpad/server/internal/memstore"
)

// A raw image body of POST /v1/predict is answered without huma (servePredictImage) exactly as the documented
// huma operation answers it: the same status, headers and JSON (prediction ids aside) for readable canvases,
// a blank one, corrupt and unsupported bodies, parameters at and over their limits, an HTML-like format, a
// missing token and a non-JSON Accept (the last three left to huma).
func TestServePredictImage_AnswersAsHuma(t *testing.T) {
	cs, err := loadcanvas.Standard()
	if err != nil {
		t.Fatal(err)
	}
	digit := cs[2].PNG
	var blank, jpg bytes.Buffer
	white := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range white.Pix {
		white.Pix[i] = 0xff
	}
	if err := png.Encode(&blank, white); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(digit))
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpg, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(digit)
	corrupt[len(corrupt)/2] ^= 0x55
	long := strings.Repeat("é", maxParamLen) // 128 characters, 256 bytes: within maxLength

	type tc struct {
		name, ct, query, token, accept, clientID string
		body                                     []byte
		open, fast                               bool
	}
	cases := []tc{
		{name: "digit", ct: "image/png", body: digit, open: true, fast: true},
		{name: "five digits, format", ct: "image/png", query: "?format=5", body: cs[1].PNG, open: true, fast: true},
		{name: "jpeg", ct: "image/jpeg", body: jpg.Bytes(), open: true, fast: true},
		{name: "content type parameters", ct: "image/png; charset=binary", body: digit, open: true, fast: true},
		{name: "blank", ct: "image/png", body: blank.Bytes(), open: true, fast: true},
		{name: "corrupt", ct: "image/png", body: corrupt, open: true, fast: true},
		{name: "not an image", ct: "image/png", body: []byte("hello"), open: true, fast: true},
		{name: "html-like format", ct: "image/png", query: "?format=%3Cb%3E%26(", body: digit, open: true, fast: true},
		{name: "long client id", ct: "image/png", clientID: long, body: digit, open: true, fast: true},
		{name: "client id too long", ct: "image/png", clientID: long + "x", body: digit, open: true},
		{name: "format too long", ct: "image/png", query: "?format=" + strings.Repeat("5", maxParamLen+1), body: digit, open: true},
		{name: "token", ct: "image/png", token: "Bearer " + testTokenInternal, body: digit, fast: true},
		{name: "no token", ct: "image/png", body: digit},
		{name: "wrong token", ct: "image/png", token: "Bearer nope", body: digit},
		{name: "accept json", ct: "image/png", accept: "application/json", body: digit, open: true, fast: true},
		{name: "accept cbor", ct: "image/png", accept: "application/cbor", body: digit, open: true},
		{name: "json body", ct: "application/json", body: []byte(`{"image":"x"}`), open: true},
		{name: "empty body", ct: "image/png", open: true},
	}
	servers := map[[2]bool]*Server{}
	for _, open := range []bool{false, true} {
		for _, fast := range []bool{false, true} {
			s, err := New(Config{Store: memstore.New(), Token: testTokenInternal, OpenPredict: open})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetModel(assets.Model(), assets.ModelCard()); err != nil {
				t.Fatal(err)
			}
			s.rawFast = fast
			t.Cleanup(func() { _ = s.Close() })
			servers[[2]bool{open, fast}] = s
		}
	}
	do := func(s *Server, c tc) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, predictPath+c.query, bytes.NewReader(c.body))
		r.Header.Set("Content-Type", c.ct)
		for k, v := range map[string]string{"Authorization": c.token, "Accept": c.accept, "X-Client-ID": c.clientID} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		return w
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, got := do(servers[[2]bool{c.open, false}], c), do(servers[[2]bool{c.open, true}], c)
			if got.Code != want.Code {
				t.Fatalf("status %d, huma %d (%s)", got.Code, want.Code, want.Body)
			}
			// The fast path writes the Date header net/http writes for huma's answers (httptest's recorder adds
			// none): a time, not compared.
			if d := got.Header()["Date"]; d != nil {
				if _, err := http.ParseTime(d[0]); len(d) != 1 || err != nil {
					t.Errorf("Date %q: %v", d, err)
				}
			}
			for _, h := range []http.Header{want.Header(), got.Header()} {
				h.Del("X-Request-ID")
				h.Del("Date")
			}
			if !maps.EqualFunc(got.Header(), want.Header(), slices.Equal[[]string]) {
				t.Errorf("headers %v, huma %v", got.Header(), want.Header())
			}
			if g, w := withoutID(t, got.Body.Bytes()), withoutID(t, want.Body.Bytes()); !bytes.Equal(g, w) {
				t.Errorf("body\n%s\nhuma\n%s", g, w)
			}
			// The fast path took the request itself, or left it (and wrote nothing) for huma.
			s := servers[[2]bool{c.open, true}]
			r := httptest.NewRequest(http.MethodPost, predictPath+c.query, nil)
			r.Header.Set("Content-Type", c.ct)
			for k, v := range map[string]string{"Authorization": c.token, "Accept": c.accept, "X-Client-ID": c.clientID} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			w := httptest.NewRecorder()
			if took := s.servePredictImage(w, r, c.body); took != c.fast {
				t.Errorf("served without huma: %v, want %v", took, c.fast)
			} else if !took && (w.Body.Len() > 0 || len(w.Header()) > 0) {
				t.Errorf("left to huma but wrote %v %q", w.Header(), w.Body)
			}
		})
	}
}

const testTokenInternal = "internal-test-token-0123456789"

// withoutID drops a prediction's id (new for every request) from a JSON answer, keeping the rest byte for byte.
func withoutID(t *testing.T, b []byte) []byte {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	if v.ID == "" {
		return b
	}
	return bytes.Replace(b, []byte(`"id":"`+v.ID+`"`), []byte(`"id":""`), 1)
}
