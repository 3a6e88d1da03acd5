package pngfile

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite_ReadsBackTheSamePixels(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(img.Pix, []byte{0, 50, 100, 150, 200, 255})
	path := filepath.Join(t.TempDir(), "x.png")
	if err := Write(path, img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := got.(*image.Gray)
	if !ok || g.Bounds() != img.Bounds() || string(g.Pix) != string(img.Pix) {
		t.Fatalf("read back %T %v %v, want %v %v", got, got.Bounds(), g, img.Bounds(), img.Pix)
	}
}

func TestWrite_NamesAPathItCannotCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "x.png")
	if err := Write(path, image.NewGray(image.Rect(0, 0, 1, 1))); err == nil {
		t.Fatal("no error for a folder that does not exist")
	}
}
