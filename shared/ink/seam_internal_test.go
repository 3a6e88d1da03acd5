package ink

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// randomBlobMask draws a few thick random walks (touching, crossing, slanted ink) on a w×h mask.
func randomBlobMask(rng *rand.Rand, w, h int) *Mask {
	m := &Mask{W: w, H: h, Pix: make([]uint8, w*h)}
	for range 1 + rng.IntN(4) {
		x, y := rng.Float64()*float64(w), rng.Float64()*float64(h)
		r := 1 + rng.Float64()*float64(min(w, h))/8
		for range 5 + rng.IntN(60) {
			x += rng.NormFloat64() * 2
			y += rng.NormFloat64() * 2
			for yy := int(y - r); yy <= int(y+r); yy++ {
				for xx := int(x - r); xx <= int(x+r); xx++ {
					dx, dy := float64(xx)-x, float64(yy)-y
					if xx >= 0 && yy >= 0 && xx < w && yy < h && dx*dx+dy*dy <= r*r {
						m.Pix[yy*w+xx] = 255
					}
				}
			}
		}
	}
	return m
}

// referenceProjection counts g's ink pixels column by column.
func referenceProjection(lay *layout, g *group) []int {
	proj := make([]int, g.w())
	in := lay.compSet(g.comps)
	for _, r := range lay.l.runs[lay.l.rowStart[g.y0]:lay.l.rowStart[g.y1]] {
		if in(r.comp) {
			for x := r.x0; x < r.x1; x++ {
				proj[int(x)-g.x0]++
			}
		}
	}
	return proj
}

// referenceSweep is seamSweep.run with every column priced by the general step (no interior or side loops).
func referenceSweep(sw *seamSweep, from, to, dir int, steps []int8) []float64 {
	w := sw.w
	acc, next := make([]float64, w), make([]float64, w)
	for x := range acc {
		acc[x] = sw.cost(sw.ink[from*w:(from+1)*w], x)
	}
	for y := from + dir; y != to+dir; y += dir {
		row := sw.ink[y*w : (y+1)*w]
		for x := range w {
			best, step := acc[x], int8(0)
			if x > 0 && acc[x-1]+sw.bend < best {
				best, step = acc[x-1]+sw.bend, -1
			}
			if x+1 < w && acc[x+1]+sw.bend < best {
				best, step = acc[x+1]+sw.bend, 1
			}
			next[x], steps[y*w+x] = best+sw.cost(row, x), step
		}
		acc, next = next, acc
	}
	return acc
}

// TestGroupSeams_MatchReference: the projection and the seams (mid-height costs and both sweeps' steps) of every
// group of random masks — narrow, wide, on and off the stack — equal the column-by-column definitions, to the bit.
func TestGroupSeams_MatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 13))
	groups := 0
	for i := range 400 {
		w, h := 8+rng.IntN(150), 8+rng.IntN(90)
		lay, err := plan(randomBlobMask(rng, w, h), Options{})
		if err != nil {
			continue
		}
		for gi := range lay.groups {
			g := &lay.groups[gi]
			groups++
			if got, want := lay.projection(g), referenceProjection(lay, g); !slices.Equal(got, want) {
				t.Fatalf("mask %d group %d: projection %v, want %v", i, gi, got, want)
			}
			s := lay.groupSeams(g)
			gw, gh := g.w(), g.h()
			ink := make([]uint8, gw*gh)
			in := lay.compSet(g.comps)
			for _, r := range lay.l.runs[lay.l.rowStart[g.y0]:lay.l.rowStart[g.y1]] {
				if in(r.comp) {
					for x := r.x0; x < r.x1; x++ {
						ink[(int(r.y)-g.y0)*gw+int(x)-g.x0] = 1
					}
				}
			}
			sw := lay.seamSweep(ink, gw)
			down, up := make([]int8, gw*gh), make([]int8, gw*gh)
			dc := referenceSweep(&sw, 0, s.ymid, 1, down)
			uc := referenceSweep(&sw, gh-1, s.ymid, -1, up)
			for x := range gw {
				if want := dc[x] + uc[x] - sw.cost(ink[s.ymid*gw:], x); s.cost[x] != want {
					t.Fatalf("mask %d group %d (%d×%d): cost[%d] %v, want %v", i, gi, gw, gh, x, s.cost[x], want)
				}
			}
			if !slices.Equal(s.down, down) || !slices.Equal(s.up, up) {
				t.Fatalf("mask %d group %d (%d×%d): sweep steps differ from the reference", i, gi, gw, gh)
			}
		}
	}
	if groups < 300 {
		t.Fatalf("only %d groups compared", groups)
	}
}

// TestSeamSweep_MatchesReference: run equals the column-by-column sweep for random ink, every margin and bends that
// make ties (0, 0.5, 1) or not, both directions.
func TestSeamSweep_MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 14))
	for i := range 2000 {
		w, h := 1+rng.IntN(80), 2+rng.IntN(40)
		ink := make([]uint8, w*h)
		for j := range ink {
			if rng.IntN(3) == 0 {
				ink[j] = 1
			}
		}
		sw := seamSweep{ink: ink, w: w, margin: rng.IntN(w/2 + 1), bend: []float64{0, 0.5, 1, 0.37, 1.5}[rng.IntN(5)]}
		ymid := h / 2
		for _, d := range []struct{ from, dir int }{{0, 1}, {h - 1, -1}} {
			got, want := make([]int8, w*h), make([]int8, w*h)
			acc, next := make([]float64, w), make([]float64, w)
			gc := sw.run(d.from, ymid, d.dir, got, acc, next)
			wc := referenceSweep(&sw, d.from, ymid, d.dir, want)
			if !slices.Equal(gc, wc) || !slices.Equal(got, want) {
				t.Fatalf("case %d (%d×%d, margin %d, bend %v, dir %d): sweep differs from the reference", i, w, h, sw.margin, sw.bend, d.dir)
			}
		}
	}
}
