// Command consultreplay replays the second reader's consultation offline on validation codes (issue 12): it reads
// 5-digit validation codes once with the shipped fp32 model and pair reader but no second reader (fitted: seeds
// 33-52, held out: 11-16, as calibrate), keeps each digit's calibrated probabilities, its confirm features and the
// second reader's models' calibrated readings of its input (pair-read digits included: their inputs are
// ink.Lattice.PairHalves), then for each variant (which digits are consulted, at what shares; the pair reader's
// temperature; the shortness feature) refits calibrate's confirm policy (calibrate.FitPolicy, the 0.5% silent
// target) on the fitted codes and reports fitted asking / silent / exact, which right codes are asked and why
// (breakdown), and with -heldout the same on the held-out codes. It also reports the fitted codes with pair-read
// digits and the confusions of the codes read wrong without asking. The shipped variant reproduces the shipped
// card (fitted 12.25%, held out 11.30% / 0.50%). Session 15's tool; not part of any shipped path.
//
//	go run ./internal/consultreplay -dump /tmp/cr.gob                      # read the codes (~150 CPU s)
//	go run ./internal/consultreplay -load /tmp/cr.gob [-only NAME]         # replay the variants (fitted)
//	go run ./internal/consultreplay -load /tmp/cr.gob -only shipped -heldout
//	go run ./internal/consultreplay -load /tmp/cr.gob -grid                # confirm weights searched directly
//	go run ./internal/consultreplay -load A.gob -same B.gob                # are two dumps' readings the same?
package main

import (
	"cmp"
	"encoding/gob"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"digitpad/assets"
	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
	"digitpad/train"
	"digitpad/train/calibrate"
)

// digit is one digit of a reading.
type digit struct {
	Probs  [10]float64   // the digit model's (or pair reader's) calibrated probabilities
	Others [][10]float64 // each second-reader model's calibrated probabilities of the digit's input
	Pair   bool
	Edge   bool
	Box    [4]int
}

// code is one validation code's reading.
type code struct {
	Truth       string
	FormatError bool
	Digits      []digit
}

// dump is what -dump writes.
type dump struct {
	Fitted, Held []code
	Below        float64
	Weights      []float64
}

