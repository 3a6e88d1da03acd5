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
		release, err := s.pricePNG(ctx, b, &f)
		if err != nil {
			return Input{}, nil, err
		}
		sh, merr := s.pngMask(&f)
		var m *ink.Mask
		if merr == nil {
			m, merr = sh.Mask()
		}
		if merr == nil {
			// The mask and its full-resolution counterpart live in the shrinker's buffers: they go back to the
			// pool once the canvas is prepared (release).
			return Input{Mask: m}, func() { release(); s.recycle(sh) }, nil
		}
		s.recycle(sh)
		release()
		if !errors.Is(merr, pngdec.ErrFallback) {
			return Input{}, nil, apiErr(protocol.EInvalid, "corrupt png image: "+merr.Error())
		}
	}
	img, release, err := s.decodeImage(ctx, b)
	if err != nil {
		return Input{}, nil, err
	}
	return Input{Image: img}, release, nil
}

var layouts = [...]ink.Layout{1: ink.Gray8, 2: ink.GrayAlpha8, 3: ink.RGB8, 4: ink.RGBA8}

// maxPooledPixels bounds the canvases whose shrinker buffers are kept for the next upload: a rare huge image
// should not stay resident.
const maxPooledPixels = 1 << 20

func (s *Server) recycle(sh *ink.Shrinker) {
	if w, h := sh.Size(); w*h <= maxPooledPixels {
		s.shrinkers.Put(sh)
	}
}

// pngMask decodes a fast-path PNG into a shrinker from the pool (returned with it, also on error).
func (s *Server) pngMask(f *pngdec.File) (*ink.Shrinker, error) {
	sh, _ := s.shrinkers.Get().(*ink.Shrinker)
	if sh == nil {
		sh = new(ink.Shrinker)
	}
	if err := sh.Reset(f.Width(), f.Height(), ink.Options{MaxPixels: s.cfg.Limits.MaxPixels}); err != nil {
		return sh, err
	}
	layout := layouts[f.Channels()]
	return sh, s.png.Rows(f, func(y int, pix []byte, same bool) error {
		if same {
			return sh.RepeatRow(y)
		}
		return sh.Row(y, pix, layout)
	})
}
