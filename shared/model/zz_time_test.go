package model_test

import (
	"testing"
	"time"
)

func TestZZTime(t *testing.T) {
	m := mustLoad(t, zooModel(t))
	for _, n := range []int{1, 1, 64, 1} {
		in := digitLike(1, n, 784)
		out := make([]float32, n*10)
		m.Run(in, n, out)
		start := time.Now()
		iters := 0
		for time.Since(start) < 300*time.Millisecond {
			m.Run(in, n, out)
			iters++
		}
		t.Logf("n=%d %v/digit iters=%d", n, time.Since(start)/time.Duration(iters*n), iters)
	}
}