func main() {
	dumpPath := flag.String("dump", "", "read the codes and write them here")
	loadPath := flag.String("load", "", "replay the codes read into this file")
	only := flag.String("only", "", "replay only the variants whose name contains this")
	grid := flag.Bool("grid", false, "search the confirm model's weights for the lowest fitted asking (shipped consultation)")
	heldout := flag.Bool("heldout", false, "report held-out numbers too")
	fitted := flag.Int("codes", 10000, "fitted codes (seeds 33 on)")
	held := flag.Int("holdout", 3000, "held-out codes (seeds 11 on)")
	pngs := flag.String("pngs", "", "write the pair digits' inputs of the first -codes fitted codes as PNGs here")
	same := flag.String("same", "", "with -load: report whether this dump's readings (not the digits' inputs) equal -load's on their common codes")
	flag.Parse()
	if *same != "" {
		if err := compare(*loadPath, *same); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *pngs != "" {
		if err := writePNGs(*pngs, *fitted); err != nil {
			log.Fatal(err)
		}
		return
	}
	switch {
	case *dumpPath != "":
		if err := read(*dumpPath, *fitted, *held); err != nil {
			log.Fatal(err)
		}
	case *loadPath != "":
		if err := replay(*loadPath, *heldout, grid, *only, *fitted); err != nil {
			log.Fatal(err)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func read(path string, nFit, nHeld int) error {
	rec, err := shippedNoSecond()
	if err != nil {
		return err
	}
	ms, sc, err := onnxrec.SecondModels()
	if err != nil {
		return err
	}
	temps, weights := []float64{sc.Temperature}, []float64{sc.Weight}
	for _, m := range sc.More {
		temps, weights = append(temps, m.Temperature), append(weights, m.Weight)
	}
	var mu sync.Mutex // the second models are read one call at a time per model
	readSet := func(seed uint64, n int) []code {
		out := make([]code, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				s, k := seed+uint64(i/calibrate.CodesPerSeed), i%calibrate.CodesPerSeed
				img, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, s, k, 100)
				if err != nil {
					out[i] = code{FormatError: true}
					return
				}
				r, err := rec.Image(img, recognize.Options{})
				if err != nil {
					out[i] = code{Truth: sh.Code.Text, FormatError: true}
					return
				}
				c := code{Truth: sh.Code.Text, FormatError: r.FormatError != ""}
				in := make([]float32, len(r.Digits)*784)
				for j := range r.Digits {
					copy(in[j*784:], r.Inputs[j][:])
				}
				others := make([][][10]float64, len(r.Digits))
				for mi, m := range ms {
					o := make([]float32, len(r.Digits)*10)
					mu.Lock()
					err := m.Run(in, len(r.Digits), o)
					mu.Unlock()
					if err != nil {
						panic(err)
					}
					for j := range r.Digits {
						p := o[j*10 : (j+1)*10]
						if !m.OutputIsProbability() {
							softmax(p)
						}
						recognize.Temper(p, 1/temps[mi])
						var q [10]float64
						for cl := range 10 {
							q[cl] = float64(p[cl])
						}
						others[j] = append(others[j], q)
					}
				}
				for j, d := range r.Digits {
					c.Digits = append(c.Digits, digit{Probs: d.Probs, Others: others[j], Pair: d.Pair, Edge: d.Edge, Box: d.Box})
				}
				out[i] = c
			}()
		}
		wg.Wait()
		return out
	}
	d := dump{Below: sc.ConsultBelow, Weights: weights}
	d.Fitted = readSet(33, nFit)
	if nHeld > 0 {
		d.Held = readSet(11, nHeld)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return gob.NewEncoder(f).Encode(d)
}

func softmax(p []float32) {
	m := slices.Max(p)
	s := float32(0)
	for i := range p {
		p[i] = float32(math.Exp(float64(p[i] - m)))
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
}

// variant is which digits are consulted and how their readings are averaged.
type variant struct {
	name      string
	below     float64   // level for single digits (0: none consulted)
	pairBelow float64   // level for pair digits (0: none)
	weights   []float64 // the models' shares for single digits
	pairW     []float64 // for pair digits (nil: weights)
	shortAll  bool      // consult every short digit too
	keepPair  bool      // a consulted pair digit keeps the pair reader's digit (the average only scores it)
	// agree: a pair digit every second-reader model reads as the pair reader does loses its pair flag (1), and
	// also takes the average's confidence (2); with minConf, each model must read it at least that confidently.
	agree   int
	minConf float64
	// shortTouch: a digit's shortness counts only when its box touches a neighbour's (1: gap <= touchGap pixels)
	// or only when it does not (2).
	shortTouch int
	touchGap   int
	// pairTemp tempers the pair reader's probabilities (its own temperature; 0: none).
	pairTemp float64
}

// readings are the codes under v: recognize.Result's digits after consultation, as calibrate reads them.
func (v variant) readings(cs []code) (rs []train.Reading, exact int, reads []string) {
	for _, c := range cs {
		ds := make([]recognize.Digit, len(c.Digits))
		for i, d := range c.Digits {
			ds[i] = recognize.Digit{Probs: d.Probs, Pair: d.Pair, Edge: d.Edge, Box: d.Box}
		}
		short := make([]bool, len(ds))
		for i, dd := range recognize.Doubts(ds) {
			short[i] = dd.Short > 0
		}
		str := make([]byte, len(ds))
		conf := 1.0
		for i, d := range c.Digits {
			dg := &ds[i]
			if d.Pair && v.pairTemp > 0 {
				var q [10]float32
				for cl := range 10 {
					q[cl] = float32(d.Probs[cl])
				}
				recognize.Temper(q[:], 1/v.pairTemp)
				for cl := range 10 {
					dg.Probs[cl] = float64(q[cl])
				}
				d.Probs = dg.Probs
			}
			c0 := slices.Max(d.Probs[:])
			ws, lvl := v.weights, v.below
			if d.Pair {
				lvl = v.pairBelow
				if v.pairW != nil {
					ws = v.pairW
				}
			}
			if d.Pair && v.agree > 0 {
				k := argmax(d.Probs)
				ok := true
				for _, o := range d.Others {
					ok = ok && argmax(o) == k && o[k] >= v.minConf
				}
				if !ok && v.agree == 3 {
					for cl := range 10 {
						dg.Probs[cl] = 0.3*d.Probs[cl] + 0.4*d.Others[0][cl] + 0.3*d.Others[1][cl]
					}
					dg.Probs[k] = min(dg.Probs[k], d.Probs[k])
				}
				if ok && v.agree < 3 {
					dg.Pair = false
					if v.agree == 2 {
						for cl := range 10 {
							dg.Probs[cl] = 0.3*d.Probs[cl] + 0.4*d.Others[0][cl] + 0.3*d.Others[1][cl]
						}
					}
				}
			}
			if len(ds) >= 2 && (c0 < lvl || v.shortAll && short[i]) {
				rest := 1.0
				var mix [10]float64
				for mi, w := range ws {
					for cl := range 10 {
						mix[cl] += w * d.Others[mi][cl]
					}
					rest -= w
				}
				for cl := range 10 {
					dg.Probs[cl] = rest*d.Probs[cl] + mix[cl]
				}
			}
			dg.Digit = 0
			for cl := range 10 {
				if dg.Probs[cl] > dg.Probs[dg.Digit] {
					dg.Digit = cl
				}
			}
			if d.Pair && (v.keepPair || v.agree == 3) {
				dg.Digit = argmax(d.Probs)
			}
			dg.Confidence = dg.Probs[dg.Digit]
			conf *= dg.Confidence
			str[i] = byte('0' + dg.Digit)
		}
		rd := train.Reading{Confidence: conf, MinConfidence: 1, FormatError: c.FormatError, Correct: string(str) == c.Truth && !c.FormatError,
			Doubts: recognize.Doubts(ds)}
		if v.shortTouch > 0 {
			for i := range rd.Doubts {
				t := i > 0 && ds[i].Box[0]-ds[i-1].Box[2] <= v.touchGap || i+1 < len(ds) && ds[i+1].Box[0]-ds[i].Box[2] <= v.touchGap
				if t != (v.shortTouch == 1) {
					rd.Doubts[i].Short = 0
				}
			}
		}
		for _, d := range ds {
			rd.MinConfidence = min(rd.MinConfidence, d.Confidence)
		}
		if rd.Correct {
			exact++
		}
		rs, reads = append(rs, rd), append(reads, string(str))
	}
	return rs, exact, reads
}

func replay(path string, heldout bool, grid *bool, only string, n int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var d dump
	if err := gob.NewDecoder(f).Decode(&d); err != nil {
		return err
	}
	w := d.Weights
	if n < len(d.Fitted) {
		d.Fitted = d.Fitted[:n]
	}
	pairAccuracy(d.Fitted)
	fmt.Printf("pair reader's temperature fitted (NLL) on the fitted codes' pair digits: %.4f\n", pairTemperature(d.Fitted))
	pairCodes(d.Fitted, d.Below, w)
	silentReport(d.Fitted, d.Below, w)
	if *grid {
		gridSearch(d, w)
		return nil
	}
	vs := []variant{
		{name: "shipped (pair digits not consulted)", below: d.Below, weights: w},
		{name: "pair digits consulted below the level", below: d.Below, pairBelow: d.Below, weights: w},
		{name: "pair digits always consulted", below: d.Below, pairBelow: 1.01, weights: w},
	}
	for _, pw := range [][]float64{{0.3, 0.2}, {0.45, 0.35}, {0.5, 0.4}} {
		vs = append(vs, variant{name: fmt.Sprintf("pair digits below the level, shares %v", pw), below: d.Below, pairBelow: d.Below, weights: w, pairW: pw})
	}
	for _, pw := range [][]float64{nil, {0.3, 0.2}, {0.5, 0.4}} {
		vs = append(vs, variant{name: fmt.Sprintf("pair digits below, keep the pair digit, shares %v", pw), below: d.Below, pairBelow: d.Below, weights: w, pairW: pw, keepPair: true})
	}
	for _, mc := range []float64{0, 0.5, 0.9} {
		vs = append(vs, variant{name: fmt.Sprintf("pair digits the models agree on: no pair flag, min %g", mc), below: d.Below, weights: w, agree: 1, minConf: mc},
			variant{name: fmt.Sprintf("pair digits the models agree on: averaged, no flag, min %g", mc), below: d.Below, weights: w, agree: 2, minConf: mc})
	}
	for _, mc := range []float64{0, 0.5} {
		vs = append(vs, variant{name: fmt.Sprintf("pair digits a model reads otherwise: lowered to the average, min %g", mc), below: d.Below, weights: w, agree: 3, minConf: mc})
	}
	for _, lvl := range []float64{0.998, 0.999, 0.9995, 0.9999, 1.01} {
		vs = append(vs, variant{name: fmt.Sprintf("level %g", lvl), below: lvl, weights: w})
	}
	for _, g := range []int{0, 2, 5} {
		vs = append(vs, variant{name: fmt.Sprintf("shortness only touching a neighbour (gap <= %d)", g), below: d.Below, weights: w, shortTouch: 1, touchGap: g},
			variant{name: fmt.Sprintf("shortness only apart from neighbours (gap > %d)", g), below: d.Below, weights: w, shortTouch: 2, touchGap: g})
	}
	for _, pt := range []float64{0.5, 0.6, 0.7, 0.8, 0.8115, 0.85, 0.9, 0.92, 0.95, 0.97, 1.5, 2} {
		vs = append(vs, variant{name: fmt.Sprintf("pair reader's temperature %g", pt), below: d.Below, weights: w, pairTemp: pt})
	}
	vs = append(vs, variant{name: "short digits consulted too", below: d.Below, weights: w, shortAll: true},
		variant{name: "short digits and pair digits below the level", below: d.Below, pairBelow: d.Below, weights: w, shortAll: true},
		variant{name: "no second reader", weights: w})
	for _, v := range vs {
		if !strings.Contains(v.name, only) {
			continue
		}
		rs, ex, _ := v.readings(d.Fitted)
		pf := calibrate.FitPolicy(rs, 0.005, v.name, false, io.Discard)
		asked := breakdown(rs, pf)
		fmt.Printf("%-50s fitted asking %.2f%% silent %.2f%% exact %.2f%% (pair %.3f short %.3f one %.3f) %s\n", v.name,
			100*pf.Chosen.ConfirmRate, 100*pf.Chosen.SilentErrorRate, 100*float64(ex)/float64(len(rs)), pf.Model.Pair, pf.Model.Short, pf.Model.ShortOne, asked)
		if heldout && len(d.Held) > 0 {
			hr, hex, _ := v.readings(d.Held)
			h := pf.HeldOut(hr, "11-16")
			fmt.Printf("%-50s held out asking %.2f%% silent %.2f%% exact %.2f%% %s\n", "", 100*h.ConfirmRate, 100*h.SilentErrorRate,
				100*float64(hex)/float64(len(hr)), breakdown(hr, pf))
		}
	}
	return nil
}

// breakdown counts the right codes asked at the chosen threshold by what flags them: a pair-reader digit, a short
// digit whose shortness term flags it, or a digit's confidence alone.
func breakdown(rs []train.Reading, pf calibrate.PolicyFit) string {
	var pair, short, conf, mixed, right int
	t := pf.Chosen.Threshold
	for _, r := range rs {
		if !r.Correct {
			continue
		}
		scores := make([]float64, len(r.Doubts))
		for i, d := range r.Doubts {
			scores[i] = pf.Model.Score(d)
		}
		fl := recognize.ConfirmDigits(scores, t)
		if len(fl) == 0 && !r.FormatError {
			continue
		}
		right++
		var p, s, c bool
		for _, i := range fl {
			d := r.Doubts[i]
			switch {
			case d.Pair:
				p = true
			case d.Short > 0 && pf.Model.Score(recognize.Doubt{Confidence: d.Confidence, Short: d.Short, One: d.One}) < 0.98*d.Confidence:
				s = true
			default:
				c = true
			}
		}
		switch {
		case p && !s && !c:
			pair++
		case s && !p && !c:
			short++
		case c && !p && !s:
			conf++
		default:
			mixed++
		}
	}
	return fmt.Sprintf("right asked %d: pair %d, short %d, confidence %d, mixed %d", right, pair, short, conf, mixed)
}

// pairAccuracy reports, on the pair-reader digits of codes read as 5 digits, how often each reader's argmax is the
// written digit: the pair reader's and each second-reader model's (of the digit's half).
func pairAccuracy(cs []code) {
	var n, pr int
	var om [4]int
	eachPairDigit(cs, func(d digit, want int) {
		n++
		if argmax(d.Probs) == want {
			pr++
		}
		for mi, o := range d.Others {
			if argmax(o) == want {
				om[mi]++
			}
		}
	})
	fmt.Printf("pair digits %d: pair reader right %d, second-reader models on the halves right %v\n", n, pr, om[:2])
}

func argmax(p [10]float64) int {
	k := 0
	for i := range p {
		if p[i] > p[k] {
			k = i
		}
	}
	return k
}

// shippedNoSecond is the shipped fp32 recogniser at its card's temperature with the pair reader, without the
// second reader, for 5-digit codes.
func shippedNoSecond() (*recognize.Recognizer, error) {
	data, cardJSON := assets.Variant("fp32")
	lm, err := onnxrec.Load(data, cardJSON)
	if err != nil {
		return nil, err
	}
	pair, err := onnxrec.PairReader()
	if err != nil {
		return nil, err
	}
	return recognize.New(lm.Model, recognize.ModelInfo{Name: lm.Card.Name},
		recognize.Config{InputScale: lm.Card.InputScale, Temperature: lm.Card.Calibration.Temperature, Format: "5", Pair: pair})
}

// writePNGs writes the inputs of the pair-reader digits of the first n fitted codes (seed 33 on) into dir.
func writePNGs(dir string, n int) error {
	rec, err := shippedNoSecond()
	if err != nil {
		return err
	}
	for i := range n {
		img, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, 33+uint64(i/calibrate.CodesPerSeed), i%calibrate.CodesPerSeed, 100)
		if err != nil {
			return err
		}
		r, err := rec.Image(img, recognize.Options{})
		if err != nil {
			return err
		}
		for j, d := range r.Digits {
			if !d.Pair || len(r.Digits) != len(sh.Code.Text) {
				continue
			}
			f, err := os.Create(fmt.Sprintf("%s/%04d-%d-true%c-read%d.png", dir, i, j, sh.Code.Text[j], d.Digit))
			if err != nil {
				return err
			}
			if err := ink.EncodeInputPNG(f, &r.Inputs[j]); err != nil {
				return err
			}
			f.Close()
		}
	}
	return nil
}

// pairCodes reports the codes with pair-reader digits under the shipped policy: how many, wrong, asked.
func pairCodes(cs []code, below float64, w []float64) {
	v := variant{below: below, weights: w}
	rs, _, _ := v.readings(cs)
	pf := calibrate.FitPolicy(rs, 0.005, "", false, io.Discard)
	var n, wrong, asked, wrongAsked, rightAsked, agreeWrong, agreeRight, agreeRightAsked int
	for i, r := range rs {
		hasPair, agree := false, true
		for _, d := range cs[i].Digits {
			if d.Pair {
				hasPair = true
				k := argmax(d.Probs)
				for _, o := range d.Others {
					agree = agree && argmax(o) == k
				}
			}
		}
		if !hasPair {
			continue
		}
		n++
		p := 1.0
		for _, dd := range r.Doubts {
			p *= pf.Model.Score(dd)
		}
		a := p < pf.Chosen.Threshold || r.FormatError
		if a {
			asked++
		}
		if !r.Correct {
			wrong++
			if a {
				wrongAsked++
			}
			if agree {
				agreeWrong++
			}
		} else {
			if a {
				rightAsked++
			}
			if agree {
				agreeRight++
				if a {
					agreeRightAsked++
				}
			}
		}
	}
	fmt.Printf("codes with pair digits %d: wrong %d (asked %d), asked %d, right asked %d; all models agree on every pair digit: right %d (asked %d), wrong %d\n",
		n, wrong, wrongAsked, asked, rightAsked, agreeRight, agreeRightAsked, agreeWrong)
}

// gridSearch chooses the confirm model's weights (short, short_one, pair) by the fitted asking at the 0.5% target
// directly, instead of FitConfirm's logistic regression, and reports the best few and their held-out rates.
func gridSearch(d dump, w []float64) {
	v := variant{below: d.Below, weights: w}
	rs, _, _ := v.readings(d.Fitted)
	hr, _, _ := v.readings(d.Held)
	type res struct {
		m    recognize.ConfirmModel
		rate float64
		t    float64
	}
	var all []res
	for s := 0.0; s <= 1.2; s += 0.1 {
		for so := 0.0; so <= 2.0; so += 0.1 {
			for pr := 0.0; pr <= 0.9; pr += 0.05 {
				m := recognize.ConfirmModel{Short: s, ShortOne: so, Pair: pr}
				pt, ok := train.ChooseThreshold(train.RiskCoverage(train.Rescore(rs, m)), 0.005)
				if ok {
					all = append(all, res{m, pt.ConfirmRate, pt.Threshold})
				}
			}
		}
	}
	slices.SortFunc(all, func(a, b res) int { return cmp.Compare(a.rate, b.rate) })
	fit := calibrate.FitPolicy(rs, 0.005, "", false, io.Discard)
	h := fit.HeldOut(hr, "")
	fmt.Printf("logistic fit %+v: fitted %.2f%%, held out %.2f%% / %.2f%%\n", fit.Model, 100*fit.Chosen.ConfirmRate, 100*h.ConfirmRate, 100*h.SilentErrorRate)
	for _, r := range all[:min(15, len(all))] {
		p := calibrate.OperatingPoint(hr, r.m, r.t)
		fmt.Printf("grid %+v: fitted %.2f%%, held out %.2f%% / %.2f%%\n", r.m, 100*r.rate, 100*p.ConfirmRate, 100*p.SilentErrorRate)
	}
}

// pairTemperature fits the pair reader's temperature on the pair digits of codes read as 5 digits, labelled by
// position (as calibrate fits the second reader's on the digits it is consulted on), with train.FitTemperature.
func pairTemperature(cs []code) float64 {
	var probs []float32
	var labels []uint8
	eachPairDigit(cs, func(d digit, want int) {
		for _, p := range d.Probs {
			probs = append(probs, float32(p))
		}
		labels = append(labels, uint8(want))
	})
	t, err := train.FitTemperature(probs, labels)
	if err != nil {
		log.Fatal(err)
	}
	return t
}

// compare reports whether two dumps read their common fitted codes alike: the same digits, probabilities, boxes,
// pair flags and format errors (the second-reader models' readings of the inputs may differ).
func compare(a, b string) error {
	var ds [2]dump
	for i, p := range []string{a, b} {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = gob.NewDecoder(f).Decode(&ds[i])
		f.Close()
		if err != nil {
			return err
		}
	}
	n, diff := min(len(ds[0].Fitted), len(ds[1].Fitted)), 0
	for i := range n {
		x, y := ds[0].Fitted[i], ds[1].Fitted[i]
		ok := x.Truth == y.Truth && x.FormatError == y.FormatError && len(x.Digits) == len(y.Digits)
		for k := 0; ok && k < len(x.Digits); k++ {
			dx, dy := x.Digits[k], y.Digits[k]
			ok = dx.Probs == dy.Probs && dx.Pair == dy.Pair && dx.Edge == dy.Edge && dx.Box == dy.Box
		}
		if !ok {
			diff++
		}
	}
	fmt.Printf("%d codes compared, %d read differently\n", n, diff)
	return nil
}

// silentReport counts the fitted codes read wrong without asking under the shipped policy by the misread pairs
// (written->read) and whether the misread digit is a pair-read or a short one.
func silentReport(cs []code, below float64, w []float64) {
	v := variant{below: below, weights: w}
	rs, _, reads := v.readings(cs)
	pf := calibrate.FitPolicy(rs, 0.005, "", false, io.Discard)
	conf := map[string]int{}
	var n, pair, short int
	for i, r := range rs {
		if r.Correct || r.FormatError {
			continue
		}
		p := 1.0
		for _, dd := range r.Doubts {
			p *= pf.Model.Score(dd)
		}
		if p < pf.Chosen.Threshold {
			continue
		}
		n++
		c := cs[i]
		if len(r.Doubts) != len(c.Truth) {
			continue
		}
		for k, dd := range r.Doubts {
			{
				got := reads[i][k]
				if got != c.Truth[k] {
					conf[fmt.Sprintf("%c->%c", c.Truth[k], got)]++
					if dd.Pair {
						pair++
					}
					if dd.Short > 0 {
						short++
					}
				}
			}
		}
	}
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range conf {
		l = append(l, kv{k, v})
	}
	slices.SortFunc(l, func(a, b kv) int { return cmp.Compare(b.v, a.v) })
	fmt.Printf("silent wrong fitted codes %d: misread digits pair-read %d, short %d; %v\n", n, pair, short, l[:min(12, len(l))])
}

// eachPairDigit calls f with every pair-read digit of the codes read as as many digits as written, and the digit
// written there.
func eachPairDigit(cs []code, f func(d digit, want int)) {
	for _, c := range cs {
		if len(c.Digits) != len(c.Truth) {
			continue
		}
		for i, d := range c.Digits {
			if d.Pair {
				f(d, int(c.Truth[i]-'0'))
			}
		}
	}
}
