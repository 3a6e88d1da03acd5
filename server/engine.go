package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"time"

	"digitpad/assets"
	"digitpad/shared/ink"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
)

// Input is one canvas to recognise: an image, or strokes on a Width×Height canvas.
type Input struct {
	Image         image.Image
	Strokes       []ink.Stroke
	Width, Height int
}

// Job is a prepared canvas waiting for, then holding, its classification.
type Job interface {
	// Result is valid after the Classify call that included the job returned nil.
	Result() *recognize.Result
}

// Engine recognises canvases in two phases so the server can batch the model call across requests: Prepare
// (segmentation, run on the request's goroutine) and Classify (one model call for many jobs, run by a batcher
// worker). Implementations are safe for concurrent use.
type Engine interface {
	Info() recognize.ModelInfo
	// Prepare returns ink.ErrNoInk for an empty canvas.
	Prepare(in Input, opt recognize.Options) (Job, error)
	// Classify classifies jobs returned by this engine's Prepare.
	Classify(jobs []Job) error
}

// Loader builds an Engine from ONNX bytes; card is the model card JSON (may be nil).
type Loader func(onnx, card []byte) (Engine, error)

// RecognizeLoader is the production Loader: shared/model compiles the ONNX bytes, shared/recognize runs it. The
// model card (assets.ParseCard) names the model and sets its input scale; cfg supplies the rest.
func RecognizeLoader(cfg recognize.Config) Loader {
	return func(onnx, card []byte) (Engine, error) {
		c, err := assets.ParseCard(card, onnx)
		if err != nil {
			return nil, err
		}
		m, err := onnxload.Load(onnx)
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		cfg := c.Configure(cfg) // input scale, calibrated temperature and confirm threshold
		r, err := recognize.New(m, recognize.ModelInfo{Name: c.Name, SHA256: c.SHA256}, cfg)
		if err != nil {
			return nil, fmt.Errorf("new recogniser: %w", err)
		}
		return &recognizeEngine{r: r}, nil
	}
}

type recognizeEngine struct{ r *recognize.Recognizer }

func (e *recognizeEngine) Info() recognize.ModelInfo { return e.r.Info() }

func (e *recognizeEngine) Prepare(in Input, opt recognize.Options) (Job, error) {
	var m *ink.Mask
	var err error
	if in.Image != nil {
		m, err = ink.MaskFromImage(in.Image)
	} else {
		m, err = ink.MaskFromStrokes(in.Strokes, in.Width, in.Height)
	}
	if err != nil {
		return nil, err
	}
	j, err := e.r.Prepare(m, opt)
	if err != nil {
		return nil, err
	}
	return j, nil
}

func (e *recognizeEngine) Classify(jobs []Job) error {
	rj := make([]*recognize.Job, len(jobs))
	for i, j := range jobs {
		r, ok := j.(*recognize.Job)
		if !ok {
			return errors.New("classify: job from another engine")
		}
		rj[i] = r
	}
	return e.r.Classify(rj)
}

// activeModel is what the server serves at one moment; swapped as a whole behind an atomic pointer.
type activeModel struct {
	engine   Engine
	onnx     []byte
	card     json.RawMessage
	sha256   string
	loadedAt time.Time
	// graph is the model as a graph file for the browser (nil when onnx-go could not decode the bytes, e.g. with
	// a test Loader); graphSHA256 is the hex sha256 of those bytes.
	graph       []byte
	graphSHA256 string
}

func newActiveModel(load Loader, onnx, card []byte, now time.Time) (*activeModel, error) {
	if len(card) > 0 && !json.Valid(card) {
		return nil, errors.New("model card is not valid JSON")
	}
	e, err := load(onnx, card)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(onnx)
	m := &activeModel{engine: e, onnx: onnx, card: card, sha256: hex.EncodeToString(sum[:]), loadedAt: now}
	if g, err := onnxload.GraphFile(onnx); err == nil {
		gs := sha256.Sum256(g)
		m.graph, m.graphSHA256 = g, hex.EncodeToString(gs[:])
	}
	return m, nil
}
