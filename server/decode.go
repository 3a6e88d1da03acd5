package server

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder for uploads
	_ "image/png"  // registers the PNG decoder for uploads

	"digitpad/server/internal/pngdec"
	"digitpad/shared/protocol"
)

// decodeImage reads the header first, so a small file claiming a huge size (a decompression bomb) is rejected
// before any pixel memory is allocated, and the memory the pixels will take (at the header's bit depth) is
// reserved from the process's decode budget before decoding; release gives it back once the caller is done
// with the image. Only PNG and JPEG are accepted, as the API documents, whatever other decoders the binary
// links. Common PNGs take pngdec's path (pooled inflaters, no per-image tables); the images and errors are those
// of image.Decode either way.
func (s *Server) decodeImage(ctx context.Context, b []byte) (img image.Image, release func(), err error) {
	format, release, aerr := s.priceImage(ctx, b)
	if aerr != nil {
		return nil, nil, aerr
	}
	if f, ok := pngdec.Parse(b); ok {
		img, err = s.png.DecodeFile(&f)
	} else {
		img, _, err = image.Decode(bytes.NewReader(b))
	}
	if err != nil {
		release()
		return nil, nil, apiErr(protocol.EInvalid, "corrupt "+format+" image: "+err.Error())
	}
	return img, release, nil
}

// priceImage checks an upload's header against the contract and the limits and takes its decoded size from the
// decode budget; the caller decodes and then calls release once the pixels are no longer needed.
func (s *Server) priceImage(ctx context.Context, b []byte) (format string, release func(), err error) {
	if aerr := checkImageBytes(b, s.cfg.Limits); aerr != nil {
		return "", nil, aerr
	}
	cfg, format, cerr := image.DecodeConfig(bytes.NewReader(b))
	if cerr != nil {
		return "", nil, apiErr(protocol.EInvalid, "not a readable PNG or JPEG image: "+cerr.Error())
	}
	if format != "png" && format != "jpeg" {
		return "", nil, apiErr(protocol.EInvalid, "unsupported image format "+format+": send PNG or JPEG")
	}
	release, err = s.reserveDecode(ctx, cfg)
	return format, release, err
}

// pricePNG is priceImage for a PNG pngdec has parsed: its header is the config image.DecodeConfig would read.
func (s *Server) pricePNG(ctx context.Context, b []byte, f *pngdec.File) (release func(), err error) {
	if aerr := checkImageBytes(b, s.cfg.Limits); aerr != nil {
		return nil, aerr
	}
	return s.reserveDecode(ctx, f.Config())
}

func checkImageBytes(b []byte, l protocol.Limits) *APIError {
	if len(b) == 0 {
		return apiErr(protocol.EInvalid, "empty image")
	}
	if len(b) > l.MaxImageBytes {
		return apiErr(protocol.ETooLarge, fmt.Sprintf("image larger than %d bytes", l.MaxImageBytes))
	}
	return nil
}

// reserveDecode checks a header's size against the limits and takes the decoded size from the request's
// allowance and the process's decode budget.
func (s *Server) reserveDecode(ctx context.Context, cfg image.Config) (release func(), err error) {
	if err := checkImageSize(cfg.Width, cfg.Height, s.cfg.Limits); err != nil {
		return nil, err
	}
	cost := imageCost(cfg)
	if aerr := spend(ctx, cost); aerr != nil {
		return nil, aerr
	}
	release, berr := s.mem.acquire(ctx, cost)
	if berr != nil {
		return nil, s.budgetError(berr)
	}
	return release, nil
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
