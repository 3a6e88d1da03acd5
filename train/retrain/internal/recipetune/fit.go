package main

// fitOnly is recipetune -fit: fine-tuning alone, scored on validation data only.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"digitpad/assets"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/train/cnn"
	"digitpad/train/export"
	"digitpad/train/mnist"
	"digitpad/train/retrain"
)

func acc(net *cnn.Net, x []float32, l []uint8) float64 {
	r := net.NewReplica(0, 0)
	right := 0
	for from := 0; from < len(l); from += 256 {
		to := min(from+256, len(l))
		p := r.Probabilities(x[from*784:to*784], to-from)
		for i := from; i < to; i++ {
			row := p[(i-from)*10 : (i-from+1)*10]
			b := 0
			for k, v := range row {
				if v > row[b] {
					b = k
				}
			}
			if b == int(l[i]) {
				right++
			}
		}
	}
	return float64(right) / float64(len(l))
}

func fitOnly(ctx context.Context, style retrain.Style, variants string) {
	onnx, card := assets.Variant("fp32")
	rec, err := onnxrec.New(onnx, card, recognize.Config{})
	if err != nil {
		panic(err)
	}
	// feedback as in recipetune and the proof test; style validation from another seed
	type digits struct {
		x        []float32
		l        []uint8
		corr     []bool
		shifted  []bool
		records  int
		nshifted int
	}
	collect := func(seed uint64, n int) digits {
		fs, _, err := retrain.StyleFeedback(rec, rand.New(rand.NewPCG(seed, 14)), style, n, func(int) string { return "c" }, time.Now())
		if err != nil {
			panic(err)
		}
		var d digits
		for _, f := range fs {
			lab := make([]uint8, len(f.Labels))
			read := make([]int, len(f.Labels))
			for k := range f.Labels {
				lab[k], read[k] = uint8(f.Labels[k]), f.Digits[k].Digit
			}
			sh := retrain.Misaligned(read, lab)
			for k := range f.Labels {
				for _, b := range f.Inputs[k] {
					d.x = append(d.x, float32(b)/255)
				}
				d.l = append(d.l, lab[k])
				d.corr = append(d.corr, read[k] != int(lab[k]))
				d.shifted = append(d.shifted, sh)
				if sh {
					d.nshifted++
				}
			}
			d.records++
		}
		return d
	}
	fb := collect(2026, 300)
	nh := int(0.25*float64(fb.records) + 0.5)
	cut := 5 * (fb.records - nh)
	hx, hl := fb.x[cut*784:], fb.l[cut:]
	val := collect(555, 250)
	svx, svl := val.x, val.l
	fmt.Printf("feedback: %d records, %d train digits (%d misaligned), %d holdout digits; style val %d digits (%d in misaligned records)\n",
		fb.records, cut, func() int {
			n := 0
			for _, s := range fb.shifted[:cut] {
				if s {
					n++
				}
			}
			return n
		}(), len(hl), len(svl), val.nshifted)
	rw := retrain.StrokeWriters{Rec: rec}
	syx, syl, err := rw.Digits(77<<20|7, 1000)
	if err != nil {
		panic(err)
	}
	var synx []float32
	for _, x := range syx {
		synx = append(synx, x[:]...)
	}
	dir, err := mnist.Locate(ctx, "")
	if err != nil {
		panic(err)
	}
	trainAll, _, err := mnist.Load(dir)
	if err != nil {
		panic(err)
	}
	mtrain, mval := trainAll.Slice(0, 55000), trainAll.Slice(55000, 60000)
	for _, v := range strings.Split(variants, ",") {
		set := settings(v)
		or := func(k string, def float64) float64 {
			if x, ok := set[k]; ok {
				return x
			}
			return def
		}
		steps, lr, cw, fw, mpc := int(or("steps", 800)), or("lr", 1.5e-4), int(or("cw", 4)), int(or("fw", 1)), int(or("mnist", 4000))
		extra, freeze, aug, shift := int(set["extra"]), int(set["freeze"]), set["aug"] != 0, set["shift"] != 0
		net, err := export.Import(onnx)
		if err != nil {
			panic(err)
		}
		if freeze > 0 {
			for i := 0; i < freeze && i < len(net.Arch); i++ {
				for _, p := range net.LayerParams(i) {
					p.Trainable = false
				}
			}
		}
		mix := &retrain.Mix{}
		r := rand.New(rand.NewPCG(1, 0xba1a))
		byClass := make([][]int, 10)
		for i, l := range mtrain.Labels {
			byClass[l] = append(byClass[l], i)
		}
		for _, idx := range byClass {
			for k := 0; k < mpc; k++ {
				i := idx[r.IntN(len(idx))]
				mix.Add(mtrain.Image(i), mtrain.Labels[i], true, 1)
			}
		}
		for i := 0; i < cut; i++ {
			if shift && fb.shifted[i] {
				continue
			}
			t := fw
			if fb.corr[i] {
				t = cw
			}
			mix.Add(fb.x[i*784:(i+1)*784], fb.l[i], aug, t)
		}
		sx, sl, err := rw.Digits(1<<20|1, 1000)
		if err != nil {
			panic(err)
		}
		for i := range sx {
			mix.Add(sx[i][:], sl[i], false, 1)
		}
		if extra > 0 {
			ex, el, err := retrain.StrokeWriters{Rec: rec, Params: style.Writer}.Digits(4242, extra)
			if err != nil {
				panic(err)
			}
			for i := range ex {
				mix.Add(ex[i][:], el[i], false, 1)
			}
		}
		t0 := time.Now()
		if _, err := retrain.Fit(ctx, net, mix, nil, retrain.FitConfig{Steps: steps, Batch: 64, Workers: 2, LR: lr, WeightDecay: 5e-5, Seed: 1}, os.Stderr); err != nil {
			panic(err)
		}
		fmt.Printf("RESULT %-36s holdout %.2f  styleval %.2f  mnistval %.2f  synth %.2f  (mix %d, %s)\n", v,
			100*acc(net, hx, hl), 100*acc(net, svx, svl), 100*acc(net, mval.Images, mval.Labels), 100*acc(net, synx, syl),
			mix.Len(), time.Since(t0).Round(time.Second))
	}
}
