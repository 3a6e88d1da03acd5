// Package report writes the training report: learning-curve and confusion-matrix PNG plots (gonum.org/v1/plot)
// and the model card JSON that ships beside the model.
package report

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Epoch is one epoch's numbers for the learning curves.
type Epoch struct {
	Epoch     int     `json:"epoch"`
	Steps     int     `json:"steps"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	ValAcc    float64 `json:"val_acc"`
	Seconds   float64 `json:"seconds"`
	LR        float64 `json:"lr_end"`
}

// Confusion counts predictions: Confusion[true][predicted].
type Confusion [10][10]int

// Accuracy is the fraction on the diagonal.
func (c *Confusion) Accuracy() float64 {
	var ok, all int
	for t := range c {
		for p, v := range c[t] {
			all += v
			if p == t {
				ok += v
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(ok) / float64(all)
}

// PerClass is the recall of each true class.
func (c *Confusion) PerClass() [10]float64 {
	var r [10]float64
	for t := range c {
		var all int
		for _, v := range c[t] {
			all += v
		}
		if all > 0 {
			r[t] = float64(c[t][t]) / float64(all)
		}
	}
	return r
}

// LearningCurves writes a PNG with training loss and validation accuracy per epoch.
func LearningCurves(path string, epochs []Epoch) error {
	if len(epochs) == 0 {
		return fmt.Errorf("learning curves: no epochs")
	}
	loss := make(plotter.XYs, len(epochs))
	acc := make(plotter.XYs, len(epochs))
	for i, e := range epochs {
		loss[i] = plotter.XY{X: float64(e.Epoch), Y: e.TrainLoss}
		acc[i] = plotter.XY{X: float64(e.Epoch), Y: 100 * e.ValAcc}
	}
	pl := plot.New()
	pl.Title.Text = "Training loss"
	pl.X.Label.Text = "epoch"
	pl.Y.Label.Text = "loss (smoothed cross-entropy)"
	if err := addLine(pl, loss, color.RGBA{R: 200, A: 255}); err != nil {
		return err
	}
	pa := plot.New()
	pa.Title.Text = "Validation accuracy"
	pa.X.Label.Text = "epoch"
	pa.Y.Label.Text = "accuracy (%)"
	if err := addLine(pa, acc, color.RGBA{B: 200, A: 255}); err != nil {
		return err
	}
	return saveTiles(path, pl, pa)
}

func addLine(p *plot.Plot, xys plotter.XYs, c color.Color) error {
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("plot line: %w", err)
	}
	l.Color, pts.Color = c, c
	p.Add(l, pts, plotter.NewGrid())
	return nil
}

func saveTiles(path string, plots ...*plot.Plot) error {
	const w, h = 6 * vg.Inch, 4 * vg.Inch
	img := vgimgCanvas(w*vg.Length(len(plots)), h)
	for i, p := range plots {
		p.Draw(img.tile(i, len(plots)))
	}
	return img.save(path)
}

// ConfusionHeatMap writes a PNG heat map of c (log-scaled colours, counts written in each cell).
func ConfusionHeatMap(path, title string, c *Confusion) error {
	g := grid{c: c}
	hm := plotter.NewHeatMap(g, whiteToBlue(64))
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	p.Add(hm)
	var xy plotter.XYs
	var labels []string
	for t := 0; t < 10; t++ {
		for q := 0; q < 10; q++ {
			if c[t][q] == 0 {
				continue
			}
			xy = append(xy, plotter.XY{X: float64(q), Y: float64(t)})
			labels = append(labels, fmt.Sprint(c[t][q]))
		}
	}
	if len(xy) > 0 {
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: labels})
		if err != nil {
			return fmt.Errorf("confusion labels: %w", err)
		}
		var most int
		for t := range c {
			for _, v := range c[t] {
				most = max(most, v)
			}
		}
		for i := range lb.TextStyle {
			if math.Log1p(float64(c[int(xy[i].Y)][int(xy[i].X)])) > 0.6*math.Log1p(float64(most)) {
				lb.TextStyle[i].Color = color.White // readable on the dark cells
			}
			lb.TextStyle[i].XAlign = -0.5
			lb.TextStyle[i].YAlign = -0.5
			lb.TextStyle[i].Font.Size = vg.Points(8)
		}
		p.Add(lb)
	}
	ticks := make([]plot.Tick, 10)
	for i := range ticks {
		ticks[i] = plot.Tick{Value: float64(i), Label: fmt.Sprint(i)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("confusion plot: %w", err)
	}
	if err := p.Save(7*vg.Inch, 6*vg.Inch, path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// whiteToBlue runs from white (no samples) to dark blue (the most), so empty cells stay blank.
type whiteToBlue int

func (n whiteToBlue) Colors() []color.Color {
	cs := make([]color.Color, int(n))
	for i := range cs {
		t := float64(i) / float64(max(1, int(n)-1))
		cs[i] = color.RGBA{R: uint8(255 - 225*t), G: uint8(255 - 175*t), B: uint8(255 - 90*t), A: 255}
	}
	return cs
}

// grid adapts a Confusion to plotter.GridXYZ; colours use log(1+count) so rare mistakes stay visible.
type grid struct{ c *Confusion }

func (g grid) Dims() (c, r int)   { return 10, 10 }
func (g grid) Z(c, r int) float64 { return math.Log1p(float64(g.c[r][c])) }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

// Card is the model card stored as JSON beside the model.
type Card struct {
	Name         string       `json:"name"`
	File         string       `json:"file"`
	SHA256       string       `json:"sha256"`
	Date         string       `json:"date"`
	Input        string       `json:"input"`
	Output       string       `json:"output"`
	Architecture Architecture `json:"architecture"`
	Data         Data         `json:"data"`
	Training     Training     `json:"training"`
	Metrics      Metrics      `json:"metrics"`
}

// Architecture summarises the network.
type Architecture struct {
	Spec      string   `json:"spec"`
	Layers    []string `json:"layers"`
	Params    int      `json:"params"`
	MACs      int      `json:"macs_per_sample"`
	ONNXOps   []string `json:"onnx_ops"`
	Opset     int      `json:"opset"`
	IRVersion int      `json:"ir_version"`
}

// Data describes the training, validation and test data.
type Data struct {
	Source     string `json:"source"`
	Train      int    `json:"train_samples"`
	Validation string `json:"validation"`
	Test       string `json:"test"`
}

// Training records how the model was trained.
type Training struct {
	Seed           uint64  `json:"seed"`
	Epochs         int     `json:"epochs"`
	BestEpoch      int     `json:"best_epoch"`
	Steps          int     `json:"steps"`
	Batch          int     `json:"batch"`
	Workers        int     `json:"workers"`
	Optimizer      string  `json:"optimizer"`
	Schedule       string  `json:"schedule"`
	LabelSmoothing float64 `json:"label_smoothing"`
	Augmentation   any     `json:"augmentation"`
	Seconds        float64 `json:"seconds"`
	History        []Epoch `json:"history"`
}

// Metrics are the evaluation results of the shipped checkpoint.
type Metrics struct {
	ValAccuracy     float64     `json:"val_accuracy"`
	TestAccuracy    float64     `json:"mnist_test_accuracy"`
	TestErrors      int         `json:"mnist_test_errors"`
	PerClassTestAcc [10]float64 `json:"per_class_test_accuracy"`
	TestConfusion   Confusion   `json:"mnist_test_confusion"`
}

// WriteCard writes c as indented JSON.
func WriteCard(path string, c *Card) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("model card: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("model card: %w", err)
	}
	return nil
}

// RiskCoveragePoint is one point of a confirm policy's risk–coverage curve.
type RiskCoveragePoint struct {
	ConfirmRate, SilentErrorRate float64
}

// RiskCoverageCurve is one confirm policy's risk–coverage curve, named in the legend.
type RiskCoverageCurve struct {
	Name   string
	Points []RiskCoveragePoint
}

// RiskCoverage writes a PNG of silent-error rate against confirm rate (both in %) of one or more policies (the
// first is the chosen one), with the chosen operating point marked and the target as a horizontal line.
func RiskCoverage(path, title string, curves []RiskCoverageCurve, chosen RiskCoveragePoint, target float64) error {
	if len(curves) == 0 || len(curves[0].Points) == 0 {
		return fmt.Errorf("risk-coverage: empty curve")
	}
	pl := plot.New()
	pl.Title.Text = title
	pl.X.Label.Text = "codes asking the clerk to confirm (%)"
	pl.Y.Label.Text = "codes wrong without asking (%)"
	colors := []color.RGBA{{B: 200, A: 255}, {R: 120, G: 120, B: 120, A: 255}, {G: 150, A: 255}}
	for k, c := range curves {
		xys := make(plotter.XYs, len(c.Points))
		for i, p := range c.Points {
			xys[i] = plotter.XY{X: 100 * p.ConfirmRate, Y: 100 * p.SilentErrorRate}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("risk-coverage: %w", err)
		}
		l.Color = colors[k%len(colors)]
		if k > 0 {
			l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		}
		pl.Add(l)
		pl.Legend.Add(c.Name, l)
	}
	tl, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 100 * target}, {X: 100, Y: 100 * target}})
	if err != nil {
		return fmt.Errorf("risk-coverage: %w", err)
	}
	tl.Color = color.RGBA{R: 200, A: 255}
	tl.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	pt, err := plotter.NewScatter(plotter.XYs{{X: 100 * chosen.ConfirmRate, Y: 100 * chosen.SilentErrorRate}})
	if err != nil {
		return fmt.Errorf("risk-coverage: %w", err)
	}
	pt.Color = color.RGBA{R: 200, A: 255}
	pt.Radius = vg.Points(4)
	pl.Add(tl, pt, plotter.NewGrid())
	pl.Legend.Add("silent-error target", tl)
	pl.Legend.Add("chosen threshold", pt)
	pl.Legend.Top = true
	return saveTiles(path, pl)
}
