package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/train/mnist"
)

// maxImagePixels bounds decoded canvas snapshots: a 30000×30000 PNG is refused from its header, before decoding.
const maxImagePixels = 40_000_000

// predictLine is one JSON line of `digitpad predict`.
type predictLine struct {
	File  string `json:"file,omitempty"`
	Index *int   `json:"index,omitempty"`
	*recognize.Result
	Error string `json:"error,omitempty"`
}

// predictItem is one unit of work: an image file, or one image of an idx file.
type predictItem struct {
	file  string
	index int // -1 for files
	input *[784]float32
	err   error // set when the item could not even be listed
}

func runPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("predict", "predict [--model FILE] [--format REGEXP|N] [--threshold P] [--workers N] PATH...", stderr)
	modelPath := fs.String("model", "", "ONNX model file, or models:/NAME@ALIAS or models:/NAME/VERSION from --registry (default: the embedded shipped model)")
	variant := fs.String("variant", "fp32", "model variant (embedded model or models:/ URI): fp32, int8 or fp16")
	rf := addRegistryFlags(fs)
	format := fs.String("format", "", `code format: a digit count such as 5, or a regular expression like ^\d{5}$; codes that do not match get "format_error"`)
	threshold := fs.Float64("threshold", 0, "confirm score (the product of the digits' confidences, lowered for short digits by the card's confirm model) below which the code asks to confirm; its doubtful digits are listed in \"confirm\" (recognize.ConfirmModel; 0 = the model card's calibrated threshold, else 0.9)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel workers (default: all cores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("predict: no PATH given")
	}
	lm, err := loadModelFrom(ctx, *modelPath, *variant, rf)
	if err != nil {
		return err
	}
	rec, err := lm.Recognizer(recognize.Config{Format: *format, Threshold: *threshold})
	if err != nil {
		return err
	}
	items := listPredictItems(fs.Args())
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	failed := 0
	err = forEachOrdered(ctx, len(items), max(1, *workers), func(i int) predictLine {
		return predictOne(rec, items[i])
	}, func(l predictLine) error {
		if l.Error != "" {
			failed++
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		w.Write(b)
		return w.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	if failed > 0 {
		w.Flush()
		fmt.Fprintf(stderr, "digitpad predict: %d of %d inputs failed\n", failed, len(items))
		return errReported
	}
	return nil
}

func predictOne(rec *recognize.Recognizer, it predictItem) predictLine {
	l := predictLine{File: it.file}
	if it.index >= 0 {
		l.File = ""
		idx := it.index
		l.Index = &idx
	}
	var res *recognize.Result
	err := it.err
	if err == nil {
		if it.input != nil {
			res, err = rec.Digits([][784]float32{*it.input}, recognize.Options{})
		} else {
			var img image.Image
			img, err = readImage(it.file)
			if err == nil {
				res, err = rec.Image(img, recognize.Options{})
			}
		}
	}
	if err != nil {
		if errors.Is(err, ink.ErrNoInk) {
			l.Error = "no ink"
		} else {
			l.Error = err.Error()
		}
		return l
	}
	l.Result = res
	return l
}

// readImage decodes a PNG/JPEG/GIF file, refusing empty files and images too large to decode safely.
func readImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	if st.Size() == 0 {
		return nil, errors.New("empty file")
	}
	cfg, kind, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("not a readable PNG/JPEG image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s image has no pixels (%d×%d)", kind, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, fmt.Errorf("%s image %d×%d is too large (limit %d pixels)", kind, cfg.Width, cfg.Height, maxImagePixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek: %w", err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("corrupt %s image: %w", kind, err)
	}
	return img, nil
}

var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true}

// listPredictItems expands paths: folders to their image files (sorted, recursively), idx3 files to their images.
// Problems become items with an error so they get their own output line.
func listPredictItems(paths []string) []predictItem {
	var items []predictItem
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			items = append(items, predictItem{file: p, index: -1, err: err})
			continue
		}
		if st.IsDir() {
			var files []string
			err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					items = append(items, predictItem{file: path, index: -1, err: err})
					return nil
				}
				if !d.IsDir() && imageExts[strings.ToLower(filepath.Ext(path))] {
					files = append(files, path)
				}
				return nil
			})
			if err != nil {
				items = append(items, predictItem{file: p, index: -1, err: err})
			}
			sort.Strings(files)
			for _, f := range files {
				items = append(items, predictItem{file: f, index: -1})
			}
			continue
		}
		if !imageExts[strings.ToLower(filepath.Ext(p))] {
			// Not named like an image: an MNIST idx3 file (plain or gzipped) if its header says so.
			if set, err := mnist.ReadImagesFile(p); err == nil {
				if set.Rows != 28 || set.Cols != 28 {
					items = append(items, predictItem{file: p, index: -1,
						err: fmt.Errorf("idx images are %d×%d, want 28×28", set.Rows, set.Cols)})
					continue
				}
				for i := 0; i < set.Len(); i++ {
					items = append(items, predictItem{file: p, index: i, input: (*[784]float32)(set.Image(i))})
				}
				continue
			}
		}
		items = append(items, predictItem{file: p, index: -1})
	}
	return items
}

// forEachOrdered runs work(i) for i in [0,n) on the given number of goroutines and hands the results to emit in
// index order, holding back at most a window of finished results.
func forEachOrdered[T any](ctx context.Context, n, workers int, work func(int) T, emit func(T) error) error {
	type slot struct {
		i int
		v T
	}
	next := make(chan int)
	done := make(chan slot, workers*2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				done <- slot{i, work(i)}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := 0; i < n; i++ {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	pending := map[int]T{}
	want := 0
	var emitErr error
	for s := range done {
		pending[s.i] = s.v
		for {
			v, ok := pending[want]
			if !ok {
				break
			}
			delete(pending, want)
			want++
			if emitErr == nil {
				emitErr = emit(v)
			}
		}
	}
	if emitErr != nil {
		return emitErr
	}
	return ctx.Err()
}
