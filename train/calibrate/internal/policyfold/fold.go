package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"digitpad/shared/recognize"
	"digitpad/train"
	"digitpad/train/calibrate"
)

// rule is a way to fit a confirm policy on readings: the confirm model and the threshold.
type rule struct {
	name string
	fit  func(rs []train.Reading, target float64, edge bool) (recognize.ConfirmModel, float64)
}

func fitted(rs []train.Reading, edge bool) recognize.ConfirmModel {
	m, _ := train.FitConfirm(rs, edge)
	return m
}

func rules(image *recognize.ConfirmModel) []rule {
	var out []rule
	scaled := func(name string, f float64, model func([]train.Reading, bool) recognize.ConfirmModel) rule {
		return rule{name, func(rs []train.Reading, target float64, edge bool) (recognize.ConfirmModel, float64) {
			m := model(rs, edge)
			p, _ := train.ChooseThresholdBound(train.RiskCoverage(train.Rescore(rs, m)), len(rs), f*target, 0)
			return m, p.Threshold
		}}
	}
	bound := func(name string, conf float64, model func([]train.Reading, bool) recognize.ConfirmModel) rule {
		return rule{name, func(rs []train.Reading, target float64, edge bool) (recognize.ConfirmModel, float64) {
			m := model(rs, edge)
			p, _ := train.ChooseThresholdBound(train.RiskCoverage(train.Rescore(rs, m)), len(rs), target, conf)
			return m, p.Threshold
		}}
	}
	product := func([]train.Reading, bool) recognize.ConfirmModel { return recognize.ConfirmModel{} }
	noEdge := func(rs []train.Reading, _ bool) recognize.ConfirmModel { return fitted(rs, false) }
	for _, f := range []float64{1, 0.9, 0.8, 0.7, 0.6} {
		out = append(out, scaled(fmt.Sprintf("fitted model, target x%.1f", f), f, fitted))
	}
	for _, c := range []float64{0.5, 0.65, 0.75, 0.9, 0.95} {
		out = append(out, bound(fmt.Sprintf("fitted model, CP upper %.0f%%", 100*c), c, fitted))
	}
	for _, f := range []float64{1, 0.8} {
		out = append(out, scaled(fmt.Sprintf("no edge weight, target x%.1f", f), f, noEdge))
	}
	out = append(out, bound("no edge weight, CP upper 75%", 0.75, noEdge))
	for _, f := range []float64{1, 0.8} {
		out = append(out, scaled(fmt.Sprintf("product rule, target x%.1f", f), f, product))
	}
	out = append(out, bound("product rule, CP upper 75%", 0.75, product))
	if image != nil {
		im := func([]train.Reading, bool) recognize.ConfirmModel { return *image }
		for _, f := range []float64{1, 0.8} {
			out = append(out, scaled(fmt.Sprintf("image model, target x%.1f", f), f, im))
		}
		out = append(out, bound("image model, CP upper 75%", 0.75, im))
	}
	return out
}

// tally is a rule's counts over the out-of-fold codes.
type tally struct {
	ask, silent, n          int
	fitAsk, fitSilent, fitN int
	over                    int // repetitions whose pooled out-of-fold silent rate exceeds the target
	thr                     float64
	fits                    int
}

// group is readings with the index of their seed.
type group struct {
	rs    []train.Reading
	seeds []int
}

func counts(rs []train.Reading, m recognize.ConfirmModel, t float64) (ask, silent int) {
	for _, r := range train.Rescore(rs, m) {
		switch {
		case r.FormatError || r.Confidence < t:
			ask++
		case !r.Correct:
			silent++
		}
	}
	return ask, silent
}

