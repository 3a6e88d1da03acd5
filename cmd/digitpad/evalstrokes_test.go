package main

import (
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"digitpad/shared/synth"
)

// eval --strokes reads each item's strokes from the JSON beside its image: tightly written validation codes whose
// neighbours' strokes cross read right from their strokes; an item without its JSON counts as unreadable.
func TestEval_StrokesBesideTheImages(t *testing.T) {
	dir := t.TempDir()
	labels := "file,code\n"
	for _, i := range []int{47, 143, 467} {
		img, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, 11, i, 50)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%04d_%s", i, sh.Code.Text)
		f, err := os.Create(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		b, err := json.Marshal(map[string]any{"strokes": sh.Code.Paths(), "width": img.Bounds().Dx(), "height": img.Bounds().Dy()})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		labels += name + ".png," + sh.Code.Text + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.csv"), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	eval := func() evalResult {
		t.Helper()
		out, _, err := mustRun(t, "eval", "--data", dir, "--format", "5", "--strokes", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var res evalResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := eval(); res.N != 3 || res.Accuracy != 1 || res.Errors != 0 {
		t.Errorf("3 codes from strokes: n %d, accuracy %v, %d unreadable; want 3, 1, 0", res.N, res.Accuracy, res.Errors)
	}
	if err := os.Remove(filepath.Join(dir, "0047_40615.json")); err != nil {
		t.Fatal(err)
	}
	if res := eval(); res.Errors != 1 {
		t.Errorf("one item without its strokes: %d unreadable, want 1", res.Errors)
	}
}
