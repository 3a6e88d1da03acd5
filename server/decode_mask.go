package server

import (
	"context"
	"errors"

	"digitpad/server/internal/pngdec"
	"digitpad/shared/ink"
	"digitpad/shared/protocol"
)

// decodeInput turns an uploaded image into what Prepare needs. Common PNGs (8-bit grey, grey+alpha, RGB, RGBA:
// what pads send) are decoded row by row straight into the working-resolution ink mask (ink.Shrinker), so a
// large canvas never exists at full size as an image: the cost of everything after inflating stops growing with
// canvas pixels. Other images take decodeImage and are reduced by the engine; both give the same mask.
func (s *Server) decodeInput(ctx context.Context, b []byte) (Input, func(), error) {
	if f, ok := pngdec.Parse(b); ok {
		format, release, err := s.priceImage(ctx, b)
		if err != nil {
			return Input{}, nil, err
		}
		m, merr := s.pngMask(&f)
		if merr == nil {
			return Input{Mask: m}, release, nil
		}
		release()
		if !errors.Is(merr, pngdec.ErrFallback) {
			return Input{}, nil, apiErr(protocol.EInvalid, "corrupt "+format+" image: "+merr.Error())
		}
	}
	img, release, err := s.decodeImage(ctx, b)
	if err != nil {
		return Input{}, nil, err
	}
	return Input{Image: img}, release, nil
}

var layouts = [...]ink.Layout{1: ink.Gray8, 2: ink.GrayAlpha8, 3: ink.RGB8, 4: ink.RGBA8}

// pngMask decodes a fast-path PNG into its working-resolution mask.
func (s *Server) pngMask(f *pngdec.File) (*ink.Mask, error) {
	sh, err := ink.NewShrinker(f.Width(), f.Height(), ink.Options{MaxPixels: s.cfg.Limits.MaxPixels})
	if err != nil {
		return nil, err
	}
	layout := layouts[f.Channels()]
	if err := s.png.Rows(f, func(y int, pix []byte) error { return sh.Row(y, pix, layout) }); err != nil {
		return nil, err
	}
	return sh.Mask()
}
