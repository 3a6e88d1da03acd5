package cnn

import (
	"math"
	"math/rand/v2"
)

// layer is one replica's instance of a layer: it owns its activation caches and gradient buffers and reads the
// shared weights.
type layer interface {
	// forward computes the output for a batch of n samples; x must stay unchanged until backward.
	forward(x []float32, n int, train bool) []float32
	// backward accumulates parameter gradients and returns dL/dx (nil when needDx is false).
	backward(dy []float32, n int, needDx bool) []float32
}

// conv is a K×K stride-1 convolution with symmetric zero padding over NHWC input; W is [K*K*Cin][Cout] with row
// index (ky*K+kx)*Cin+ci.
type conv struct {
	in, out   Shape
	k, pad    int
	w, b      *Param
	gw, gb    []float32
	col, y    []float32
	dcol, dx  []float32
	wT        []float32
	n         int
	skipInput bool
}

func (c *conv) rows(n int) int { return n * c.out.H * c.out.W }

func (c *conv) forward(x []float32, n int, _ bool) []float32 {
	c.n = n
	kk := c.k * c.k * c.in.C
	rows := c.rows(n)
	c.col = grow(c.col, rows*kk)
	im2col(x, n, c.in, c.out, c.k, c.pad, c.col)
	c.y = grow(c.y, rows*c.out.C)
	if c.b != nil {
		for r := 0; r < rows; r++ {
			copy(c.y[r*c.out.C:(r+1)*c.out.C], c.b.Data)
		}
		gemm(false, false, rows, c.out.C, kk, c.col, kk, c.w.Data, c.out.C, 1, c.y, c.out.C)
	} else {
		gemm(false, false, rows, c.out.C, kk, c.col, kk, c.w.Data, c.out.C, 0, c.y, c.out.C)
	}
	return c.y
}

func (c *conv) backward(dy []float32, n int, needDx bool) []float32 {
	kk := c.k * c.k * c.in.C
	rows := c.rows(n)
	gemm(true, false, kk, c.out.C, rows, c.col, kk, dy, c.out.C, 1, c.gw, c.out.C)
	if c.b != nil {
		for r := 0; r < rows; r++ {
			row := dy[r*c.out.C : (r+1)*c.out.C]
			for j, v := range row {
				c.gb[j] += v
			}
		}
	}
	if !needDx {
		return nil
	}
	c.dcol = grow(c.dcol, rows*kk)
	c.wT = transpose(c.w.Data, kk, c.out.C, c.wT)
	gemm(false, false, rows, kk, c.out.C, dy, c.out.C, c.wT, kk, 0, c.dcol, kk)
	c.dx = grow(c.dx, n*c.in.Size())
	clear(c.dx)
	col2im(c.dcol, n, c.in, c.out, c.k, c.pad, c.dx)
	return c.dx
}

func im2col(x []float32, n int, in, out Shape, k, pad int, col []float32) {
	cin := in.C
	kk := k * k * cin
	r := 0
	for b := 0; b < n; b++ {
		img := x[b*in.Size() : (b+1)*in.Size()]
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				dst := col[r*kk : (r+1)*kk]
				for ky := 0; ky < k; ky++ {
					iy := oy + ky - pad
					for kx := 0; kx < k; kx++ {
						ix := ox + kx - pad
						d := dst[(ky*k+kx)*cin : (ky*k+kx+1)*cin]
						if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
							clear(d)
							continue
						}
						copy(d, img[(iy*in.W+ix)*cin:(iy*in.W+ix+1)*cin])
					}
				}
				r++
			}
		}
	}
}

func col2im(col []float32, n int, in, out Shape, k, pad int, dx []float32) {
	cin := in.C
	kk := k * k * cin
	r := 0
	for b := 0; b < n; b++ {
		img := dx[b*in.Size() : (b+1)*in.Size()]
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				src := col[r*kk : (r+1)*kk]
				for ky := 0; ky < k; ky++ {
					iy := oy + ky - pad
					if iy < 0 || iy >= in.H {
						continue
					}
					for kx := 0; kx < k; kx++ {
						ix := ox + kx - pad
						if ix < 0 || ix >= in.W {
							continue
						}
						s := src[(ky*k+kx)*cin : (ky*k+kx+1)*cin]
						d := img[(iy*in.W+ix)*cin : (iy*in.W+ix+1)*cin]
						for i, v := range s {
							d[i] += v
						}
					}
				}
				r++
			}
		}
	}
}

