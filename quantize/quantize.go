// Package quantize writes smaller variants of a float32 ONNX digit model and measures them side by side:
// int8 (post-training quantisation in QDQ form, see Int8) and fp16 (half-precision weights, see FP16). The
// files are standard ONNX that onnxruntime loads; digitpad's runtime (shared/model) runs the int8 variant on
// int8 kernels. Main is the `digitpad quantize` command, which also writes a model card per variant.
package quantize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/train/mnist"
)

// Config is what Main does (flags in brackets).
type Config struct {
	To         string        // "int8" or "fp16" [--to]
	Calib      int           // calibration samples from the start of the MNIST training set [--calib, 1000]
	MNIST      string        // MNIST directory; empty = $DIGITPAD_MNIST or the GoMNIST module [--mnist]
	Val        int           // size of the validation split at the end of the training set [--val, 5000]
	InputScale float64       // factor from 0..1 pixels to the model's input; 0 = from metadata or card [--input-scale]
	Card       bool          // write OUT's model card (OUT with .json) [--card, true]
	BenchTime  time.Duration // latency measurement time per batch size [--bench-time, 1s]
	In, Out    string
}

// Main runs `digitpad quantize --to int8|fp16 [--calib N] IN.onnx OUT.onnx`.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quantize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	fs.StringVar(&c.To, "to", "", "variant to write: int8 or fp16")
	fs.IntVar(&c.Calib, "calib", 1000, "int8: calibration samples from the start of the MNIST training set (never the test set)")
	fs.StringVar(&c.MNIST, "mnist", "", "MNIST directory (default $"+mnist.EnvDir+" or the GoMNIST module)")
	fs.IntVar(&c.Val, "val", 5000, "validation split size at the end of the MNIST training set (pad-like set)")
	fs.Float64Var(&c.InputScale, "input-scale", 0, "multiply 0..1 pixels by this for the model (0: from the model metadata or card, else 1)")
	fs.BoolVar(&c.Card, "card", true, "write a model card next to OUT (same name, .json) with size, accuracy and latency")
	fs.DurationVar(&c.BenchTime, "bench-time", time.Second, "latency measurement time per batch size")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: digitpad quantize --to int8|fp16 [--calib N] [flags] IN.onnx OUT.onnx")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("quantize: want IN.onnx and OUT.onnx")
	}
	c.In, c.Out = fs.Arg(0), fs.Arg(1)
	log := slog.New(slog.NewTextHandler(stderr, nil))
	card, err := Run(ctx, c, log)
	if err != nil {
		return err
	}
	m := card.Metrics
	_, err = fmt.Fprintf(stdout, "%s: %d bytes (gzip %d), MNIST test %.4f, pad-like %.4f, agreement with source %.4f, %.1f µs/digit at batch 1, %.1f at 64\n",
		c.Out, card.Size.Bytes, card.Size.GzipBytes, m.TestAccuracy, m.PadLikeAccuracy, m.Agreement, card.Latency.Batch1, card.Latency.Batch64)
	return err
}

// VariantCard is the model card of a variant: the source's card (training, data, architecture) with the
// variant's own identity, size, metrics and latency, and the same numbers for the source for comparison.
type VariantCard struct {
	Base         map[string]any `json:"-"`
	Variant      string         `json:"variant"`
	Source       FileRef        `json:"source"`
	Quantization map[string]any `json:"quantization"`
	Size         Size           `json:"size"`
	Metrics      Metrics        `json:"metrics"`
	Latency      Latency        `json:"latency_us_per_digit"`
	Comparison   map[string]Row `json:"comparison"`
}

// FileRef names a file by path and hash.
type FileRef struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Size is the download cost.
type Size struct {
	Bytes     int `json:"bytes"`
	GzipBytes int `json:"gzip_bytes"`
}

// Metrics are a variant's accuracies.
type Metrics struct {
	TestAccuracy    float64     `json:"mnist_test_accuracy"`
	TestErrors      int         `json:"mnist_test_errors"`
	PadLikeAccuracy float64     `json:"pad_like_accuracy"`
	PadLike         string      `json:"pad_like_set"`
	Agreement       float64     `json:"mnist_test_agreement_with_source"`
	TestConfusion   [10][10]int `json:"mnist_test_confusion"`
}

// Latency is digitpad's runtime per digit, native.
type Latency struct {
	Batch1  float64 `json:"native_batch1"`
	Batch64 float64 `json:"native_batch64"`
	Kernel  string  `json:"kernel"`
	Machine string  `json:"machine"`
}

