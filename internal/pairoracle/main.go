// Command pairoracle bounds what a reader of two-digit pieces can buy on validation codes: for each code that
// `digitpad eval --items` read wrong, it rebuilds the recogniser's lattice (ink.SegmentFree, then
// SegmentCandidatesLattice with the format's 5 digits and recognize.MaxLatticeCandidates edges) and asks whether
// a path holds every written digit in its place with single-digit edges only, or once two-digit pieces
// (Lattice.Pairs) may stand for two neighbours. Single edges include the joins of two groups' pieces
// (LatticeEdge.Join), which the recogniser reads only when in doubt. With -why it prints, for codes with neither,
// the nodes no edge crosses (group bounds) and each digit's fitting edges or, when none fits, the nearest edge,
// its overlap with its neighbours and whether the canvas clips it. Validation writers only (synth.ValWriters).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

func main() {
	items := flag.String("items", "", "items file of digitpad eval (file, label, reading, asked)")
	seed := flag.Uint64("seed", 11, "validation seed the items were written with")
	writers := flag.Int("writers", 50, "writers of the set")
	flag.Parse()
	if err := run(*items, *seed, *writers); err != nil {
		slog.Error("pairoracle", "err", err)
		os.Exit(1)
	}
}

func run(items string, seed uint64, writers int) error {
	f, err := os.Open(items)
	if err != nil {
		return fmt.Errorf("items: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	var wrong, singles, withPair, neither, total, tightWrong int
	kinds := map[string]int{}
	for i := 0; sc.Scan(); i++ {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 4 {
			continue
		}
		total++
		if fs[1] == fs[2] {
			continue
		}
		wrong++
		if i%4 == 3 {
			tightWrong++
		}
		_, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, seed, i, writers)
		if err != nil {
			return err
		}
		m, err := ink.WorkMaskFromImage(sh.Image, ink.Options{})
		if err != nil {
			return err
		}
		m, free, err := ink.SegmentFree(m, ink.Options{}, 3)
		if err != nil {
			return err
		}
		_, lat, err := free.SegmentCandidatesLattice(ink.Options{ExpectDigits: 5}, 0, recognize.MaxLatticeCandidates)
		if err != nil {
			return err
		}
		fac := max(1, m.Factor)
		want := make([]image.Rectangle, len(sh.Code.Boxes))
		for k, b := range sh.Code.Boxes {
			want[k] = image.Rect(b.Min.X/fac, b.Min.Y/fac, b.Max.X/fac, b.Max.Y/fac)
		}
		s, p := holds(lat, want, false), holds(lat, want, true)
		kind := "neither"
		switch {
		case s:
			singles++
			kind = "singles"
		case p:
			withPair++
			kind = "pair"
		default:
			neither++
		}
		kinds[kind]++
		fmt.Printf("%d\t%s\t%s\t%s\ttight=%v\tpairs=%d\n", i, fs[1], fs[2], kind, i%4 == 3, len(lat.Pairs()))
		if *whyFlag && kind == "neither" {
			why(lat, want, m.W, m.H)
		}
	}
	fmt.Printf("codes %d, wrong %d (tight %d): right segmentation among single edges %d, only with a pair piece %d, neither %d\n",
		total, wrong, tightWrong, singles, withPair, neither)
	return sc.Err()
}

// holds reports whether some path of the lattice places every written digit: one edge centred on each digit,
// or (with pairs) one pair piece on two neighbours.
func holds(lat *ink.Lattice, want []image.Rectangle, pairs bool) bool {
	reach := make([][]bool, len(want)+1)
	for i := range reach {
		reach[i] = make([]bool, lat.Nodes)
	}
	reach[0][0] = true
	for i := range want {
		for _, e := range lat.Edges {
			if reach[i][e.From] && fits(e.Box, want[i], *singleTol) {
				reach[i+1][e.To] = true
			}
		}
		if pairs && i+1 < len(want) {
			u := want[i].Union(want[i+1])
			for _, e := range lat.Pairs() {
				if reach[i][e.From] && fits(e.Box, u, *pairTol) {
					reach[i+2][e.To] = true
				}
			}
		}
	}
	return reach[len(want)][lat.Nodes-1]
}

// fits reports whether got's centre is within tol of want's width from want's, and (with tol < 0.25, a strict
// test) its width within 1±tol of want's.
func fits(got, want image.Rectangle, tol float64) bool {
	if math.Abs(float64(got.Min.X+got.Max.X-want.Min.X-want.Max.X)/2) >= tol*float64(want.Dx()) {
		return false
	}
	r := float64(got.Dx()) / float64(want.Dx())
	return tol >= 0.25 || math.Abs(r-1) < tol
}

var (
	singleTol = flag.Float64("single-tol", 0.25, "a single edge fits a digit: centre within this share of its width (below 0.25 the width too)")
	whyFlag   = flag.Bool("why", false, "for codes with no right segmentation, print the digits no single edge fits")
	pairTol   = flag.Float64("pair-tol", 0.15, "a pair piece fits two neighbours: centre and width within this share of their union's width")
)

// why prints, for a code with no right segmentation, each digit that no single edge fits: its box, the nearest
// edge's box, its overlap in x with its neighbours (share of its width) and whether the canvas clips it.
func why(lat *ink.Lattice, want []image.Rectangle, w, h int) {
	var bars []int
	for v := 1; v+1 < lat.Nodes; v++ {
		if !slices.ContainsFunc(lat.Edges, func(e ink.LatticeEdge) bool { return e.From < v && v < e.To }) {
			bars = append(bars, v)
		}
	}
	fmt.Printf("\t\tnodes %d, no edge crosses %v\n", lat.Nodes, bars)
	for i, b := range want {
		var fit []string
		for _, e := range lat.Edges {
			if fits(e.Box, b, *singleTol) {
				fit = append(fit, fmt.Sprintf("%d-%d", e.From, e.To))
			}
		}
		if len(fit) > 0 {
			fmt.Printf("\t\tdigit %d want %v fits %v\n", i, b, fit)
			continue
		}
		near, nd := image.Rectangle{}, math.Inf(1)
		for _, e := range lat.Edges {
			if d := math.Abs(float64(e.Box.Min.X + e.Box.Max.X - b.Min.X - b.Max.X)); d < nd {
				near, nd = e.Box, d
			}
		}
		ov := 0.0
		for _, k := range []int{i - 1, i + 1} {
			if k >= 0 && k < len(want) {
				ov = max(ov, float64(min(b.Max.X, want[k].Max.X)-max(b.Min.X, want[k].Min.X))/float64(b.Dx()))
			}
		}
		clip := b.Min.X < 0 || b.Min.Y < 0 || b.Max.X > w || b.Max.Y > h
		fmt.Printf("\t\tdigit %d want %v nearest %v overlap %.2f clipped %v\n", i, b, near, ov, clip)
	}
}
