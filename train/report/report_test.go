package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"digitpad/train/report"
)

func TestConfusion_AccuracyAndPerClass(t *testing.T) {
	var c report.Confusion
	c[0][0], c[0][6] = 9, 1 // class 0: 9 of 10 right
	c[1][1] = 5             // class 1: all right
	if got, want := c.Accuracy(), 14.0/15; got != want {
		t.Errorf("accuracy %v, want %v", got, want)
	}
	pc := c.PerClass()
	if pc[0] != 0.9 || pc[1] != 1 || pc[2] != 0 {
		t.Errorf("per class %v, want 0.9, 1, 0 for classes 0..2", pc[:3])
	}
}

func TestPlots_WritePNGs(t *testing.T) {
	dir := t.TempDir()
	var c report.Confusion
	for i := range c {
		c[i][i] = 100 + i
	}
	c[4][9] = 3
	curves := filepath.Join(dir, "sub", "curves.png")
	conf := filepath.Join(dir, "sub", "confusion.png")
	if err := report.LearningCurves(curves, []report.Epoch{{Epoch: 1, TrainLoss: 0.9, ValAcc: 0.97},
		{Epoch: 2, TrainLoss: 0.5, ValAcc: 0.99}}); err != nil {
		t.Fatal(err)
	}
	if err := report.ConfusionHeatMap(conf, "test", &c); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{curves, conf} {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: not a PNG (err %v)", p, err)
		}
	}
	if err := report.LearningCurves(filepath.Join(dir, "empty.png"), nil); err == nil {
		t.Error("learning curves without epochs: want an error")
	}
}

func TestWriteCard_RoundTrips(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.json")
	want := report.Card{Name: "m", SHA256: "ab", Metrics: report.Metrics{TestAccuracy: 0.99, TestErrors: 100}}
	if err := report.WriteCard(path, &want); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got report.Card
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != want.Name || got.SHA256 != want.SHA256 || got.Metrics.TestAccuracy != 0.99 {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