func fold(paths []string, k, reps int, target float64, held string, image *recognize.ConfirmModel) error {
	var g group
	edge := false
	nseed := 0
	for _, p := range paths {
		d, err := loadDump(p)
		if err != nil {
			return err
		}
		edge = d.Strokes
		for i, r := range d.Readings {
			g.rs = append(g.rs, r)
			g.seeds = append(g.seeds, nseed+i/d.Per)
		}
		nseed += (d.N + d.Per - 1) / d.Per
	}
	rl := rules(image)
	ts := make([]tally, len(rl))
	for rep := range reps {
		order := rand.New(rand.NewPCG(uint64(rep), 1)).Perm(nseed)
		foldOf := make([]int, nseed)
		for i, s := range order {
			foldOf[s] = i % k
		}
		repSilent := make([]int, len(rl))
		for f := range k {
			var fit, test []train.Reading
			for i, r := range g.rs {
				if foldOf[g.seeds[i]] == f {
					test = append(test, r)
				} else {
					fit = append(fit, r)
				}
			}
			for j, r := range rl {
				m, t := r.fit(fit, target, edge)
				a, s := counts(test, m, t)
				fa, fs := counts(fit, m, t)
				ts[j].ask += a
				ts[j].silent += s
				ts[j].n += len(test)
				ts[j].fitAsk += fa
				ts[j].fitSilent += fs
				ts[j].fitN += len(fit)
				ts[j].thr += t
				ts[j].fits++
				repSilent[j] += s
			}
		}
		for j := range rl {
			if float64(repSilent[j]) > target*float64(len(g.rs))+1e-9 {
				ts[j].over++
			}
		}
	}
	fmt.Printf("%d codes (%d seeds) from %v, strokes=%v; %d-fold by seed x %d repetitions, target %.2f%%\n", len(g.rs), nseed, paths, edge, k, reps, 100*target)
	fmt.Printf("%-32s %8s %14s %14s %10s\n", "rule", "thr", "fit ask/silent", "oof ask/silent", "reps>tgt")
	for j, r := range rl {
		t := ts[j]
		fmt.Printf("%-32s %8.4f %6.2f/%5.3f%% %6.2f/%5.3f%% %6d/%d\n", r.name, t.thr/float64(t.fits),
			100*float64(t.fitAsk)/float64(t.fitN), 100*float64(t.fitSilent)/float64(t.fitN),
			100*float64(t.ask)/float64(t.n), 100*float64(t.silent)/float64(t.n), t.over, reps)
	}
	if held != "" {
		hs, _, err := loadReadings(splitList(held))
		if err != nil {
			return err
		}
		fmt.Printf("fitted on all %d codes, on %d other codes (%s):\n", len(g.rs), len(hs), held)
		for _, r := range rl {
			m, t := r.fit(g.rs, target, edge)
			fa, fs := counts(g.rs, m, t)
			a, s := counts(hs, m, t)
			fmt.Printf("%-32s %8.4f fitted %6.2f/%5.3f%% other %6.2f/%5.3f%% (%d silent)\n", r.name, t,
				100*float64(fa)/float64(len(g.rs)), 100*float64(fs)/float64(len(g.rs)),
				100*float64(a)/float64(len(hs)), 100*float64(s)/float64(len(hs)), s)
		}
	}
	return nil
}

// splitList splits a comma-separated list.
func splitList(s string) []string { return strings.Split(s, ",") }

// parseModel parses "short,short_one,pair[,edge]" (empty: nil).
func parseModel(s string) (*recognize.ConfirmModel, error) {
	if s == "" {
		return nil, nil
	}
	var m recognize.ConfirmModel
	var v [4]float64
	f := strings.Split(s, ",")
	for i := range f {
		if i >= 4 {
			return nil, fmt.Errorf("policyfold: model %q: too many weights", s)
		}
		x, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, fmt.Errorf("policyfold: model %q: %w", s, err)
		}
		v[i] = x
	}
	m.Short, m.ShortOne, m.Pair, m.Edge = v[0], v[1], v[2], v[3]
	return &m, nil
}

// policy fits calibrate.FitPolicy on the readings of paths and reports it, and on held (if any).
func policy(paths []string, target float64, held string) error {
	rs, strokes, err := loadReadings(paths)
	if err != nil {
		return err
	}
	f := calibrate.FitPolicy(rs, target, "dump", strokes, os.Stderr)
	f.Print(os.Stdout, "", target)
	if held == "" {
		return nil
	}
	hs, _, err := loadReadings(splitList(held))
	if err != nil {
		return err
	}
	f.HeldOut(hs, held).Print(os.Stdout, "")
	return nil
}

// loadReadings is the readings of the dumps at paths, in order, and whether they were read from strokes.
func loadReadings(paths []string) ([]train.Reading, bool, error) {
	var rs []train.Reading
	strokes := false
	for _, p := range paths {
		d, err := loadDump(p)
		if err != nil {
			return nil, false, err
		}
		rs, strokes = append(rs, d.Readings...), d.Strokes
	}
	return rs, strokes, nil
}
