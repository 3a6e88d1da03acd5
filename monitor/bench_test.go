package monitor_test

import (
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/monitor"
	"digitpad/monitor/traffic"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
)

// BenchmarkProcess is the monitor's cost per 5-digit prediction with the shipped fp32 model: features, the
// embedding (one tapped model run for the 5 digits) and, every Every predictions, a window evaluation with 100 MMD
// permutations (ns/op averages them in).
func BenchmarkProcess(b *testing.B) {
	onnx, card := assets.Variant("fp32")
	g, err := onnxload.Decode(onnx)
	if err != nil {
		b.Fatal(err)
	}
	m, _ := onnxload.Load(onnx)
	rec, _ := recognize.New(m, recognize.ModelInfo{SHA256: "sha"}, recognize.Config{})
	emb, _, err := monitor.NewModelEmbedder(g, 1)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := monitor.ParseProfile(card)
	var preds []monitor.Prediction
	for i := range 50 {
		c, _ := traffic.WrittenCode(5, traffic.Shift{}, uint64(i))
		res, err := rec.Image(c.Image, recognize.Options{})
		if err != nil {
			continue
		}
		preds = append(preds, monitor.FromResult(res, "pad", time.Time{}))
	}
	mon := monitor.New(monitor.Config{Window: 100, Every: 25})
	mon.SetModel("m", "sha", p, emb)
	b.ResetTimer()
	for i := range b.N {
		mon.Process(preds[i%len(preds)])
	}
}