// dense is y = x·W + b with W [In][Out]; an NHWC activation is read flat, so In index = (y*W+x)*C+c.
type dense struct {
	in, out int
	w, b    *Param
	gw, gb  []float32
	x       []float32
	y, dx   []float32
	wT      []float32
}

func (d *dense) forward(x []float32, n int, _ bool) []float32 {
	d.x = x
	d.y = grow(d.y, n*d.out)
	beta := float32(0)
	if d.b != nil {
		for r := 0; r < n; r++ {
			copy(d.y[r*d.out:(r+1)*d.out], d.b.Data)
		}
		beta = 1
	}
	gemm(false, false, n, d.out, d.in, x, d.in, d.w.Data, d.out, beta, d.y, d.out)
	return d.y
}

func (d *dense) backward(dy []float32, n int, needDx bool) []float32 {
	gemm(true, false, d.in, d.out, n, d.x, d.in, dy, d.out, 1, d.gw, d.out)
	if d.b != nil {
		for r := 0; r < n; r++ {
			for j, v := range dy[r*d.out : (r+1)*d.out] {
				d.gb[j] += v
			}
		}
	}
	if !needDx {
		return nil
	}
	d.dx = grow(d.dx, n*d.in)
	d.wT = transpose(d.w.Data, d.in, d.out, d.wT)
	gemm(false, false, n, d.in, d.out, dy, d.out, d.wT, d.in, 0, d.dx, d.in)
	return d.dx
}

// batchNorm normalises each channel over the batch and all positions; in training it records the batch
// statistics so the trainer can fold them (reduced over replicas in a fixed order) into the running averages.
type batchNorm struct {
	c                   int
	gamma, beta         *Param
	mean, vari          *Param // running statistics (not trained)
	ggamma, gbeta       []float32
	bmean, bvar, invStd []float32
	xhat, y, dx         []float32
}

const bnEps = 1e-5

func (l *batchNorm) forward(x []float32, n int, train bool) []float32 {
	c := l.c
	rows := len(x) / c
	l.y = grow(l.y, len(x))
	if !train {
		for j := 0; j < c; j++ {
			l.invStd[j] = float32(1 / math.Sqrt(float64(l.vari.Data[j])+bnEps))
		}
		for r := 0; r < rows; r++ {
			xr, yr := x[r*c:(r+1)*c], l.y[r*c:(r+1)*c]
			for j := range xr {
				yr[j] = (xr[j]-l.mean.Data[j])*l.invStd[j]*l.gamma.Data[j] + l.beta.Data[j]
			}
		}
		return l.y
	}
	sum := make([]float64, 2*c)
	for r := 0; r < rows; r++ {
		for j, v := range x[r*c : (r+1)*c] {
			sum[j] += float64(v)
		}
	}
	for j := 0; j < c; j++ {
		l.bmean[j] = float32(sum[j] / float64(rows))
	}
	sq := sum[c:]
	for r := 0; r < rows; r++ {
		for j, v := range x[r*c : (r+1)*c] {
			d := float64(v - l.bmean[j])
			sq[j] += d * d
		}
	}
	for j := 0; j < c; j++ {
		l.bvar[j] = float32(sq[j] / float64(rows))
		l.invStd[j] = float32(1 / math.Sqrt(sq[j]/float64(rows)+bnEps))
	}
	l.xhat = grow(l.xhat, len(x))
	for r := 0; r < rows; r++ {
		xr, hr, yr := x[r*c:(r+1)*c], l.xhat[r*c:(r+1)*c], l.y[r*c:(r+1)*c]
		for j := range xr {
			h := (xr[j] - l.bmean[j]) * l.invStd[j]
			hr[j] = h
			yr[j] = h*l.gamma.Data[j] + l.beta.Data[j]
		}
	}
	return l.y
}