// Row is one line of the comparison table.
type Row struct {
	Bytes        int     `json:"bytes"`
	GzipBytes    int     `json:"gzip_bytes"`
	TestAccuracy float64 `json:"mnist_test_accuracy"`
	PadLike      float64 `json:"pad_like_accuracy"`
	Batch1       float64 `json:"native_batch1_us"`
	Batch64      float64 `json:"native_batch64_us"`
}

// MarshalJSON writes the base card's fields overlaid with the variant's.
func (c *VariantCard) MarshalJSON() ([]byte, error) {
	type plain VariantCard
	own, err := json.Marshal((*plain)(c))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(own, &m); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for k, v := range c.Base {
		out[k] = v
	}
	for k, v := range m {
		out[k] = v
	}
	return json.Marshal(out)
}

// Run writes the variant and its card and returns the card.
func Run(ctx context.Context, c Config, log *slog.Logger) (*VariantCard, error) {
	if c.To != "int8" && c.To != "fp16" {
		return nil, fmt.Errorf("quantize: --to must be int8 or fp16, got %q", c.To)
	}
	if c.Calib < 1 {
		return nil, fmt.Errorf("quantize: --calib %d, want >= 1", c.Calib)
	}
	if c.BenchTime <= 0 {
		c.BenchTime = time.Second
	}
	src, err := os.ReadFile(c.In)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	base := readCard(c.In)
	scale, err := inputScale(c.InputScale, src, base)
	if err != nil {
		return nil, err
	}
	dir, err := mnist.Locate(ctx, c.MNIST)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	trainAll, test, err := mnist.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	if c.Val >= trainAll.Len() || c.Calib > trainAll.Len()-c.Val {
		return nil, fmt.Errorf("quantize: --calib %d and --val %d do not fit %d training samples", c.Calib, c.Val, trainAll.Len())
	}
	var out []byte
	q := map[string]any{}
	switch c.To {
	case "int8":
		calib := trainAll.Slice(0, c.Calib)
		in := make([]float32, len(calib.Images))
		for i, v := range calib.Images {
			in[i] = v * scale
		}
		var rep *Int8Report
		out, rep, err = Int8(src, in, calib.Len())
		if err != nil {
			return nil, fmt.Errorf("quantize: %w", err)
		}
		q["method"] = "post-training static quantisation, QDQ (QuantizeLinear/DequantizeLinear), opset 13"
		q["weights"] = "int8, symmetric, one scale per output channel (Conv axis 0, MatMul axis 1)"
		q["activations"] = rep.Activations
		q["calibration"] = fmt.Sprintf("min/max over the first %d samples of the MNIST training set", c.Calib)
		q["float_ops"] = rep.Float
	case "fp16":
		out, err = FP16(src)
		if err != nil {
			return nil, fmt.Errorf("quantize: %w", err)
		}
		q["method"] = "float16 initializers cast to float32 at load; computed in float32"
	}
	if err := os.WriteFile(c.Out, out, 0o644); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	log.Info("wrote variant", "file", c.Out, "bytes", len(out))
	card := &VariantCard{Base: base, Variant: c.To, Source: FileRef{filepath.Base(c.In), sha(src)}, Quantization: q,
		Size: Size{len(out), GzipSize(out)}, Comparison: map[string]Row{}}
	if !c.Card {
		return card, nil
	}
	val := trainAll.Slice(trainAll.Len()-c.Val, trainAll.Len())
	padLike := PadLike(val)
	srcRow, srcScores, _, err := measure(src, test, padLike, scale, c.BenchTime, log)
	if err != nil {
		return nil, fmt.Errorf("quantize: source model: %w", err)
	}
	row, scores, m, err := measure(out, test, padLike, scale, c.BenchTime, log)
	if err != nil {
		return nil, fmt.Errorf("quantize: %s model: %w", c.To, err)
	}
	srcName := "fp32"
	if v, _ := base["variant"].(string); v != "" {
		srcName = v
	}
	card.Comparison[srcName] = srcRow
	card.Comparison[c.To] = row
	card.Metrics = Metrics{TestAccuracy: row.TestAccuracy, TestErrors: scores.test.Errors, PadLikeAccuracy: row.PadLike,
		PadLike:   fmt.Sprintf("last %d samples of the MNIST training set, each augmented once with train/augment defaults (seed %d)", c.Val, PadLikeSeed),
		Agreement: Agreement(scores.test.Preds, srcScores.test.Preds), TestConfusion: scores.test.Confusion}
	card.Latency = Latency{Batch1: row.Batch1, Batch64: row.Batch64, Kernel: kernels(m), Machine: machine()}
	name, _ := base["name"].(string)
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(c.In), ".onnx")
	}
	card.Base["name"] = name + "-" + c.To
	card.Base["file"] = filepath.Base(c.Out)
	card.Base["sha256"] = sha(out)
	card.Base["date"] = time.Now().UTC().Format(time.RFC3339)
	if arch, ok := base["architecture"].(map[string]any); ok {
		arch["onnx_ops"] = opTypes(out)
	}
	b, err := json.MarshalIndent(card, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("quantize: card: %w", err)
	}
	cardPath := strings.TrimSuffix(c.Out, filepath.Ext(c.Out)) + ".json"
	if err := os.WriteFile(cardPath, append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	log.Info("wrote card", "file", cardPath)
	return card, nil
}

