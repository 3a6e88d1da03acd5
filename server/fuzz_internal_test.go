package server

import (
	"context"
	"testing"
)

// FuzzDecodeImage: any upload body goes through the server's decoder (header check, PNG/JPEG only, decode
// budget, pngdec fast path or image.Decode) and the ink pipeline without panicking; refusals are API errors
// (seed corpus in testdata/fuzz/FuzzDecodeImage: small PNGs of every colour type and depth, a JPEG, a GIF,
// truncated and bomb headers).
func FuzzDecodeImage(f *testing.F) {
	cfg := Config{}.withDefaults()
	cfg.Limits.MaxPixels = 1 << 20 // keep each run small; the size check itself is what matters
	s := &Server{cfg: cfg, mem: newMemBudget(64<<20, 0)}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, release, err := s.decodeImage(context.Background(), b)
		if err != nil {
			if _, ok := err.(*APIError); !ok {
				t.Fatalf("refusal %T %v is not an API error", err, err)
			}
			return
		}
		defer release()
		if img.Bounds().Dx()*img.Bounds().Dy() > cfg.Limits.MaxPixels {
			t.Fatalf("decoded %v, over the pixel limit", img.Bounds())
		}
	})
}
