//go:build unix

package retrain

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/registry"
	regfs "digitpad/registry/fs"
	"digitpad/server/store/sqlite"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRetrain_Cycle2000 is the cycle budget: one `digitpad retrain` (default recipe, SQLite store,
// directory registry) over 2,000 new confirmed codes (10,000 digits of a slanted hurried style the shipped model
// misreads often, with the model's predictions, so many are corrections). It reports the CPU seconds of the
// cycle (getrusage, the whole process: on a shared machine they track the work where wall time does not) and
// the wall seconds; the budget is 5 minutes on 2 cores, i.e. at most 600 CPU seconds and 300 s of wall time
// on two otherwise idle cores.
//
//	go test ./train/retrain -run '^$' -bench Cycle2000 -benchtime 1x
func BenchmarkRetrain_Cycle2000(b *testing.B) {
	ctx := context.Background()
	onnx, card := assets.Variant("fp32")
	rec, err := onnxrec.New(onnx, card, recognize.Config{})
	if err != nil {
		b.Fatal(err)
	}
	const records = 2000
	xs, ls, err := StrokeWriters{Rec: rec, Params: SlantedHurried.Writer}.Digits(2000, 5*records)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "digitpad.db"))
		if err != nil {
			b.Fatal(err)
		}
		reg, err := regfs.Open(ctx, filepath.Join(dir, "registry"), registry.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := reg.Bootstrap(ctx); err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(2000, 1))
		corrected := 0
		for r := 0; r < records; r++ {
			inputs := xs[5*r : 5*r+5]
			res, err := rec.Digits(inputs, recognize.Options{})
			if err != nil {
				b.Fatal(err)
			}
			labels := make([]int, 5)
			for k := range labels {
				labels[k] = int(ls[5*r+k])
			}
			f, err := protocol.NewFeedback(protocol.Confirmation{IdempotencyKey: fmt.Sprint("k", r),
				ClientID: fmt.Sprintf("pad-%d", rng.IntN(20)), Labels: labels, Prediction: protocol.Prediction{Result: *res},
				CreatedAt: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			if f.Predicted != f.Code {
				corrected++
			}
			if _, _, err := st.SaveFeedback(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		cpu0, wall0 := cpuTime(), time.Now()
		res, err := Run(ctx, Config{Store: st, Registry: reg})
		if err != nil {
			b.Fatal(err)
		}
		cpu, wall := cpuTime()-cpu0, time.Since(wall0)
		b.ReportMetric(cpu.Seconds(), "cpu-s/cycle")
		b.ReportMetric(wall.Seconds(), "wall-s/cycle")
		b.Logf("%d records (%d corrected by the clerk), version %d, gate passed %v %v: %.0f CPU s, %.0f s wall",
			records, corrected, res.Version, res.Passed, res.Reasons, cpu.Seconds(), wall.Seconds())
		if cpu > 10*time.Minute {
			b.Errorf("cycle took %.0f CPU seconds: beyond 5 minutes on 2 cores", cpu.Seconds())
		}
		st.Close()
		reg.Close()
	}
}
