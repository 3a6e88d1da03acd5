//go:build unix

package sqlite_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"digitpad/internal/cputime"
	"digitpad/server/store"
	"digitpad/server/store/storetest"
)

// BenchmarkSavePredictions_Rows is the prediction log's write as the server does it: batches of 256 (the flush
// size under load) and 64 rows shaped like a one-digit answer (one 28×28 input inked like an MNIST digit, a
// 700-byte ink PNG, or none: what `serve` keeps by default), in a transaction under a cancellable context. cpu-ns/row is process CPU time (getrusage) per row: SQLite's work,
// the driver's and the WAL's write and fsync syscalls.
//
//	go test ./server/store/sqlite -run '^$' -bench SavePredictions_Rows -cpu 1 -benchtime 100x
func BenchmarkSavePredictions_Rows(b *testing.B) {
	for _, c := range []struct {
		batch int
		ink   int
	}{{64, 700}, {256, 700}, {64, 0}, {256, 0}} {
		b.Run(fmt.Sprintf("%d-ink%d", c.batch, c.ink), func(b *testing.B) {
			batch := c.batch
			st := backend().MustNew(b)
			ps := make([]store.Prediction, batch)
			for i := range ps {
				ps[i] = storetest.SamplePrediction("", i)
				ps[i].Result.Inputs = [][784]float32{ring(i)}
				ps[i].InkPNG = make([]byte, c.ink)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				for j := range ps {
					ps[j].ID = fmt.Sprintf("b%d-%d", i, j)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if err := st.SavePredictions(ctx, ps); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
			b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N*batch), "cpu-ns/row")
		})
	}
}

// ring is a 28×28 input inked like an MNIST "0": an anti-aliased ellipse stroke ~2.5 pixels wide, about a fifth
// of the pixels inked (MNIST's share), its radii varying with i.
func ring(i int) [784]float32 {
	var in [784]float32
	rx, ry := 5.5+float64(i%3)*0.5, 8.5
	for y := range 28 {
		for x := range 28 {
			dx, dy := (float64(x)-13.5)/rx, (float64(y)-13.5)/ry
			d := math.Abs(math.Sqrt(dx*dx+dy*dy)-1) * min(rx, ry)
			in[y*28+x] = float32(min(1, max(0, 1.8-d)))
		}
	}
	return in
}
