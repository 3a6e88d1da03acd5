package model_test

import (
	"testing"
)

// opGraph builds a small model around the ops under test; every graph has input x of shape [1,3,10,10].
type opGraph struct {
	name  string
	build func(b *graphBuilder) (y string, outDims []int64)
}

var opGraphs = []opGraph{
	{"conv stride 2 (im2col path)", func(b *graphBuilder) (string, []int64) {
		y := b.op("Conv", []string{"x", b.weights(0.3, 4, 3, 3, 3), b.weights(0.1, 4)},
			intsAttr("kernel_shape", 3, 3), intsAttr("strides", 2, 2), intsAttr("pads", 1, 1, 1, 1))
		return y, []int64{1, 4, 5, 5}
	}},
	{"conv without padding or bias, then batchnorm (folded)", func(b *graphBuilder) (string, []int64) {
		c := b.op("Conv", []string{"x", b.weights(0.3, 5, 3, 3, 3)}, intsAttr("kernel_shape", 3, 3))
		y := b.op("BatchNormalization", []string{c, b.weights(1, 5), b.weights(0.5, 5), b.weights(0.5, 5), b.floats([]float32{0.5, 1, 1.5, 2, 2.5}, 5)},
			floatAttr("epsilon", 1e-3))
		return y, []int64{1, 5, 8, 8}
	}},
	{"batchnorm alone, relu, flatten, gemm transB alpha beta, softmax", func(b *graphBuilder) (string, []int64) {
		x := b.op("BatchNormalization", []string{"x", b.weights(1, 3), b.weights(0.5, 3), b.weights(0.5, 3), b.floats([]float32{0.5, 1, 2}, 3)})
		x = b.op("Flatten", []string{b.op("Relu", []string{x})}, intAttr("axis", 1))
		x = b.op("Gemm", []string{x, b.weights(0.05, 7, 300), b.weights(0.5, 7)},
			intAttr("transB", 1), floatAttr("alpha", 0.5), floatAttr("beta", 2))
		return b.op("Softmax", []string{x}, intAttr("axis", 1)), []int64{1, 7}
	}},
	{"two branches added, maxpool 3x3 stride 1 with padding", func(b *graphBuilder) (string, []int64) {
		c1 := b.op("Conv", []string{"x", b.weights(0.3, 2, 3, 1, 1)}, intsAttr("kernel_shape", 1, 1))
		c2 := b.op("Conv", []string{"x", b.weights(0.3, 2, 3, 3, 3)}, intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1))
		y := b.op("MaxPool", []string{b.op("Add", []string{c1, c2})}, intsAttr("kernel_shape", 3, 3), intsAttr("strides", 1, 1), intsAttr("pads", 1, 1, 1, 1))
		return y, []int64{1, 2, 10, 10}
	}},
}

func TestOps_MatchGorgonnx(t *testing.T) {
	for i, g := range opGraphs {
		t.Run(g.name, func(t *testing.T) {
			b := newGraph(uint64(i), 1, 3, 10, 10)
			y, outDims := g.build(b)
			data := b.bytes(t, y, outDims...)
			m := mustLoad(t, data)
			in := digitLike(uint64(i), 1, m.InputSize())
			want := gorgonnxRun(t, data, m.InputShape(), in)
			got := make([]float32, m.OutputSize())
			if err := m.Run(in, 1, got); err != nil {
				t.Fatal(err)
			}
			if err := closeTo(got, want, 1e-5); err != nil {
				t.Errorf("%v\nplan: %q", err, m.Ops())
			}
		})
	}
}

