package synth

import (
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
)

// LabelledDir writes a labelled canvas set the way `digitpad eval --data DIR` reads it: one PNG per canvas and
// labels.csv with the columns file,code.
type LabelledDir struct {
	dir    string
	labels *os.File
	w      *csv.Writer
}

// CreateLabelledDir creates dir (if needed) and its labels.csv.
func CreateLabelledDir(dir string) (*LabelledDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("labelled set: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "labels.csv"))
	if err != nil {
		return nil, fmt.Errorf("labelled set: %w", err)
	}
	d := &LabelledDir{dir: dir, labels: f, w: csv.NewWriter(f)}
	if err := d.w.Write([]string{"file", "code"}); err != nil {
		f.Close()
		return nil, fmt.Errorf("labelled set: %w", err)
	}
	return d, nil
}

// Add writes canvas i as NNNN_CODE.png and records its code.
func (d *LabelledDir) Add(i int, code string, img image.Image) error {
	name := fmt.Sprintf("%04d_%s.png", i, code)
	f, err := os.Create(filepath.Join(d.dir, name))
	if err != nil {
		return fmt.Errorf("labelled set: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("labelled set: %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("labelled set: %w", err)
	}
	return d.w.Write([]string{name, code})
}

// Close flushes labels.csv; the set is complete only when Close returns nil. Later calls do nothing.
func (d *LabelledDir) Close() error {
	if d.labels == nil {
		return nil
	}
	defer func() { d.labels = nil }()
	d.w.Flush()
	werr := d.w.Error()
	cerr := d.labels.Close()
	if werr != nil {
		return fmt.Errorf("labelled set: %w", werr)
	}
	if cerr != nil {
		return fmt.Errorf("labelled set: %w", cerr)
	}
	return nil
}
