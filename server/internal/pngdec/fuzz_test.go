package pngdec

import (
	"bytes"
	"image"
	"testing"
)

// FuzzDecode: for any bytes whose header announces at most 1 MP, the server's fast PNG decoder gives exactly
// image/png's image or error (seed corpus in testdata/fuzz/FuzzDecode: PNGs of every colour type and depth,
// truncated files, a bomb header).
func FuzzDecode(f *testing.F) {
	var d Decoder
	f.Fuzz(func(t *testing.T, b []byte) {
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width*cfg.Height > 1<<20 {
			return
		}
		same(t, &d, b, "fuzz input")
	})
}
