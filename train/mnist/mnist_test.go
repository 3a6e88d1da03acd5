package mnist_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"digitpad/train/mnist"
)

func idxImages(t *testing.T, imgs []float32, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := mnist.WriteImages(&b, imgs, n, 28, 28); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func sampleImages(n int) []float32 {
	imgs := make([]float32, n*784)
	for i := range imgs {
		imgs[i] = float32(i%256) / 255
	}
	return imgs
}

func TestReadImages_RoundTripPlainAndGzip(t *testing.T) {
	imgs := sampleImages(3)
	raw := idxImages(t, imgs, 3)
	for name, data := range map[string][]byte{"plain": raw, "gzip": gz(t, raw)} {
		t.Run(name, func(t *testing.T) {
			s, err := mnist.ReadImages(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if s.Len() != 3 || s.Rows != 28 || s.Cols != 28 {
				t.Fatalf("got %d images of %d×%d, want 3 of 28×28", s.Len(), s.Rows, s.Cols)
			}
			if !slices.Equal(s.Images, imgs) {
				t.Error("pixels changed in the round trip")
			}
		})
	}
}

func TestReadImages_RejectsBadInput(t *testing.T) {
	raw := idxImages(t, sampleImages(2), 2)
	labels := []byte{0, 0, 8, 1, 0, 0, 0, 1, 7}
	for _, tc := range []struct {
		name, data, wantErr string
	}{
		{"empty", "", "header"},
		{"labels file", string(labels), "not an idx3"},
		{"truncated pixels", string(raw[:len(raw)-10]), "unexpected EOF"},
		{"huge header", string([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28, 0, 0, 0, 28}), "implausible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mnist.ReadImages(strings.NewReader(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestReadLabels_RoundTrip(t *testing.T) {
	var b bytes.Buffer
	want := []uint8{7, 2, 1, 0, 4}
	if err := mnist.WriteLabels(&b, want); err != nil {
		t.Fatal(err)
	}
	got, err := mnist.ReadLabels(bytes.NewReader(gz(t, b.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	if _, err := mnist.ReadLabels(bytes.NewReader(idxImages(t, sampleImages(1), 1))); err == nil {
		t.Error("an image file was accepted as labels")
	}
}

func TestLoad_DirectoryOfIdxFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	labels := func(l []uint8) []byte {
		var b bytes.Buffer
		if err := mnist.WriteLabels(&b, l); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	write(mnist.TrainImagesFile, gz(t, idxImages(t, sampleImages(4), 4)))
	write(mnist.TrainLabelsFile, gz(t, labels([]uint8{1, 2, 3, 4})))
	// The test set is stored uncompressed without the .gz suffix.
	write(strings.TrimSuffix(mnist.TestImagesFile, ".gz"), idxImages(t, sampleImages(2), 2))
	write(strings.TrimSuffix(mnist.TestLabelsFile, ".gz"), labels([]uint8{5, 6}))
	train, test, err := mnist.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 4 || test.Len() != 2 || test.Labels[1] != 6 {
		t.Errorf("train %d test %d samples (test labels %v), want 4 and 2 ending in 6", train.Len(), test.Len(), test.Labels)
	}
	write(mnist.TestLabelsFile, gz(t, labels([]uint8{5, 6, 7})))
	os.Remove(filepath.Join(dir, strings.TrimSuffix(mnist.TestLabelsFile, ".gz")))
	if _, _, err := mnist.Load(dir); err == nil || !strings.Contains(err.Error(), "labels") {
		t.Errorf("count mismatch: err = %v, want an error about labels", err)
	}
}

func TestLocate_PrefersExplicitDirThenEnv(t *testing.T) {
	t.Setenv(mnist.EnvDir, "/from/env")
	if got, _ := mnist.Locate(t.Context(), "/explicit"); got != "/explicit" {
		t.Errorf("explicit: got %q", got)
	}
	if got, _ := mnist.Locate(t.Context(), ""); got != "/from/env" {
		t.Errorf("env: got %q", got)
	}
}
