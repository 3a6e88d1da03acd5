package main

import (
	"context"
	"encoding/gob"
	"fmt"
	"os"
	"time"

	"digitpad/assets"
	"digitpad/internal/cputime"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/train"
	"digitpad/train/calibrate"
)

// dump is one cached read of validation codes: what was read and the readings, in code order.
type dump struct {
	Reader   string
	Strokes  bool
	Seed     uint64
	N, Per   int
	Readings []train.Reading
}

// readDump reads n codes (per per seed from seed) with the shipped fp32 model at its card's temperature, read as
// reader names ("second": pair and second readers, as `calibration`; "nosecond": pair reader only; "alone": the
// digit model alone, as the browser's pad), and writes them to out.
func readDump(ctx context.Context, reader string, strokes bool, seed uint64, n, per int, out string) error {
	lm, err := onnxrec.Load(assets.Model(), assets.ModelCard())
	if err != nil {
		return err
	}
	cfg := recognize.Config{InputScale: lm.Card.InputScale, Temperature: lm.Card.Calibration.Temperature, Format: "5"}
	switch reader {
	case "second":
		if cfg.Second, err = onnxrec.SecondReader(); err != nil {
			return err
		}
		fallthrough
	case "nosecond":
		if cfg.Pair, err = onnxrec.PairReader(); err != nil {
			return err
		}
	case "alone":
	default:
		return fmt.Errorf("policyfold: unknown reader %q", reader)
	}
	rec, err := recognize.New(lm.Model, recognize.ModelInfo{Name: lm.Card.Name}, cfg)
	if err != nil {
		return err
	}
	c0, w0 := cputime.Process(), time.Now()
	rs, err := calibrate.ReadCodes(ctx, rec, calibrate.Source(strokes), seed, n, per)
	if err != nil {
		return err
	}
	fmt.Printf("read %d codes (%s, strokes=%v) from seed %d: %.1f CPU s, %.0f s wall\n", n, reader, strokes, seed,
		(cputime.Process() - c0).Seconds(), time.Since(w0).Seconds())
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(f).Encode(dump{Reader: reader, Strokes: strokes, Seed: seed, N: n, Per: per, Readings: rs}); err != nil {
		f.Close()
		return fmt.Errorf("policyfold: writing %s: %w", out, err)
	}
	return f.Close()
}

// loadDump reads a cached dump.
func loadDump(path string) (dump, error) {
	var d dump
	f, err := os.Open(path)
	if err != nil {
		return d, err
	}
	defer f.Close()
	if err := gob.NewDecoder(f).Decode(&d); err != nil {
		return d, fmt.Errorf("policyfold: reading %s: %w", path, err)
	}
	return d, nil
}
