package onnxrec_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"digitpad/assets"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
)

// stroke is a thick vertical bar, a "1" as the model sees it (0..1, ink = 1).
func stroke() [784]float32 {
	var in [784]float32
	for y := 5; y < 23; y++ {
		for x := 12; x < 16; x++ {
			in[y*28+x] = 0.8
		}
	}
	return in
}

func probs(t *testing.T, r *recognize.Recognizer) [10]float64 {
	t.Helper()
	res, err := r.Digits([][784]float32{stroke()}, recognize.Options{})
	if err != nil {
		t.Fatalf("Digits: %v", err)
	}
	return res.Digits[0].Probs
}

func TestNew_TheCardNamesTheModel(t *testing.T) {
	onnx, card := assets.Variant("int8")
	r, err := onnxrec.New(onnx, card, recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := assets.ParseCard(card, onnx)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(onnx)
	if got := r.Info(); got.SHA256 != hex.EncodeToString(sum[:]) || got.Name != want.Name || got.Name == "" {
		t.Errorf("Info = %+v, want name %q and the ONNX bytes' sha256", got, want.Name)
	}
	// A bare ONNX file gets the default name from its hash.
	r, err = onnxrec.New(onnx, nil, recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Info().Name; got != "digitpad-"+hex.EncodeToString(sum[:])[:12] {
		t.Errorf("bare ONNX: name %q, want digitpad-<sha256 prefix>", got)
	}
}

// The card, and only the card, sets the input scale: a caller's Config cannot retype it.
func TestNew_TheCardSetsTheInputScale(t *testing.T) {
	onnx := assets.Model()
	plain, err := onnxrec.New(onnx, []byte(`{"name":"a"}`), recognize.Config{InputScale: 255})
	if err != nil {
		t.Fatal(err)
	}
	scaled, err := onnxrec.New(onnx, []byte(`{"name":"a","input_scale":255}`), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnxrec.Load(onnx, nil)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := recognize.New(m.Model, recognize.ModelInfo{}, recognize.Config{InputScale: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p, d := probs(t, plain), probs(t, direct); p != d {
		t.Errorf("card without input_scale: probs %v, want those at scale 1 %v", p, d)
	}
	direct255, err := recognize.New(m.Model, recognize.ModelInfo{}, recognize.Config{InputScale: 255})
	if err != nil {
		t.Fatal(err)
	}
	if s, d := probs(t, scaled), probs(t, direct255); s != d || s == probs(t, direct) {
		t.Errorf("card input_scale 255: probs %v, want those at scale 255 %v (and unlike scale 1)", s, d)
	}
}

func TestNew_ConfigReachesTheRecognizer(t *testing.T) {
	r, err := onnxrec.New(assets.Model(), assets.ModelCard(), recognize.Config{Format: "5"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Digits([][784]float32{stroke()}, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FormatError == "" {
		t.Errorf("one digit under format 5: no format error (code %q)", res.Code)
	}
	if _, err := onnxrec.New(assets.Model(), nil, recognize.Config{Format: "("}); err == nil {
		t.Error("a bad format: no error")
	}
}

func TestNew_BadInputIsAClearError(t *testing.T) {
	for _, tc := range []struct{ name, onnx, card, want string }{
		{"card not JSON", string(assets.Model()), "{", "model card"},
		{"not ONNX", "not a model", "", "load model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := onnxrec.New([]byte(tc.onnx), []byte(tc.card), recognize.Config{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
