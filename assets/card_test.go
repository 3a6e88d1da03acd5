package assets_test

import (
	"testing"

	"digitpad/assets"
	"digitpad/shared/recognize"
)

func TestCard_ConfigureUsesCalibration(t *testing.T) {
	c, err := assets.ParseCard([]byte(`{"name":"m","calibration":{"temperature":1.7,"confirm_threshold":0.93}}`), []byte("model"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.Configure(recognize.Config{Format: "5"})
	if cfg.Temperature != 1.7 || cfg.Threshold != 0.93 || cfg.InputScale != 1 || cfg.Format != "5" || cfg.Confirm != (recognize.ConfirmModel{}) {
		t.Errorf("configured %+v", cfg)
	}
	if cfg := c.Configure(recognize.Config{Threshold: 0.5}); cfg.Threshold != 0.5 {
		t.Errorf("an explicit threshold was overridden: %v", cfg.Threshold)
	}
	plain, _ := assets.ParseCard([]byte(`{"name":"m"}`), []byte("model"))
	if cfg := plain.Configure(recognize.Config{}); cfg.Temperature != 0 || cfg.Threshold != 0 || cfg.Confirm != (recognize.ConfirmModel{}) {
		t.Errorf("an uncalibrated card set %+v", cfg)
	}
}

// TestCard_ConfirmModelRoundTrip: a card's calibration.confirm_model reaches the recogniser's configuration,
// also when an operator sets the threshold; a card without one (before the model) configures the zero model.
func TestCard_ConfirmModelRoundTrip(t *testing.T) {
	want := recognize.ConfirmModel{Short: 0.155, ShortOne: 0.916}
	c, err := assets.ParseCard([]byte(`{"calibration":{"temperature":0.66,"confirm_threshold":0.887,"confirm_model":{"short":0.155,"short_one":0.916}}}`), []byte("model"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Calibration.Confirm != want {
		t.Errorf("parsed confirm model %+v, want %+v", c.Calibration.Confirm, want)
	}
	for _, th := range []float64{0, 0.5} {
		if cfg := c.Configure(recognize.Config{Threshold: th}); cfg.Confirm != want {
			t.Errorf("threshold %v: configured confirm model %+v, want %+v", th, cfg.Confirm, want)
		}
	}
}

// TestCard_StrokePolicyRoundTrip: a card's calibration.strokes (threshold and confirm model) reaches the
// recogniser's configuration; a card without it leaves stroke input to the image policy.
func TestCard_StrokePolicyRoundTrip(t *testing.T) {
	want := recognize.ConfirmModel{Short: 0.3, ShortOne: 1.2}
	c, err := assets.ParseCard([]byte(`{"calibration":{"confirm_threshold":0.9,"strokes":{"confirm_threshold":0.8,"confirm_model":{"short":0.3,"short_one":1.2}}}}`), []byte("model"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := c.Configure(recognize.Config{}); cfg.StrokeThreshold != 0.8 || cfg.StrokeConfirm != want || cfg.Threshold != 0.9 {
		t.Errorf("configured %+v, want stroke threshold 0.8 and model %+v", cfg, want)
	}
	plain, _ := assets.ParseCard([]byte(`{"calibration":{"confirm_threshold":0.9}}`), []byte("model"))
	if cfg := plain.Configure(recognize.Config{}); cfg.StrokeThreshold != 0 || cfg.StrokeConfirm != (recognize.ConfirmModel{}) {
		t.Errorf("a card without strokes configured %+v", cfg)
	}
}

// TestCard_ForPicksTheCalibrationOfItsReading: a reader with the second reader takes calibration, one with the
// pair reader alone calibration_without_second, one with neither (the browser's pad) calibration_digit_model_only;
// a card that does not state a reading's calibration gives the nearest one it states.
func TestCard_ForPicksTheCalibrationOfItsReading(t *testing.T) {
	const full = `{"calibration":{"confirm_threshold":0.7,"strokes":{"confirm_threshold":0.6}},` +
		`"calibration_without_second":{"confirm_threshold":0.5,"strokes":{"confirm_threshold":0.4}},` +
		`"calibration_digit_model_only":{"confirm_threshold":0.3,"strokes":{"confirm_threshold":0.2}}}`
	const older = `{"calibration":{"confirm_threshold":0.7,"strokes":{"confirm_threshold":0.6}},` +
		`"calibration_without_second":{"confirm_threshold":0.5,"strokes":{"confirm_threshold":0.4}}}`
	const oldest = `{"calibration":{"confirm_threshold":0.7,"strokes":{"confirm_threshold":0.6}}}`
	second, pair := &recognize.SecondReader{}, &recognize.PairReader{}
	for _, c := range []struct {
		what, card string
		cfg        recognize.Config
		image, pen float64
	}{
		{"both readers", full, recognize.Config{Pair: pair, Second: second}, 0.7, 0.6},
		{"pair reader alone", full, recognize.Config{Pair: pair}, 0.5, 0.4},
		{"digit model alone", full, recognize.Config{}, 0.3, 0.2},
		{"digit model alone, card without its calibration", older, recognize.Config{}, 0.5, 0.4},
		{"digit model alone, card with calibration alone", oldest, recognize.Config{}, 0.7, 0.6},
		{"pair reader alone, card with calibration alone", oldest, recognize.Config{Pair: pair}, 0.7, 0.6},
	} {
		card, err := assets.ParseCard([]byte(c.card), []byte("model"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg := card.Configure(c.cfg); cfg.Threshold != c.image || cfg.StrokeThreshold != c.pen {
			t.Errorf("%s: thresholds %g (strokes %g), want %g (%g)", c.what, cfg.Threshold, cfg.StrokeThreshold, c.image, c.pen)
		}
	}
}
