package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"digitpad/server/store"
)

// Bench measures SaveFeedback (one durable commit per record) and SavePredictions in batches of 256, reporting
// records/s and rows/s.
func Bench(b *testing.B, be Backend) {
	b.Run("SaveFeedback", func(b *testing.B) {
		st := be.MustNew(b)
		f := SampleFeedback("", "10115")
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			f.IdempotencyKey = fmt.Sprintf("bench-%d", i)
			if _, _, err := st.SaveFeedback(ctx(), f); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("SaveFeedbackParallel", func(b *testing.B) {
		st := be.MustNew(b)
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			f := SampleFeedback("", "10115")
			for pb.Next() {
				f.IdempotencyKey = fmt.Sprintf("bench-%d", n.Add(1))
				if _, _, err := st.SaveFeedback(ctx(), f); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("SavePredictions256", func(b *testing.B) {
		const batch = 256
		st := be.MustNew(b)
		ps := make([]store.Prediction, batch)
		for i := range ps {
			ps[i] = SamplePrediction("", i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for j := range ps {
				ps[j].ID = fmt.Sprintf("b%d-%d", i, j)
			}
			if err := st.SavePredictions(ctx(), ps); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
	})
}
