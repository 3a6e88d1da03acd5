package retrain

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"digitpad/train/report"
)

// perClassPlot draws base and candidate per-class accuracy on one set as paired bars.
func perClassPlot(title string, base, cand *Scores) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "accuracy (%)"
	p.X.Label.Text = "digit"
	bv, cv := make(plotter.Values, 10), make(plotter.Values, 10)
	for d := 0; d < 10; d++ {
		bv[d], cv[d] = 100*base.PerClass[d], 100*cand.PerClass[d]
	}
	w := vg.Points(8)
	bb, err := plotter.NewBarChart(bv, w)
	if err != nil {
		return nil, fmt.Errorf("retrain: plot: %w", err)
	}
	cb, err := plotter.NewBarChart(cv, w)
	if err != nil {
		return nil, fmt.Errorf("retrain: plot: %w", err)
	}
	bb.Color, cb.Color = color.RGBA{R: 160, G: 160, B: 160, A: 255}, color.RGBA{B: 200, A: 255}
	bb.Offset, cb.Offset = -w/2, w/2
	p.Add(bb, cb, plotter.NewGrid())
	p.Legend.Add("base", bb)
	p.Legend.Add("candidate", cb)
	p.Legend.Top, p.Legend.Left = false, true
	p.NominalX("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
	lo := 100.0
	for d := 0; d < 10; d++ {
		lo = min(lo, bv[d], cv[d])
	}
	p.Y.Min, p.Y.Max = max(0, lo-2), 100.5
	return p, nil
}

// deltaGrid is candidate minus base confusion counts.
type deltaGrid [10][10]int

func (g deltaGrid) Dims() (c, r int)   { return 10, 10 }
func (g deltaGrid) Z(c, r int) float64 { return float64(g[r][c]) }
func (g deltaGrid) X(c int) float64    { return float64(c) }
func (g deltaGrid) Y(r int) float64    { return float64(r) }

func deltaPlot(title string, base, cand *Scores) *plot.Plot {
	var g deltaGrid
	m := 1
	for t := range g {
		for q := range g[t] {
			g[t][q] = cand.Confusion[t][q] - base.Confusion[t][q]
			if t != q {
				m = max(m, g[t][q], -g[t][q])
			}
		}
	}
	pal := moreland.SmoothBlueRed()
	pal.SetMin(-float64(m))
	pal.SetMax(float64(m))
	hm := plotter.NewHeatMap(g, pal.Palette(64))
	hm.Min, hm.Max = -float64(m), float64(m)
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	p.Add(hm)
	var xy plotter.XYs
	var labels []string
	for t := 0; t < 10; t++ {
		for q := 0; q < 10; q++ {
			if g[t][q] != 0 {
				xy = append(xy, plotter.XY{X: float64(q), Y: float64(t)})
				labels = append(labels, fmt.Sprintf("%+d", g[t][q]))
			}
		}
	}
	if len(xy) > 0 {
		if l, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: labels}); err == nil {
			for i := range l.TextStyle {
				l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
			}
			p.Add(l)
		}
	}
	return p
}

// writeReport writes the retrain report PNG: per-class accuracy before/after on MNIST test, the feedback
// holdout and the synthetic evaluation, the confusion delta on the holdout and MNIST test, and the learning curve.
func writeReport(path string, ev *Evaluation, curve []report.Epoch) error {
	var plots []*plot.Plot
	for _, pair := range [][2]*Scores{{ev.Base.MNIST, ev.Cand.MNIST}, {ev.Base.Holdout, ev.Cand.Holdout}, {ev.Base.Synth, ev.Cand.Synth}} {
		if pair[0] == nil || pair[0].N == 0 {
			continue
		}
		p, err := perClassPlot(fmt.Sprintf("%s: %.2f%% -> %.2f%%", pair[0].Set, 100*pair[0].Accuracy, 100*pair[1].Accuracy), pair[0], pair[1])
		if err != nil {
			return err
		}
		plots = append(plots, p)
	}
	if ev.Base.Holdout != nil && ev.Base.Holdout.N > 0 {
		plots = append(plots, deltaPlot("confusion delta, feedback holdout", ev.Base.Holdout, ev.Cand.Holdout))
	}
	plots = append(plots, deltaPlot("confusion delta, MNIST test", ev.Base.MNIST, ev.Cand.MNIST))
	if len(curve) > 0 {
		lp := plot.New()
		lp.Title.Text = "Learning curve"
		lp.X.Label.Text = "step"
		lp.Y.Label.Text = "train loss (red), MNIST val accuracy / 100 (blue)"
		loss, acc := make(plotter.XYs, len(curve)), make(plotter.XYs, len(curve))
		for i, e := range curve {
			loss[i] = plotter.XY{X: float64(e.Steps), Y: e.TrainLoss}
			acc[i] = plotter.XY{X: float64(e.Steps), Y: e.ValAcc}
		}
		for _, s := range []struct {
			xy plotter.XYs
			c  color.Color
		}{{loss, color.RGBA{R: 200, A: 255}}, {acc, color.RGBA{B: 200, A: 255}}} {
			l, pts, err := plotter.NewLinePoints(s.xy)
			if err != nil {
				return fmt.Errorf("retrain: plot: %w", err)
			}
			l.Color, pts.Color = s.c, s.c
			lp.Add(l, pts)
		}
		lp.Add(plotter.NewGrid())
		plots = append(plots, lp)
	}
	const w, h = 5 * vg.Inch, 3.6 * vg.Inch
	cols := 3
	rows := (len(plots) + cols - 1) / cols
	img := vgimg.New(w*vg.Length(cols), h*vg.Length(rows))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols}
	for i, p := range plots {
		p.Draw(tiles.At(dc, i%cols, i/cols))
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("retrain: report: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("retrain: report: %w", err)
	}
	return f.Close()
}
