package synth_test

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"digitpad/shared/synth"
)

// A labelled set is what `digitpad eval --data DIR` reads: labels.csv naming each PNG with its code.
func TestLabelledDir_WritesPNGsAndLabels(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "set")
	d, err := synth.CreateLabelledDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range []string{"30582", "7"} {
		if err := d.Add(i, code, image.NewGray(image.Rect(0, 0, 8+i, 4))); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	labels, err := os.ReadFile(filepath.Join(dir, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(labels), "file,code\n0000_30582.png,30582\n0001_7.png,7\n"; got != want {
		t.Errorf("labels.csv = %q, want %q", got, want)
	}
	f, err := os.Open(filepath.Join(dir, "0001_7.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 9 {
		t.Errorf("second canvas is %v wide, want 9", img.Bounds().Dx())
	}
}
