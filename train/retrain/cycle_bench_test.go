//go:build unix

package retrain

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/internal/cputime"
	"digitpad/registry"
	regfs "digitpad/registry/fs"
	"digitpad/server/store/sqlite"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
)

// BenchmarkRetrain_Cycle2000 is the cycle budget: one `digitpad retrain` (default recipe, SQLite store,
// directory registry) over ~2,000 new confirmed codes (StyleFeedback: 2,000 codes of a slanted hurried style the
// shipped model misreads often, read by the model as the server does, those that segment into five digits
// confirmed with their true labels, so many are corrections). It reports the CPU seconds of the
// cycle (getrusage, the whole process: on a shared machine they track the work where wall time does not) and
// the wall seconds; the budget is 5 minutes on 2 cores, i.e. at most 600 CPU seconds and 300 s of wall time
// on two otherwise idle cores.
//
//	go test ./train/retrain -run '^$' -bench Cycle2000 -benchtime 1x [-v]
func BenchmarkRetrain_Cycle2000(b *testing.B) {
	ctx := context.Background()
	onnx, card := assets.Variant("fp32")
	rec, err := onnxrec.New(onnx, card, recognize.Config{})
	if err != nil {
		b.Fatal(err)
	}
	const codes = 2000
	fs, corrected, err := StyleFeedback(rec, rand.New(rand.NewPCG(2000, 1)), SlantedHurried, codes,
		func(i int) string { return fmt.Sprintf("pad-%d", i%20) }, time.Now())
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
		if err := SaveFeedback(ctx, st, fs); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu0, wall0 := cputime.Process(), time.Now()
		var progress io.Writer // with -v, the cycle's progress (the candidate's calibration CPU among it)
		if testing.Verbose() {
			progress = os.Stderr
		}
		res, err := Run(ctx, Config{Store: st, Registry: reg, Progress: progress})
		if err != nil {
			b.Fatal(err)
		}
		cpu, wall := cputime.Process()-cpu0, time.Since(wall0)
		b.ReportMetric(cpu.Seconds(), "cpu-s/cycle")
		b.ReportMetric(wall.Seconds(), "wall-s/cycle")
		b.Logf("%d records of %d codes (%d corrected by the clerk), version %d, gate passed %v %v: %.0f CPU s, %.0f s wall",
			len(fs), codes, corrected, res.Version, res.Passed, res.Reasons, cpu.Seconds(), wall.Seconds())
		if cpu > 10*time.Minute {
			b.Errorf("cycle took %.0f CPU seconds: beyond 5 minutes on 2 cores", cpu.Seconds())
		}
		st.Close()
		reg.Close()
	}
}
