package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// pairRow is a PAIR line where exactly one of the whole and the split reads right.
type pairRow struct {
	x     [6]float64 // bias, ln whole, mean ln halves, ln lower half, cut strokes (0 apart), shorter piece height
	whole bool       // the whole reads right
	mnist bool       // an MNIST canvas (else a two-digit code)
	cur   bool       // the recogniser read it right
}

// mnistWeight is how much an MNIST canvas row weighs in the fit against a two-digit code row.
const mnistWeight = 10

// fitPairs fits recognize.wholeWins's logistic model to the PAIR lines of the files (canvasgap -pairs on the
// MNIST validation split and canvasgap -two N -pairs) and prints its weights and how many rows it and the
// recogniser that printed them get wrong, per kind.
func fitPairs(paths []string) error {
	var rows []pairRow
	for _, p := range paths {
		rs, err := readPairs(p)
		if err != nil {
			return err
		}
		rows = append(rows, rs...)
	}
	if len(rows) == 0 {
		return fmt.Errorf("fit: no decisive PAIR lines in %v", paths)
	}
	w := logistic(rows, 3000, 0.5, 1e-3)
	fmt.Printf("wsBias = %.2f, wsWhole = %.2f, wsSplitGeo = %.2f, wsSplitMin = %.2f, wsCut = %.2f, wsMinHeight = %.2f\n",
		w[0], w[1], w[2], w[3], w[4], w[5])
	for _, mn := range []bool{true, false} {
		n, fitErr, curErr := 0, 0, 0
		for _, r := range rows {
			if r.mnist != mn {
				continue
			}
			n++
			fitErr += b2i((dot(w, r.x) > 0) != r.whole)
			curErr += b2i(!r.cur)
		}
		fmt.Printf("mnist %v: %d rows, fitted rule wrong on %d, the recogniser on %d\n", mn, n, fitErr, curErr)
	}
	return nil
}

// readPairs parses the decisive PAIR lines of a canvasgap -pairs output.
func readPairs(path string) ([]pairRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	defer f.Close()
	var rows []pairRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if fs[0] != "PAIR" || len(fs) < 5 {
			continue
		}
		r := pairRow{mnist: fs[1] != "two"}
		text, k := fs[3], 4 // MNIST: PAIR style index label ...
		if !r.mnist {
			k = 6 // PAIR two index text tight 0 ...
		}
		kv := map[string][]string{}
		for _, f := range fs[k:] {
			parts := strings.Fields(f)
			if len(parts) > 0 {
				kv[parts[0]] = parts[1:]
			}
		}
		num := func(key string, i int) float64 {
			if v := kv[key]; i < len(v) {
				x, _ := strconv.ParseFloat(v[i], 64)
				return x
			}
			return math.NaN()
		}
		str := func(key string) string {
			if v := kv[key]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		r.whole, r.cur = str("whole") == text, str("got") == text
		if r.whole == (str("split") == text) {
			continue
		}
		l1, l2 := math.Log(max(num("split", 1), 1e-6)), math.Log(max(num("split", 2), 1e-6))
		cut := num("cut", 0)
		if math.IsNaN(cut) {
			cut = 0
		}
		r.x = [6]float64{1, math.Log(max(num("whole", 1), 1e-6)), (l1 + l2) / 2, min(l1, l2), cut,
			min(num("heights", 0), num("heights", 1))}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// logistic fits weights by gradient descent on standardised features (L2 penalty l2, bias unpenalised), MNIST
// rows weighted mnistWeight, and returns them on the raw features.
func logistic(rows []pairRow, iters int, lr, l2 float64) [6]float64 {
	var mu, sd [6]float64
	sd[0] = 1
	for j := 1; j < 6; j++ {
		for _, r := range rows {
			mu[j] += r.x[j]
		}
		mu[j] /= float64(len(rows))
		for _, r := range rows {
			sd[j] += (r.x[j] - mu[j]) * (r.x[j] - mu[j])
		}
		sd[j] = max(math.Sqrt(sd[j]/float64(len(rows))), 1e-6)
	}
	z := make([][6]float64, len(rows))
	wt := make([]float64, len(rows))
	sum := 0.0
	for i, r := range rows {
		for j := range 6 {
			z[i][j] = (r.x[j] - mu[j]) / sd[j]
		}
		wt[i] = 1
		if r.mnist {
			wt[i] = mnistWeight
		}
		sum += wt[i]
	}
	var w [6]float64
	for range iters {
		var g [6]float64
		for i, r := range rows {
			e := (1/(1+math.Exp(-dot(w, z[i]))) - float64(b2i(r.whole))) * wt[i]
			for j := range 6 {
				g[j] += e * z[i][j]
			}
		}
		for j := range 6 {
			pen := l2 * w[j]
			if j == 0 {
				pen = 0
			}
			w[j] -= lr * (g[j]/sum + pen)
		}
	}
	out := w
	for j := 1; j < 6; j++ {
		out[j] = w[j] / sd[j]
		out[0] -= w[j] * mu[j] / sd[j]
	}
	return out
}

func dot(a, b [6]float64) float64 {
	s := 0.0
	for j := range a {
		s += a[j] * b[j]
	}
	return s
}
