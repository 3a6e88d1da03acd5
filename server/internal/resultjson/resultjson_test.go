package resultjson

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// randomResult draws results that cover every branch: nil and empty slices, numbers in both float formats and
// at their edges, NaN and infinities, strings that need escaping (with and without HTML escaping) and that
// do not.
func randomResult(rng *rand.Rand) recognize.Result {
	floats := []float64{0, math.Copysign(0, -1), 1, 0.5, 1e-6, 9.99e-7, 1e-7, 1.5e-10, 1e-300, 5e-324, 1e20, 1e21,
		1.234e22, -3e-8, 0.1 + 0.2, math.NaN(), math.Inf(1), math.Inf(-1)}
	strs := []string{"", "8", "80331", "digitpad-cnn-int8", "7c66de51e972f0a54c7a9426dfaeed73", "a<b", "x&y",
		"q>r", `say "hi"`, `back\slash`, "tab\there", "é", "\u2028", "\x7f", "want 5 digits, got 3"}
	f := func() float64 {
		if rng.IntN(8) == 0 {
			return floats[rng.IntN(len(floats))]
		}
		return rng.Float64() * math.Pow(10, float64(rng.IntN(30)-20))
	}
	s := func() string {
		if rng.IntN(8) == 0 {
			return strs[rng.IntN(len(strs))]
		}
		return strs[rng.IntN(5)] // needs no escaping
	}
	r := recognize.Result{Code: s(), Confidence: f(), FormatError: s(),
		Model: recognize.ModelInfo{Name: s(), SHA256: s()}}
	if n := rng.IntN(7) - 1; n >= 0 {
		r.Digits = make([]recognize.Digit, n)
		for i := range r.Digits {
			d := &r.Digits[i]
			d.Digit, d.Confidence = rng.IntN(10), f()
			for k := range d.Probs {
				d.Probs[k] = f()
			}
			for k := range d.Box {
				d.Box[k] = rng.IntN(2000) - 10
			}
		}
	}
	if n := rng.IntN(4) - 1; n >= 0 {
		r.Confirm = make([]int, n)
		for i := range r.Confirm {
			r.Confirm[i] = rng.IntN(6)
		}
	}
	return r
}

// plainResult is randomResult with everything this package writes itself.
func plainResult(rng *rand.Rand) recognize.Result {
	for {
		r := randomResult(rng)
		if _, ok := AppendResult(nil, &r, true); ok {
			return r
		}
	}
}

func TestAppend_AsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fast := 0
	for i := range 20000 {
		r := randomResult(rng)
		want, err := json.Marshal(&r)
		got, ok := AppendResult(nil, &r, true)
		if ok {
			fast++
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("result %d: got %s, encoding/json %s (%v)", i, got, want, err)
			}
		}

		p := protocol.Prediction{ID: "0193a3c2-7d4e-7b1a-9c1e-3f2d1a0b9c8d", Result: r}
		switch rng.IntN(3) {
		case 1:
			p.Inputs = [][]byte{{0, 1, 255}, nil, {}}
		case 2:
			p.ID = `<id>`
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		err = enc.Encode(&p)
		got, ok = AppendPrediction(nil, &p)
		if ok && (err != nil || !bytes.Equal(got, buf.Bytes())) {
			t.Fatalf("prediction %d: got %s, encoding/json %s (%v)", i, got, buf.Bytes(), err)
		}
		// The server's answer from the result it encoded (with HTML escaping) for its log.
		if res, ok := AppendResult(nil, &r, true); ok && p.Inputs == nil {
			got, ok = AppendPredictionResult(nil, p.ID, res)
			if !ok || err != nil || !bytes.Equal(got, buf.Bytes()) {
				t.Fatalf("prediction %d from its result: got %s (%v), encoding/json %s (%v)", i, got, ok, buf.Bytes(), err)
			}
		}
	}
	// Most draws take some escaping or NaN somewhere; still, the fast path must run often enough to be tested.
	if fast < 1000 {
		t.Errorf("only %d of 20000 results written without encoding/json", fast)
	}
}

// TestAppend_RefusesWhatItCannotWrite: a result with NaN, or a string that needs escaping, is left to
// encoding/json.
func TestAppend_RefusesWhatItCannotWrite(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, mutate := range []func(r *recognize.Result){
		func(r *recognize.Result) { r.Confidence = math.NaN() },
		func(r *recognize.Result) { r.Code = "é" },
		func(r *recognize.Result) { r.Model.Name = "a\nb" },
		func(r *recognize.Result) { r.FormatError = `"x"` },
	} {
		r := plainResult(rng)
		mutate(&r)
		if b, ok := AppendResult(nil, &r, false); ok {
			t.Errorf("wrote %s", b)
		}
	}
	r := plainResult(rng)
	r.Code = "<8>"
	if _, ok := AppendResult(nil, &r, true); ok {
		t.Error("wrote < with HTML escaping on")
	}
	if b, ok := AppendResult(nil, &r, false); !ok || !bytes.Contains(b, []byte(`"code":"<8>"`)) {
		t.Errorf("without HTML escaping: %s, %v", b, ok)
	}
}

func BenchmarkAppendResult(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	r := plainResult(rng)
	r.Digits = r.Digits[:0]
	r.Digits = append(r.Digits, recognize.Digit{Digit: 8, Confidence: 0.998, Probs: [10]float64{1e-5, 2e-7, 0.001,
		0.0003, 1e-9, 0.0002, 3e-6, 1e-8, 0.998, 0.0004}, Box: [4]int{10, 4, 66, 60}})
	b.Run("resultjson", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = AppendResult(buf[:0], &r, true)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(&r)
		}
	})
}
