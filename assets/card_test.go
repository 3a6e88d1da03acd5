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
	if cfg.Temperature != 1.7 || cfg.Threshold != 0.93 || cfg.InputScale != 1 || cfg.Format != "5" {
		t.Errorf("configured %+v", cfg)
	}
	if cfg := c.Configure(recognize.Config{Threshold: 0.5}); cfg.Threshold != 0.5 {
		t.Errorf("an explicit threshold was overridden: %v", cfg.Threshold)
	}
	plain, _ := assets.ParseCard([]byte(`{"name":"m"}`), []byte("model"))
	if cfg := plain.Configure(recognize.Config{}); cfg.Temperature != 0 || cfg.Threshold != 0 {
		t.Errorf("an uncalibrated card set %+v", cfg)
	}
}
