package main

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// curve draws the closed-loop table (connections → goodput, served p99, shed share), one line per canvas, as a
// PNG of three panels.
func curve(tsvPath, out, title string) error {
	f, err := os.Open(tsvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.Comma = '\t'
	rows, err := rd.ReadAll()
	if err != nil {
		return fmt.Errorf("read %s: %w", tsvPath, err)
	}
	type series struct{ goodput, p99, shed plotter.XYs }
	var order []string
	byCanvas := map[string]*series{}
	ticks := map[int]bool{}
	for _, r := range rows {
		if len(r) < 11 || r[0] == "canvas" {
			continue
		}
		conns, err1 := strconv.Atoi(r[1])
		goodput, err2 := strconv.ParseFloat(r[3], 64)
		ok, err3 := strconv.ParseFloat(r[4], 64)
		p99, err4 := strconv.ParseFloat(r[8], 64)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return fmt.Errorf("row %v: %w", r, err)
		}
		s := byCanvas[r[0]]
		if s == nil {
			s = &series{}
			byCanvas[r[0]] = s
			order = append(order, r[0])
		}
		x := math.Log2(float64(conns))
		ticks[conns] = true
		s.goodput = append(s.goodput, plotter.XY{X: x, Y: goodput})
		s.p99 = append(s.p99, plotter.XY{X: x, Y: p99})
		s.shed = append(s.shed, plotter.XY{X: x, Y: 100 * (1 - ok)})
	}
	if len(order) == 0 {
		return fmt.Errorf("%s has no rows", tsvPath)
	}
	var tk []plot.Tick
	for c := range ticks {
		tk = append(tk, plot.Tick{Value: math.Log2(float64(c)), Label: strconv.Itoa(c)})
	}
	palette := []color.Color{color.RGBA{R: 200, A: 255}, color.RGBA{B: 200, A: 255}, color.RGBA{G: 140, A: 255}, color.Black}
	panel := func(name, ylabel string, pick func(*series) plotter.XYs) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = name
		p.X.Label.Text = "connections (wrk, closed loop)"
		p.Y.Label.Text = ylabel
		p.X.Tick.Marker = plot.ConstantTicks(tk)
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
		for i, c := range order {
			l, pts, err := plotter.NewLinePoints(pick(byCanvas[c]))
			if err != nil {
				return nil, err
			}
			col := palette[i%len(palette)]
			l.Color, pts.Color = col, col
			p.Add(l, pts)
			p.Legend.Add(c, l)
		}
		p.Legend.Top = true
		p.Y.Max *= 1.4 // headroom, so the legend at the top does not cover the lines
		return p, nil
	}
	gp, err := panel("goodput (200 answers/s)", "answers/s", func(s *series) plotter.XYs { return s.goodput })
	if err != nil {
		return err
	}
	lp, err := panel("served p99", "ms (server histogram)", func(s *series) plotter.XYs { return s.p99 })
	if err != nil {
		return err
	}
	sp, err := panel("shed share (503/429)", "% of answers", func(s *series) plotter.XYs { return s.shed })
	if err != nil {
		return err
	}
	sp.Y.Max = max(sp.Y.Max, 5)
	sp.Legend.Left = true
	const w, h = 15 * vg.Inch, 4.8 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	if title != "" {
		sty := gp.Title.TextStyle
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		dc.FillText(sty, vg.Point{X: w / 2, Y: h - vg.Millimeter*2}, title)
	}
	tiles := draw.Tiles{Rows: 1, Cols: 3, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4, PadTop: vg.Millimeter * 10, PadBottom: vg.Millimeter * 2}
	for i, p := range []*plot.Plot{gp, lp, sp} {
		p.Draw(tiles.At(dc, i, 0))
	}
	return writePNG(img, out)
}

// writePNG writes a drawn canvas to the file out.
func writePNG(img *vgimg.Canvas, out string) error {
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(o); err != nil {
		o.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	return o.Close()
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
