package retrain

import (
	"math"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/shared/model/onnxload"
	"digitpad/train/export"
)

// The shipped model, turned into trainer weights the way Run reads its base (export.Import) and exported again,
// computes the same probabilities, in the runtime and in the trainer.
func TestBaseFromONNX_TrainerMatchesShipped(t *testing.T) {
	onnx, _ := assets.Variant("fp32")
	net, err := export.Import(onnx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := export.ONNX(net, export.Options{Name: "again"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := onnxload.Load(onnx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := onnxload.Load(again)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	x := make([]float32, n*784)
	for i := range x {
		x[i] = float32((i*7919)%251) / 250 * float32(i%3)
	}
	pa, pb := make([]float32, n*10), make([]float32, n*10)
	if err := a.Run(x, n, pa); err != nil {
		t.Fatal(err)
	}
	if err := b.Run(x, n, pb); err != nil {
		t.Fatal(err)
	}
	r := net.NewReplica(0, 0)
	pt := r.Probabilities(x, n)
	for i := range pa {
		if math.Abs(float64(pa[i]-pb[i])) > 1e-4 || math.Abs(float64(pa[i]-pt[i])) > 1e-4 {
			t.Fatalf("output %d: shipped %g, re-exported %g, trainer %g", i, pa[i], pb[i], pt[i])
		}
	}
	if _, err := export.Import([]byte("not onnx")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestMcNemarExact(t *testing.T) {
	labels := make([]uint8, 20)
	base := make([]uint8, 20)
	cand := make([]uint8, 20)
	// 10 digits only the candidate reads, 0 only the base: p = 2 * 0.5^10.
	for i := 0; i < 10; i++ {
		base[i] = 1
	}
	b, c, p := McNemar(base, cand, labels)
	if b != 0 || c != 10 || math.Abs(p-2*math.Pow(0.5, 10)) > 1e-12 {
		t.Fatalf("b=%d c=%d p=%g", b, c, p)
	}
	// 5 only the base reads, 10 only the candidate: p = 2 * P(X <= 5 | n=15) = 2 * 4944 / 2^15.
	for i := 10; i < 15; i++ {
		cand[i] = 2
	}
	if b, c, p := McNemar(base, cand, labels); b != 5 || c != 10 || math.Abs(p-2*4944.0/32768) > 1e-12 {
		t.Fatalf("b=%d c=%d p=%g", b, c, p)
	}
	if _, _, p := McNemar(base, base, labels); p != 1 {
		t.Fatalf("identical predictions p=%g, want 1", p)
	}
}

func TestScreenExcludesOneLabelClientAndCaps(t *testing.T) {
	var ss []Sample
	var pred []int
	var conf []float64
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 100; i++ {
		// honest clerk: labels 0..9, the base agrees with 90% confidently
		l := uint8(i % 10)
		ss = append(ss, Sample{Label: l, Client: "honest", At: at, Predicted: -1})
		p := int(l)
		if i%10 == 3 {
			p = (p + 1) % 10
		}
		pred, conf = append(pred, p), append(conf, 0.995)
		// kiosk labelling everything 1
		ss = append(ss, Sample{Label: 1, Client: "stuck", At: at, Predicted: -1})
		pred, conf = append(pred, int(l)), append(conf, 0.999)
		// careless clerk: right share of labels but relabels what the model reads confidently
		ss = append(ss, Sample{Label: uint8((i * 7) % 10), Client: "careless", At: at, Predicted: -1})
		pred, conf = append(pred, (i*7+3)%10), append(conf, 0.999)
	}
	kept, checks := Screen(ss, pred, conf, ScreenConfig{CapPerClient: 50})
	got := map[string]ClientCheck{}
	for _, c := range checks {
		got[c.Client] = c
	}
	if got["honest"].Excluded != "" || got["honest"].Kept != 50 {
		t.Errorf("honest client: %+v", got["honest"])
	}
	if got["stuck"].Excluded == "" || got["careless"].Excluded == "" {
		t.Errorf("stuck %+v careless %+v: want both excluded", got["stuck"], got["careless"])
	}
	if len(kept) != 50 {
		t.Errorf("kept %d samples, want the honest client's newest 50", len(kept))
	}
}

func TestMisaligned_ShiftedReadingsOnly(t *testing.T) {
	code := func(s string) []uint8 {
		out := make([]uint8, len(s))
		for i, c := range s {
			out[i] = uint8(c - '0')
		}
		return out
	}
	read := func(s string) []int {
		out := make([]int, len(s))
		for i, c := range s {
			out[i] = int(c - '0')
		}
		return out
	}
	for _, tc := range []struct {
		reading, labels string
		want            bool
	}{
		{"17435", "74357", true},  // a 7 cut in two, the last digit lost: every input shows a neighbour
		{"81720", "87200", true},  // a spurious piece inserted after the 8
		{"76335", "16333", false}, // two digits misread in place
		{"74357", "74357", false}, // confirmed as read
		{"74351", "74357", false}, // one digit corrected
	} {
		if got := Misaligned(read(tc.reading), code(tc.labels)); got != tc.want {
			t.Errorf("Misaligned(%s, %s) = %v, want %v", tc.reading, tc.labels, got, tc.want)
		}
	}
}

func TestScreen_LeavesOutMisalignedRecords(t *testing.T) {
	var ss []Sample
	var pred []int
	var conf []float64
	add := func(id, reading, labels string) {
		for k := range labels {
			p := int(reading[k] - '0')
			ss = append(ss, Sample{RecordID: id, Client: "pad", Label: labels[k] - '0', Predicted: p})
			pred, conf = append(pred, p), append(conf, 0.5)
		}
	}
	add("a", "17435", "74357")
	add("b", "12345", "12395")
	add("c", "55555", "55555")
	kept, checks := Screen(ss, pred, conf, ScreenConfig{})
	if len(kept) != 10 || kept[0].RecordID != "b" || checks[0].Misaligned != 5 || checks[0].Kept != 10 {
		t.Fatalf("kept %d (first %q), check %+v: want records b and c kept, a's 5 digits left out", len(kept), kept[0].RecordID, checks[0])
	}
}
