//go:build unix

package sqlite_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"digitpad/server/store"
	"digitpad/server/store/storetest"
)

// BenchmarkSavePredictions_Rows is the prediction log's write as the server does it: batches of 64 (the flush
// size under load) and 256 rows shaped like a one-digit answer (one 28×28 input, a 700-byte ink PNG), in a
// transaction under a cancellable context. cpu-ns/row is process CPU time (getrusage) per row: SQLite's work,
// the driver's and the WAL's write and fsync syscalls.
//
//	go test ./server/store/sqlite -run '^$' -bench SavePredictions_Rows -cpu 1 -benchtime 100x
func BenchmarkSavePredictions_Rows(b *testing.B) {
	for _, batch := range []int{64, 256} {
		b.Run(fmt.Sprint(batch), func(b *testing.B) {
			st := backend().MustNew(b)
			ps := make([]store.Prediction, batch)
			for i := range ps {
				ps[i] = storetest.SamplePrediction("", i)
				ps[i].Result.Inputs = ps[i].Result.Inputs[:1]
				ps[i].InkPNG = make([]byte, 700)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
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
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*batch), "cpu-ns/row")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
