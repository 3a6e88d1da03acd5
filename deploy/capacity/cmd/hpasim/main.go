// Command hpasim runs the HPA simulation of package capacity against a shift-change burst and draws replicas,
// load, queueing and p99 over time as a PNG (`make capacity` writes deploy/capacity/hpa.png).
package main

import (
	"flag"
	"fmt"
	"image/color"
	"log"
	"os"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"digitpad/deploy/capacity"
)

func main() {
	p := capacity.Defaults()
	out := flag.String("out", "deploy/capacity/hpa.png", "PNG to write")
	base := flag.Float64("base", 100, "base load, requests/s")
	factor := flag.Float64("burst", 10, "burst = factor × base")
	cpu := flag.Duration("cpu-per-request", p.CPUPerRequest, "measured server CPU per request (deploy/capacity/measure.sh)")
	secs := flag.Int("seconds", 2400, "simulated seconds")
	flag.IntVar(&p.MaxReplicas, "max-replicas", p.MaxReplicas, "HPA maxReplicas")
	flag.IntVar(&p.MinReplicas, "min-replicas", p.MinReplicas, "HPA minReplicas")
	flag.Float64Var(&p.InFlightTarget, "inflight-target", p.InFlightTarget, "HPA averageValue of in-flight predictions per pod (0: off)")
	flag.DurationVar(&p.InFlightWindow, "inflight-window", p.InFlightWindow, "averaging window of the in-flight metric")
	flag.IntVar(&p.MinNodes, "min-nodes", p.MinNodes, "node group minimum")
	flag.Float64Var(&p.PodCores, "pod-cores", p.PodCores, "cores one pod can use under load")
	png := flag.Bool("png", true, "write the PNG")
	flag.Parse()
	p.CPUPerRequest = *cpu
	load := capacity.ShiftChange(*base, *factor, 300*time.Second, 30*time.Second, 600*time.Second)
	pts := capacity.Simulate(p, load, *secs)

	var offered, served, shed float64
	var peak, maxReady int
	var maxP99, maxQueue float64
	for _, x := range pts {
		offered += x.Offered
		served += x.Served
		shed += x.Shed
		peak = max(peak, x.Desired)
		maxReady = max(maxReady, x.Ready)
		maxP99 = max(maxP99, x.P99)
		maxQueue = max(maxQueue, x.Queue)
	}
	fmt.Printf("pod capacity %.0f req/s (%.2f ms CPU per request, %.1f cores); base %.0f req/s, burst %.0f req/s\n",
		p.Capacity(), p.CPUPerRequest.Seconds()*1000, p.PodCores, *base, *base**factor)
	fmt.Printf("replicas: min %d, peak desired %d, peak ready %d; max queue %.0f requests; max p99 %.0f ms; shed %.2f%% of offered\n",
		p.MinReplicas, peak, maxReady, maxQueue, maxP99*1000, 100*shed/offered)
	if !*png {
		return
	}
	if err := draw3(*out, pts, p); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", *out)
}

func series(pts []capacity.Point, get func(capacity.Point) float64) plotter.XYs {
	xy := make(plotter.XYs, len(pts))
	for i, x := range pts {
		xy[i] = plotter.XY{X: x.T / 60, Y: get(x)}
	}
	return xy
}

func addLine(p *plot.Plot, name string, xy plotter.XYs, c color.Color, dashed bool) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

var (
	blue   = color.RGBA{31, 119, 180, 255}
	orange = color.RGBA{255, 127, 14, 255}
	green  = color.RGBA{44, 160, 44, 255}
	red    = color.RGBA{214, 39, 40, 255}
	grey   = color.RGBA{120, 120, 120, 255}
)

func draw3(path string, pts []capacity.Point, p capacity.Params) error {
	mu := p.Capacity()
	load := plot.New()
	load.Title.Text = "Load (requests/s)"
	reps := plot.New()
	reps.Title.Text = "Replicas"
	lat := plot.New()
	lat.Title.Text = "p99 latency (ms) and queue (requests)"
	for _, pl := range []*plot.Plot{load, reps, lat} {
		pl.X.Label.Text = "minutes"
		pl.Legend.Top = true
		pl.Add(plotter.NewGrid())
	}
	steps := []struct {
		pl     *plot.Plot
		name   string
		get    func(capacity.Point) float64
		c      color.Color
		dashed bool
	}{
		{load, "offered", func(x capacity.Point) float64 { return x.Offered }, grey, true},
		{load, "served", func(x capacity.Point) float64 { return x.Served }, blue, false},
		{load, "capacity of ready pods", func(x capacity.Point) float64 { return float64(x.Ready) * mu }, green, true},
		{load, "shed (503)", func(x capacity.Point) float64 { return x.Shed }, red, false},
		{reps, "desired (HPA)", func(x capacity.Point) float64 { return float64(x.Desired) }, orange, true},
		{reps, "ready", func(x capacity.Point) float64 { return float64(x.Ready) }, blue, false},
		{reps, "nodes (cluster-autoscaler scale-down not modelled)", func(x capacity.Point) float64 { return float64(x.Nodes) }, grey, true},
		{lat, "p99 ms", func(x capacity.Point) float64 { return 1000 * x.P99 }, red, false},
		{lat, "queued requests", func(x capacity.Point) float64 { return x.Queue }, blue, true},
	}
	for _, s := range steps {
		if err := addLine(s.pl, s.name, series(pts, s.get), s.c, s.dashed); err != nil {
			return err
		}
	}
	w, h := 22*vg.Centimeter, 8*vg.Centimeter
	img := vgimg.New(w, 3*h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 3, Cols: 1, PadX: vg.Millimeter * 3, PadY: vg.Millimeter * 3,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	for i, pl := range []*plot.Plot{load, reps, lat} {
		pl.Draw(tiles.At(dc, 0, i))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