type scoreSet struct{ test, padLike *Scores }

func measure(b []byte, test, padLike *mnist.Set, scale float32, d time.Duration, log *slog.Logger) (Row, *scoreSet, *model.Model, error) {
	m, err := onnxload.Load(b)
	if err != nil {
		return Row{}, nil, nil, err
	}
	t, err := Score(m, test, scale)
	if err != nil {
		return Row{}, nil, nil, err
	}
	p, err := Score(m, padLike, scale)
	if err != nil {
		return Row{}, nil, nil, err
	}
	l1, err := MeasureLatency(m, 1, d)
	if err != nil {
		return Row{}, nil, nil, err
	}
	l64, err := MeasureLatency(m, 64, d)
	if err != nil {
		return Row{}, nil, nil, err
	}
	row := Row{Bytes: len(b), GzipBytes: GzipSize(b), TestAccuracy: t.Accuracy, PadLike: p.Accuracy,
		Batch1: us(l1), Batch64: us(l64)}
	log.Info("measured", "bytes", row.Bytes, "gzip", row.GzipBytes, "mnist_test", row.TestAccuracy, "pad_like", row.PadLike,
		"us_b1", row.Batch1, "us_b64", row.Batch64)
	return row, &scoreSet{t, p}, m, nil
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()/10) / 100 }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readCard reads IN's model card (IN with .json) as generic JSON; a missing or unreadable card gives an empty one.
func readCard(in string) map[string]any {
	m := map[string]any{}
	b, err := os.ReadFile(strings.TrimSuffix(in, filepath.Ext(in)) + ".json")
	if err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// inputScale resolves the factor from 0..1 pixels to the model input: the flag, else the model's input_range
// metadata ("0..1" or "0..255"), else the card's input_scale, else 1.
func inputScale(flagValue float64, src []byte, card map[string]any) (float32, error) {
	if flagValue < 0 {
		return 0, fmt.Errorf("quantize: --input-scale %g, want > 0", flagValue)
	}
	if flagValue > 0 {
		return float32(flagValue), nil
	}
	if gr, err := parse(src); err == nil {
		if r := gr.meta("input_range"); strings.HasPrefix(r, "0..") {
			if v, err := strconv.ParseFloat(strings.TrimPrefix(r, "0.."), 32); err == nil && v > 0 {
				return float32(v), nil
			}
		}
	}
	if v, ok := card["input_scale"].(float64); ok && v > 0 {
		return float32(v), nil
	}
	return 1, nil
}

func opTypes(b []byte) []string {
	gr, err := parse(b)
	if err != nil {
		return nil
	}
	var ops []string
	seen := map[string]bool{}
	for _, n := range gr.g.Node {
		if !seen[n.GetOpType()] {
			seen[n.GetOpType()] = true
			ops = append(ops, n.GetOpType())
		}
	}
	return ops
}

// kernels names the kernels a model's plan runs on, e.g. "avx512-vnni (int8), avx512".
func kernels(m *model.Model) string {
	var names []string
	for _, op := range m.Ops() {
		if i := strings.LastIndex(op, "["); i >= 0 && strings.HasSuffix(op, "]") {
			k := op[i+1 : len(op)-1]
			if strings.Contains(op, "(int8)") {
				k += " (int8)"
			}
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	if len(names) == 0 {
		return m.Kernel()
	}
	return strings.Join(names, ", ")
}

func machine() string {
	name := runtime.GOARCH
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				if _, v, ok := strings.Cut(line, ":"); ok {
					name = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s", name, runtime.NumCPU(), runtime.Version())
}
