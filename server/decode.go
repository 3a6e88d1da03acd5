package server

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder for uploads
	_ "image/png"  // registers the PNG decoder for uploads

	"digitpad/server/internal/pngdec"
	"digitpad/shared/protocol"
)

// decodeImage reads the header first so a small file claiming a huge size (a decompression bomb) is rejected
// before any pixel memory is allocated. Common PNGs take pngdec's path (pooled inflaters, no per-image tables);
// the images and errors are those of image.Decode either way.
func (s *Server) decodeImage(b []byte) (image.Image, *APIError) {
	l := s.cfg.Limits
	if len(b) == 0 {
		return nil, apiErr(protocol.EInvalid, "empty image")
	}
	if len(b) > l.MaxImageBytes {
		return nil, apiErr(protocol.ETooLarge, fmt.Sprintf("image larger than %d bytes", l.MaxImageBytes))
	}
	if f, ok := pngdec.Parse(b); ok {
		if err := checkImageSize(f.Width(), f.Height(), l); err != nil {
			return nil, err
		}
		img, err := s.png.DecodeFile(&f)
		if err != nil {
			return nil, apiErr(protocol.EInvalid, "corrupt png image: "+err.Error())
		}
		return img, nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, apiErr(protocol.EInvalid, "not a readable PNG or JPEG image: "+err.Error())
	}
	if err := checkImageSize(cfg.Width, cfg.Height, l); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, apiErr(protocol.EInvalid, "corrupt "+format+" image: "+err.Error())
	}
	return img, nil
}

func checkImageSize(w, h int, l protocol.Limits) *APIError {
	if w <= 0 || h <= 0 {
		return apiErr(protocol.EInvalid, "image has no pixels")
	}
	if w > l.MaxSide || h > l.MaxSide || w*h > l.MaxPixels {
		return apiErr(protocol.ETooLarge, fmt.Sprintf("image %dx%d exceeds the limit of %d pixels (side <= %d)",
			w, h, l.MaxPixels, l.MaxSide))
	}
	return nil
}
