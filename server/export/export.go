// Package export turns stored feedback into a labelled training set: one grey 28×28 PNG per digit (ink white on
// black, like MNIST), labels.csv describing each image, the clerk's ink per record, and MNIST idx files that the
// trainer reads directly.
package export

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"digitpad/server/store"
	"digitpad/server/store/open"
)

// Output file names inside the export directory.
const (
	ImagesDir = "images"
	InkDir    = "ink"
	LabelsCSV = "labels.csv"
	ImagesIdx = "images-idx3-ubyte"
	LabelsIdx = "labels-idx1-ubyte"
	side      = 28
	pageSize  = 500
	idxImages = 0x00000803
	idxLabels = 0x00000801
)

// CSVHeader is the first row of labels.csv.
var CSVHeader = []string{"file", "label", "feedback_id", "client_id", "model_sha256", "predicted_digit", "corrected"}

// safeID guards file names built from record ids.
var safeID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// Run exports every feedback record of st into outDir and returns the number of labelled digit images written.
// Records without 28×28 inputs (typed codes) contribute only their ink. labels.csv and the idx files are written
// under temporary names and renamed at the end, so an interrupted export never looks complete.
func Run(ctx context.Context, st store.Store, outDir string) (n int, err error) {
	for _, d := range []string{ImagesDir, InkDir} {
		if err := os.MkdirAll(filepath.Join(outDir, d), 0o755); err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
	}
	w, err := newWriter(outDir)
	if err != nil {
		return 0, err
	}
	defer w.abort()
	after := ""
	for {
		page, err := st.Feedback(ctx, after, pageSize)
		if err != nil {
			return w.n, fmt.Errorf("export: read feedback: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			if err := w.add(&page[i]); err != nil {
				return w.n, err
			}
		}
		after = page[len(page)-1].ID
	}
	if err := w.finish(); err != nil {
		return w.n, err
	}
	return w.n, nil
}

// writer accumulates the outputs of one export.
type writer struct {
	dir              string
	csvFile          *os.File
	csv              *csv.Writer
	imgFile, lblFile *os.File
	img, lbl         *bufio.Writer
	n                int
	done             bool
}

func newWriter(dir string) (*writer, error) {
	w := &writer{dir: dir}
	var err error
	create := func(name string) *os.File {
		if err != nil {
			return nil
		}
		var f *os.File
		f, err = os.Create(filepath.Join(dir, name+".tmp"))
		return f
	}
	w.csvFile, w.imgFile, w.lblFile = create(LabelsCSV), create(ImagesIdx), create(LabelsIdx)
	if err != nil {
		w.abort()
		return nil, fmt.Errorf("export: %w", err)
	}
	w.csv = csv.NewWriter(w.csvFile)
	w.img, w.lbl = bufio.NewWriter(w.imgFile), bufio.NewWriter(w.lblFile)
	// Counts are patched in by finish, once known.
	w.img.Write(binary.BigEndian.AppendUint32(nil, idxImages))
	w.img.Write(make([]byte, 4))
	w.img.Write(binary.BigEndian.AppendUint32(nil, side))
	w.img.Write(binary.BigEndian.AppendUint32(nil, side))
	w.lbl.Write(binary.BigEndian.AppendUint32(nil, idxLabels))
	w.lbl.Write(make([]byte, 4))
	if err := w.csv.Write(CSVHeader); err != nil {
		w.abort()
		return nil, fmt.Errorf("export: %w", err)
	}
	return w, nil
}

