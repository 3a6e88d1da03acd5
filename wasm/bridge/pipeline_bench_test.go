package bridge

import (
	"encoding/binary"
	"math"
	"testing"

	"digitpad/assets"
	"digitpad/shared/ink"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// BenchmarkPipeline_FiveDigitCode is what one recognition in the worker costs: strokes of a 5-digit code on a
// desktop-sized pad -> mask -> segmentation -> one call of the int8 model. Run under node too:
//
//	GOOS=js GOARCH=wasm go test -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" -run=^$ -bench=. ./wasm/bridge
func BenchmarkPipeline_FiveDigitCode(b *testing.B) {
	const w, h = 1164, 364
	// The variant the page ships (mk/web.mk WEB_MODEL).
	onnxBytes, cardBytes := assets.Variant("int8")
	card, err := assets.ParseCard(cardBytes, onnxBytes)
	if err != nil {
		b.Fatal(err)
	}
	m, err := onnxload.Load(onnxBytes)
	if err != nil {
		b.Fatal(err)
	}
	rec, err := recognize.New(m, recognize.ModelInfo{Name: card.Name}, recognize.Config{InputScale: card.InputScale})
	if err != nil {
		b.Fatal(err)
	}
	p := synth.Centered(synth.Defaults(), 5, w, h)
	p.Height = 0.6 * h
	p = synth.Centered(p, 5, w, h)
	code, err := synth.Write("80331", p)
	if err != nil {
		b.Fatal(err)
	}
	scale := recognize.WorkScale(h)
	var pts []byte
	var ends []uint32
	n := 0
	for _, s := range code.Strokes {
		for _, p := range s {
			pts = binary.LittleEndian.AppendUint32(pts, math.Float32bits(float32(p.X)))
			pts = binary.LittleEndian.AppendUint32(pts, math.Float32bits(float32(p.Y)))
		}
		n += len(s)
		ends = append(ends, uint32(n))
	}
	strokes, err := strokesFromFlat(pts, ends, scale)
	if err != nil {
		b.Fatal(err)
	}
	sw, sh := recognize.WorkSize(w, h, scale)
	b.Run("mask", func(b *testing.B) {
		for b.Loop() {
			if _, err := ink.MaskFromStrokes(strokes, sw, sh); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mask_full_size", func(b *testing.B) {
		for b.Loop() {
			if _, err := ink.MaskFromStrokes(code.Strokes, w, h); err != nil {
				b.Fatal(err)
			}
		}
	})
	mask, err := ink.MaskFromStrokes(strokes, sw, sh)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("segment", func(b *testing.B) {
		for b.Loop() {
			if _, err := ink.Segment(mask, ink.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("recognise_mask", func(b *testing.B) {
		for b.Loop() {
			if _, err := rec.Mask(mask, recognize.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("result_object", func(b *testing.B) {
		res, err := rec.Mask(mask, recognize.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Code != "80331" {
			b.Fatalf("code %q, want 80331", res.Code)
		}
		for b.Loop() {
			resultObject(res)
		}
	})
}