func (l *batchNorm) backward(dy []float32, n int, needDx bool) []float32 {
	c := l.c
	rows := len(dy) / c
	sdy := make([]float64, 2*c)
	sdyh := sdy[c:]
	for r := 0; r < rows; r++ {
		dr, hr := dy[r*c:(r+1)*c], l.xhat[r*c:(r+1)*c]
		for j := range dr {
			sdy[j] += float64(dr[j])
			sdyh[j] += float64(dr[j] * hr[j])
		}
	}
	for j := 0; j < c; j++ {
		l.gbeta[j] += float32(sdy[j])
		l.ggamma[j] += float32(sdyh[j])
	}
	if !needDx {
		return nil
	}
	// dx = gamma*invStd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat))
	l.dx = grow(l.dx, len(dy))
	m := float32(rows)
	k := make([]float32, 3*c)
	a, bsum, bh := k[:c], k[c:2*c], k[2*c:]
	for j := 0; j < c; j++ {
		a[j] = l.gamma.Data[j] * l.invStd[j] / m
		bsum[j] = float32(sdy[j])
		bh[j] = float32(sdyh[j])
	}
	for r := 0; r < rows; r++ {
		dr, hr, xr := dy[r*c:(r+1)*c], l.xhat[r*c:(r+1)*c], l.dx[r*c:(r+1)*c]
		for j := range dr {
			xr[j] = a[j] * (m*dr[j] - bsum[j] - hr[j]*bh[j])
		}
	}
	return l.dx
}

type relu struct{ y, dx []float32 }

func (l *relu) forward(x []float32, n int, _ bool) []float32 {
	l.y = grow(l.y, len(x))
	for i, v := range x {
		l.y[i] = max(v, 0)
	}
	return l.y
}

func (l *relu) backward(dy []float32, n int, needDx bool) []float32 {
	l.dx = grow(l.dx, len(dy))
	for i, v := range dy {
		if l.y[i] > 0 {
			l.dx[i] = v
		} else {
			l.dx[i] = 0
		}
	}
	return l.dx
}

// maxPool is 2×2 stride-2 max pooling (odd trailing rows/columns are dropped, like ONNX MaxPool without pads).
type maxPool struct {
	in, out Shape
	arg     []int32
	y, dx   []float32
}

func (l *maxPool) forward(x []float32, n int, _ bool) []float32 {
	in, out := l.in, l.out
	c := in.C
	l.y = grow(l.y, n*out.Size())
	if cap(l.arg) < n*out.Size() {
		l.arg = make([]int32, n*out.Size())
	}
	l.arg = l.arg[:n*out.Size()]
	for b := 0; b < n; b++ {
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				o := ((b*out.H+oy)*out.W + ox) * c
				i00 := ((b*in.H+2*oy)*in.W + 2*ox) * c
				cands := [4]int{i00, i00 + c, i00 + in.W*c, i00 + in.W*c + c}
				for j := 0; j < c; j++ {
					best := cands[0] + j
					for _, p := range cands[1:] {
						if x[p+j] > x[best] {
							best = p + j
						}
					}
					l.y[o+j] = x[best]
					l.arg[o+j] = int32(best)
				}
			}
		}
	}
	return l.y
}

func (l *maxPool) backward(dy []float32, n int, needDx bool) []float32 {
	l.dx = grow(l.dx, n*l.in.Size())
	clear(l.dx)
	for i, v := range dy {
		l.dx[l.arg[i]] += v
	}
	return l.dx
}

// dropout zeroes activations with probability p in training (inverted dropout, so inference is the identity).
type dropout struct {
	p     float64
	rng   *rand.Rand
	mask  []float32
	y, dx []float32
}

func (l *dropout) forward(x []float32, n int, train bool) []float32 {
	if !train || l.p == 0 {
		l.mask = l.mask[:0]
		return x
	}
	l.mask = grow(l.mask, len(x))
	l.y = grow(l.y, len(x))
	scale := float32(1 / (1 - l.p))
	for i, v := range x {
		if l.rng.Float64() < l.p {
			l.mask[i] = 0
		} else {
			l.mask[i] = scale
		}
		l.y[i] = v * l.mask[i]
	}
	return l.y
}

func (l *dropout) backward(dy []float32, n int, needDx bool) []float32 {
	if len(l.mask) == 0 {
		return dy
	}
	l.dx = grow(l.dx, len(dy))
	for i, v := range dy {
		l.dx[i] = v * l.mask[i]
	}
	return l.dx
}
