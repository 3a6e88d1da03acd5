package ink

import (
	"encoding/binary"
	"image"
	"math/bits"
)

// inkThreshold is the coverage (of 255) above which a pixel joins a connected component. Fainter pixels are
// anti-aliasing fringe: they are kept in digit crops but never connect digits.
const inkThreshold = 48

// run is a horizontal stretch of ink pixels [x0,x1) on row y.
type run struct {
	y, x0, x1 int32
	comp      int32
}

// comp is an 8-connected component.
type comp struct {
	x0, y0, x1, y1 int // bounding box, max exclusive
	sx0, sx1       int // column range in the layout's deskewed frame (slant.go)
	area           int // pixels at or above inkThreshold
	mass           float64
}

func (c *comp) w() int { return c.x1 - c.x0 }
func (c *comp) h() int { return c.y1 - c.y0 }

// labels is a run-length labelling of a mask: components are found by joining runs that touch runs of the
// previous row (8-connectivity), which touches only ink, not every pixel.
type labels struct {
	w, h     int
	runs     []run
	rowStart []int32 // runs of row y are runs[rowStart[y]:rowStart[y+1]]
	comps    []comp
}

func label(m *Mask) *labels {
	w, h := m.W, m.H
	// A digit's rows hold one to three runs each: room for two a row spares most of the regrowing (each
	// regrowth copies every run so far), which cost a one-digit canvas a fifth of its labelling.
	guess := min(2*h, (w*h+1)/2)
	l := &labels{w: w, h: h, rowStart: make([]int32, h+1), runs: make([]run, 0, guess)}
	parent := make([]int32, 0, guess)
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	// Only the rectangle the mask's ink lies in is read (the whole mask when that is not known).
	in := image.Rect(0, 0, w, h)
	if r := m.paperOutside.Intersect(in); !r.Empty() {
		in = r
	}
	prevStart, prevEnd := 0, 0
	for y := 0; y < h; y++ {
		l.rowStart[y] = int32(len(l.runs))
		if y < in.Min.Y || y >= in.Max.Y {
			prevStart, prevEnd = len(l.runs), len(l.runs)
			continue
		}
		row := m.Pix[y*w : y*w+in.Max.X]
		p := prevStart
		x := in.Min.X
		for x < len(row) {
			// Eight pixels at a time: the canvas is mostly paper, and a run of ink spans several pixels.
			x = nextInk(row, x)
			if x >= len(row) {
				break
			}
			start := x
			x = nextPaper(row, x)
			id := int32(len(parent))
			parent = append(parent, id)
			for p < prevEnd && int(l.runs[p].x1) < start {
				p++
			}
			for k := p; k < prevEnd && int(l.runs[k].x0) <= x; k++ {
				a, b := find(l.runs[k].comp), find(id)
				if a != b {
					parent[max(a, b)] = min(a, b)
				}
			}
			l.runs = append(l.runs, run{y: int32(y), x0: int32(start), x1: int32(x), comp: id})
		}
		prevStart, prevEnd = int(l.rowStart[y]), len(l.runs)
	}
	l.rowStart[h] = int32(len(l.runs))

	dense := make([]int32, len(parent))
	for i := range dense {
		dense[i] = -1
	}
	for i := range l.runs {
		r := &l.runs[i]
		root := find(r.comp)
		if dense[root] < 0 {
			dense[root] = int32(len(l.comps))
			l.comps = append(l.comps, comp{x0: w, y0: h})
		}
		r.comp = dense[root]
		c := &l.comps[r.comp]
		c.x0 = min(c.x0, int(r.x0))
		c.x1 = max(c.x1, int(r.x1))
		c.y0 = min(c.y0, int(r.y))
		c.y1 = max(c.y1, int(r.y)+1)
		c.area += int(r.x1 - r.x0)
		s := 0
		for _, v := range m.Pix[int(r.y)*w+int(r.x0) : int(r.y)*w+int(r.x1)] {
			s += int(v)
		}
		c.mass += float64(s) / 255
	}
	return l
}

// compAt returns the component under pixel (x,y), or -1 on background.
func (l *labels) compAt(x, y int) int32 {
	if x < 0 || y < 0 || x >= l.w || y >= l.h {
		return -1
	}
	rs := l.runs[l.rowStart[y]:l.rowStart[y+1]]
	lo, hi := 0, len(rs)
	for lo < hi {
		mid := (lo + hi) / 2
		if int(rs[mid].x1) <= x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(rs) && int(rs[lo].x0) <= x {
		return rs[lo].comp
	}
	return -1
}

// inkBytes has the high bit of each byte of v (eight pixels, the first in the low byte) set where the pixel is
// ink (>= inkThreshold) and no other bit. A byte at or above 128 is ink; below, adding its own high bit and
// subtracting the threshold (< 128: no borrow crosses into the next byte) keeps the high bit where it is ink.
func inkBytes(v uint64) uint64 {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	return ((v | high) - inkThreshold*ones | v) & high
}

// nextInk returns the first x at or after from where row holds ink, or len(row).
func nextInk(row []uint8, from int) int {
	x := from
	for ; x+8 <= len(row); x += 8 {
		if m := inkBytes(binary.LittleEndian.Uint64(row[x:])); m != 0 {
			return x + bits.TrailingZeros64(m)/8
		}
	}
	for x < len(row) && row[x] < inkThreshold {
		x++
	}
	return x
}

// nextPaper returns the first x at or after from where row holds no ink, or len(row).
func nextPaper(row []uint8, from int) int {
	const high = 0x8080808080808080
	x := from
	for ; x+8 <= len(row); x += 8 {
		if m := ^inkBytes(binary.LittleEndian.Uint64(row[x:])) & high; m != 0 {
			return x + bits.TrailingZeros64(m)/8
		}
	}
	for x < len(row) && row[x] >= inkThreshold {
		x++
	}
	return x
}
