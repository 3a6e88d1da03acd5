package report

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

type tiledCanvas struct {
	c    *vgimg.Canvas
	w, h vg.Length
}

func vgimgCanvas(w, h vg.Length) *tiledCanvas {
	return &tiledCanvas{c: vgimg.New(w, h), w: w, h: h}
}

// tile returns the i-th of n side-by-side drawing areas.
func (t *tiledCanvas) tile(i, n int) draw.Canvas {
	dc := draw.New(t.c)
	tiles := draw.Tiles{Rows: 1, Cols: n, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2,
		PadRight: vg.Millimeter * 2}
	return tiles.At(dc, i, 0)
}

func (t *tiledCanvas) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("plot dir: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: t.c}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