func (w *writer) add(f *store.Feedback) error {
	if !safeID.MatchString(f.ID) {
		return fmt.Errorf("export: feedback id %q cannot be used in a file name", f.ID)
	}
	if len(f.InkPNG) > 0 {
		if err := os.WriteFile(filepath.Join(w.dir, InkDir, f.ID+".png"), f.InkPNG, 0o644); err != nil {
			return fmt.Errorf("export: ink of %s: %w", f.ID, err)
		}
	}
	labels := f.Labels
	if len(labels) == 0 {
		for _, c := range f.Code {
			labels = append(labels, int(c-'0'))
		}
	}
	if len(f.Inputs) == 0 {
		return nil
	}
	if len(f.Inputs) != len(labels) {
		return fmt.Errorf("export: feedback %s has %d inputs for %d labels", f.ID, len(f.Inputs), len(labels))
	}
	for i, in := range f.Inputs {
		if len(in) != side*side {
			return fmt.Errorf("export: feedback %s input %d has %d bytes, want %d", f.ID, i, len(in), side*side)
		}
		name := fmt.Sprintf("%s_%d.png", f.ID, i)
		if err := writePNG(filepath.Join(w.dir, ImagesDir, name), in); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		predicted, corrected := "", ""
		if p, ok := predictedDigit(f, i, len(labels)); ok {
			predicted, corrected = strconv.Itoa(p), strconv.FormatBool(p != labels[i])
		}
		if err := w.csv.Write([]string{ImagesDir + "/" + name, strconv.Itoa(labels[i]), f.ID, f.ClientID,
			f.ModelSHA256, predicted, corrected}); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		w.img.Write(in)
		w.lbl.WriteByte(byte(labels[i]))
		w.n++
	}
	return nil
}

// predictedDigit is what the model said for digit i, when the prediction lines up with the labels.
func predictedDigit(f *store.Feedback, i, n int) (int, bool) {
	if len(f.Digits) == n {
		return f.Digits[i].Digit, true
	}
	if len(f.Predicted) == n && f.Predicted[i] >= '0' && f.Predicted[i] <= '9' {
		return int(f.Predicted[i] - '0'), true
	}
	return 0, false
}

func writePNG(path string, pixels []byte) error {
	img := image.NewGray(image.Rect(0, 0, side, side))
	copy(img.Pix, pixels) // inputs are MNIST-style already: 0 background, 255 ink
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}

func (w *writer) finish() error {
	w.csv.Flush()
	errs := []error{w.csv.Error(), w.img.Flush(), w.lbl.Flush()}
	count := binary.BigEndian.AppendUint32(nil, uint32(w.n))
	_, err := w.imgFile.WriteAt(count, 4)
	errs = append(errs, err)
	_, err = w.lblFile.WriteAt(count, 4)
	errs = append(errs, err)
	for _, f := range []*os.File{w.csvFile, w.imgFile, w.lblFile} {
		errs = append(errs, f.Sync(), f.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, name := range []string{LabelsCSV, ImagesIdx, LabelsIdx} {
		if err := os.Rename(filepath.Join(w.dir, name+".tmp"), filepath.Join(w.dir, name)); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	w.done = true
	return nil
}

// abort removes the temporary files of an unfinished export.
func (w *writer) abort() {
	if w.done {
		return
	}
	for _, f := range []*os.File{w.csvFile, w.imgFile, w.lblFile} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

// Main is `digitpad feedback export`: it parses its flags (--db DSN, --out DIR), exports and reports the count.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("feedback export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", os.Getenv("DIGITPAD_DB"), "store DSN: sqlite:FILE, FILE or postgres://... (default $DIGITPAD_DB)")
	out := fs.String("out", "", "output directory (created if missing)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: digitpad feedback export --db DSN --out DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("feedback export: unexpected arguments %q", fs.Args())
	}
	if *db == "" || *out == "" {
		fs.Usage()
		return errors.New("feedback export: --db and --out are required")
	}
	// Opening a mistyped SQLite path would create an empty database and export nothing.
	if kind, path, err := open.Parse(*db); err == nil && kind == open.KindSQLite {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("feedback export: %w", err)
		}
	}
	st, err := open.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := Run(ctx, st, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d labelled digits to %s\n", n, *out)
	return nil
}
