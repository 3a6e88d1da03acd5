package monitor_test

import (
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/internal/cputime"
	"digitpad/monitor"
	"digitpad/monitor/traffic"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
)

// BenchmarkProcess is the monitor's cost per 5-digit prediction with the shipped fp32 model, in the server's
// default configuration (count window 100, evaluated every 25 predictions, one client: two streams): features,
// the embedding, and the window evaluations (with the MMD permutations) averaged in. "served" takes the
// embeddings from the serving pass as the server does (onnxrec compiles the model with a tap); "rerun" runs the
// model again for them (the fallback for an engine without embeddings). cpu-ns/op is process CPU time per
// prediction (getrusage), which a busy machine does not inflate.
//
//	go test ./monitor -run '^$' -bench Process -cpu 1 -benchtime 2000x
func BenchmarkProcess(b *testing.B) {
	onnx, card := assets.Variant("fp32")
	g, err := onnxload.Decode(onnx)
	if err != nil {
		b.Fatal(err)
	}
	emb, _, err := monitor.NewModelEmbedder(g, 1)
	if err != nil {
		b.Fatal(err)
	}
	p, err := monitor.ParseProfile(card)
	if err != nil {
		b.Fatal(err)
	}
	served, err := onnxrec.New(onnx, card, recognize.Config{})
	if err != nil {
		b.Fatal(err)
	}
	var preds []monitor.Prediction
	for i := range 50 {
		c, _ := traffic.WrittenCode(5, traffic.Shift{}, uint64(i))
		res, err := served.Image(c.Image, recognize.Options{})
		if err != nil {
			continue
		}
		if len(res.Embeddings) != len(res.Digits) {
			b.Fatalf("%d embeddings for %d digits", len(res.Embeddings), len(res.Digits))
		}
		preds = append(preds, monitor.FromResult(res, "pad", time.Time{}))
	}
	for _, mode := range []string{"served", "rerun"} {
		b.Run(mode, func(b *testing.B) {
			ps := preds
			if mode == "rerun" {
				ps = make([]monitor.Prediction, len(preds))
				for i, p := range preds {
					p.Digits = append([]monitor.Digit(nil), p.Digits...)
					for k := range p.Digits {
						p.Digits[k].Embedding = nil
					}
					ps[i] = p
				}
			}
			mon := monitor.New(monitor.Config{Window: 100, Every: 25})
			mon.SetModel("m", ps[0].Model, p, emb)
			for i := range 200 { // fill the windows first: evaluations run from the start of the timing
				mon.Process(ps[i%len(ps)])
			}
			b.ResetTimer()
			cpu0 := cputime.Process()
			for i := range b.N {
				mon.Process(ps[i%len(ps)])
			}
			b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