func TestOps_SmallExamples(t *testing.T) {
	one9 := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9} // a 3x3 image
	ones := func(b *graphBuilder, dims ...int64) string {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return b.floats(v, dims...)
	}
	cases := []struct {
		name  string
		in    []float32
		build func(b *graphBuilder) string
		want  []float32
	}{
		{"conv 2x2 SAME_UPPER pads after", one9, func(b *graphBuilder) string {
			return b.op("Conv", []string{"x", ones(b, 1, 1, 2, 2)}, intsAttr("kernel_shape", 2, 2), stringAttr("auto_pad", "SAME_UPPER"))
		}, []float32{12, 16, 9, 24, 28, 15, 15, 17, 9}},
		{"conv 2x2 SAME_LOWER pads before", one9, func(b *graphBuilder) string {
			return b.op("Conv", []string{"x", ones(b, 1, 1, 2, 2)}, intsAttr("kernel_shape", 2, 2), stringAttr("auto_pad", "SAME_LOWER"))
		}, []float32{1, 3, 5, 5, 12, 16, 11, 24, 28}},
		{"conv asymmetric pads", one9, func(b *graphBuilder) string {
			return b.op("Conv", []string{"x", ones(b, 1, 1, 1, 1)}, intsAttr("kernel_shape", 1, 1), intsAttr("pads", 0, 1, 0, 0))
		}, []float32{0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9}},
		{"average pool 2x2 stride 1", one9, func(b *graphBuilder) string {
			return b.op("AveragePool", []string{"x"}, intsAttr("kernel_shape", 2, 2), intsAttr("strides", 1, 1))
		}, []float32{3, 4, 6, 7}},
		{"average pool with padding excluded", one9, func(b *graphBuilder) string {
			return b.op("AveragePool", []string{"x"}, intsAttr("kernel_shape", 3, 3), intsAttr("strides", 2, 2), intsAttr("pads", 1, 1, 1, 1))
		}, []float32{3, 4, 6, 7}},
		{"average pool with padding counted", one9, func(b *graphBuilder) string {
			return b.op("AveragePool", []string{"x"}, intsAttr("kernel_shape", 3, 3), intsAttr("strides", 2, 2), intsAttr("pads", 1, 1, 1, 1), intAttr("count_include_pad", 1))
		}, []float32{12.0 / 9, 16.0 / 9, 24.0 / 9, 28.0 / 9}},
		{"max pool ceil mode", one9, func(b *graphBuilder) string {
			return b.op("MaxPool", []string{"x"}, intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2), intAttr("ceil_mode", 1))
		}, []float32{5, 6, 8, 9}},
		{"constant arithmetic: (x*2 - 1) / 4, then 10 - y", one9, func(b *graphBuilder) string {
			y := b.op("Mul", []string{"x", b.floats([]float32{2}, 1)})
			y = b.op("Sub", []string{y, b.floats([]float32{1}, 1)})
			y = b.op("Div", []string{y, b.floats([]float32{4}, 1)})
			return b.op("Sub", []string{b.floats([]float32{10}, 1), y})
		}, []float32{9.75, 9.25, 8.75, 8.25, 7.75, 7.25, 6.75, 6.25, 5.75}},
		{"per-row constant broadcast [3,1]", one9, func(b *graphBuilder) string {
			return b.op("Mul", []string{"x", b.floats([]float32{1, 0, -1}, 3, 1)})
		}, []float32{1, 2, 3, 0, 0, 0, -7, -8, -9}},
		{"matmul then bias through Sub, identity, dropout", []float32{1, 2, 3}, func(b *graphBuilder) string {
			y := b.op("MatMul", []string{"x", b.floats([]float32{1, 0, 0, 1, 1, 1}, 3, 2)})
			y = b.op("Sub", []string{y, b.floats([]float32{1, 2}, 2)})
			return b.op("Dropout", []string{b.op("Identity", []string{y})})
		}, []float32{3, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dims := []int64{-1, 1, 3, 3}
			if len(tc.in) == 3 {
				dims = []int64{-1, 3}
			}
			b := newGraph(1, dims...)
			data := b.bytes(t, tc.build(b), -1)
			m := mustLoad(t, data)
			for _, n := range []int{1, 2} { // batch 2 checks the constants broadcast per sample
				in := make([]float32, 0, n*len(tc.in))
				for i := 0; i < n; i++ {
					in = append(in, tc.in...)
				}
				got := make([]float32, n*m.OutputSize())
				if err := m.Run(in, n, got); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < n; i++ {
					if err := closeTo(got[i*len(tc.want):(i+1)*len(tc.want)], tc.want, 1e-6); err != nil {
						t.Errorf("batch %d sample %d: %v (plan %q)", n, i, err, m.Ops())
					}
				}
			}
		})
	}
}
