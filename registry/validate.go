package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"

	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
)

// Files of a version. The ONNX files and cards are uploaded; the graph files (the browser's form of the model)
// are made from the ONNX files at registration, so they always match.
const (
	FileONNX      = "model.onnx"
	FileONNXInt8  = "model-int8.onnx"
	FileONNXFP16  = "model-fp16.onnx"
	FileCard      = "model.json"
	FileCardInt8  = "model-int8.json"
	FileCardFP16  = "model-fp16.json"
	FileGraph     = "model.graph"
	FileGraphInt8 = "model-int8.graph"
)

// Variants a version may hold, in the order of assets.Variants.
var Variants = []string{"fp32", "int8", "fp16"}

// VariantFiles names a variant's ONNX file, card and graph file ("" when the variant has no graph file).
func VariantFiles(variant string) (onnx, card, graph string, ok bool) {
	switch variant {
	case "fp32":
		return FileONNX, FileCard, FileGraph, true
	case "int8":
		return FileONNXInt8, FileCardInt8, FileGraphInt8, true
	case "fp16":
		return FileONNXFP16, FileCardFP16, "", true
	}
	return "", "", "", false
}

// uploadable lists the model files an upload may carry.
var uploadable = []string{FileONNX, FileONNXInt8, FileONNXFP16, FileCard, FileCardInt8, FileCardFP16}

// ReportPrefix names a version's report files (plots and tables a training run made, e.g. report/confusion.png):
// stored and checksummed like the model files, not interpreted.
const ReportPrefix = "report/"

var reportRE = regexp.MustCompile(`^report/[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.(png|svg|json|csv|txt|md|html)$`)

// IsReportFile reports whether name is an acceptable report file name.
func IsReportFile(name string) bool { return reportRE.MatchString(name) }

// MaxFileBytes bounds one uploaded file (the shipped fp32 model is 0.7 MB).
const MaxFileBytes = 64 << 20

// SmokeCodes are written with the project's stroke-font writer and read by every uploaded ONNX file before it is
// registered; a model must read at least Options.SmokeMinAccuracy of their digits.
var SmokeCodes = []string{"0123456789", "9876543210", "5038271649"}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// prepared is a validated upload: every file to store, graph files included.
type prepared struct {
	names []string
	data  map[string][]byte
	files []File
}

// prepare validates an upload: known file names, declared sha256s match, cards are JSON naming their ONNX's
// sha256 (when they name one), every ONNX file loads in shared/model and passes the smoke evaluation.
func (r *Registry) prepare(u Upload) (*prepared, error) {
	if len(u.Files[FileONNX]) == 0 {
		return nil, fmt.Errorf("%w: upload has no %s", ErrInvalid, FileONNX)
	}
	p := &prepared{data: map[string][]byte{}}
	for name, b := range u.Files {
		if !slices.Contains(uploadable, name) && !IsReportFile(name) {
			return nil, fmt.Errorf("%w: file %q: want one of %v or report/NAME.(png|svg|json|csv|txt|md|html) (graph files are made from the ONNX files)", ErrInvalid, name, uploadable)
		}
		if len(b) > MaxFileBytes {
			return nil, fmt.Errorf("%w: file %s: %d bytes, limit %d", ErrInvalid, name, len(b), MaxFileBytes)
		}
		p.data[name] = b
	}
	for name, want := range u.SHA256 {
		b, ok := p.data[name]
		if !ok {
			return nil, fmt.Errorf("%w: sha256 given for %s, which is not in the upload", ErrInvalid, name)
		}
		if got := sha256Hex(b); got != want {
			return nil, fmt.Errorf("%w: file %s: sha256 %s, expected %s (damaged in transit?)", ErrInvalid, name, got, want)
		}
	}
	for _, variant := range Variants {
		onnxName, cardName, graphName, _ := VariantFiles(variant)
		onnx, ok := p.data[onnxName]
		if !ok {
			if _, orphan := p.data[cardName]; orphan {
				return nil, fmt.Errorf("%w: card %s without %s", ErrInvalid, cardName, onnxName)
			}
			continue
		}
		card := p.data[cardName]
		if card == nil && variant != "fp32" {
			card = p.data[FileCard]
		}
		if err := checkCard(card, cardName, onnx, p.data[cardName] != nil); err != nil {
			return nil, err
		}
		if err := r.smoke(onnx, card); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, onnxName, err)
		}
		if graphName != "" {
			g, err := onnxload.GraphFile(onnx)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: graph file: %v", ErrInvalid, onnxName, err)
			}
			p.data[graphName] = g
		}
	}
	for name := range p.data {
		p.names = append(p.names, name)
	}
	slices.Sort(p.names)
	for _, name := range p.names {
		b := p.data[name]
		p.files = append(p.files, File{Name: name, SHA256: sha256Hex(b), Size: int64(len(b))})
	}
	return p, nil
}

// checkCard: a card must be a JSON object, and a sha256 it states must be its own ONNX file's (when strict: the
// card is that variant's own card, not the fp32 card standing in).
func checkCard(card []byte, name string, onnx []byte, strict bool) error {
	if card == nil {
		return nil
	}
	var c struct {
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(card, &c); err != nil {
		return fmt.Errorf("%w: model card %s is not a JSON object: %v", ErrInvalid, name, err)
	}
	if strict && c.SHA256 != "" && c.SHA256 != sha256Hex(onnx) {
		return fmt.Errorf("%w: model card %s names sha256 %s but the ONNX file's is %s", ErrInvalid, name, c.SHA256, sha256Hex(onnx))
	}
	return nil
}

// smoke loads the model in shared/model and reads SmokeCodes with it.
func (r *Registry) smoke(onnx, cardJSON []byte) error {
	m, err := onnxrec.Load(onnx, cardJSON)
	if err != nil {
		return fmt.Errorf("does not load: %v", err)
	}
	rec, err := m.Recognizer(recognize.Config{})
	if err != nil {
		return fmt.Errorf("unsupported: %v", err)
	}
	right, total := 0, 0
	for i, code := range SmokeCodes {
		p := synth.Defaults()
		p.Seed = uint64(i + 1)
		p.Height = 120
		c, err := synth.Write(code, synth.Centered(p, len(code), 1400, 200))
		if err != nil {
			return err
		}
		res, err := rec.Strokes(c.Strokes, 1400, 200, recognize.Options{})
		if err != nil {
			return fmt.Errorf("smoke evaluation: %v", err)
		}
		for _, d := range res.Digits {
			sum := 0.0
			for _, p := range d.Probs {
				if math.IsNaN(p) || p < 0 || p > 1 {
					return fmt.Errorf("smoke evaluation: output %v is not a probability", p)
				}
				sum += p
			}
			if math.Abs(sum-1) > 0.02 {
				return fmt.Errorf("smoke evaluation: outputs sum to %.3f, want probabilities (softmax)", sum)
			}
		}
		total += len(code)
		for k := 0; k < len(code) && k < len(res.Code); k++ {
			if res.Code[k] == code[k] {
				right++
			}
		}
	}
	if acc := float64(right) / float64(total); acc < r.opt.SmokeMinAccuracy {
		return fmt.Errorf("smoke evaluation: read %d of %d digits (%.0f%%), want at least %.0f%%",
			right, total, 100*acc, 100*r.opt.SmokeMinAccuracy)
	}
	return nil
}
