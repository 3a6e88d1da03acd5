package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"time"

	"digitpad/shared/ink"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
)

// Input is one canvas to recognise: an ink mask already built while decoding, an image, or strokes on a
// Width×Height canvas.
type Input struct {
	Mask          *ink.Mask
	Image         image.Image
	Strokes       []ink.Stroke
	Width, Height int
	// Context is the request's context, set by the server before Prepare (nil outside a request): done once the
	// client has gone. An engine may stop early then; the server checks it between a batch's items either way.
	Context context.Context
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

// RecognizeLoader is the production Loader: onnxrec.New compiles the ONNX bytes into a recogniser named by the
// model card, with the card's input scale; cfg supplies the rest.
func RecognizeLoader(cfg recognize.Config) Loader {
	return func(onnx, card []byte) (Engine, error) {
		r, err := onnxrec.New(onnx, card, cfg)
		if err != nil {
			return nil, err
		}
		return &recognizeEngine{r: r}, nil
	}
}

type recognizeEngine struct{ r *recognize.Recognizer }

func (e *recognizeEngine) Info() recognize.ModelInfo { return e.r.Info() }

func (e *recognizeEngine) Prepare(in Input, opt recognize.Options) (Job, error) {
	var m *ink.Mask
	var err error
	scale := 1.0
	switch {
	case in.Mask != nil:
		m = in.Mask
	case in.Image != nil:
		m, err = ink.WorkMaskFromImage(in.Image, ink.Options{})
	default:
		// The working raster every shell uses for strokes, so a server prediction equals the kiosk's and the
		// browser's for the same ink.
		m, scale, err = recognize.StrokesMask(in.Strokes, in.Width, in.Height)
	}
	if err != nil {
		return nil, err
	}
	j, err := e.r.Prepare(m, opt)
	if err != nil {
		return nil, err
	}
	return &engineJob{Job: j, scale: scale, w: in.Width, h: in.Height}, nil
}

// engineJob is a recognize.Job whose boxes are mapped back from the working raster to the canvas.
type engineJob struct {
	*recognize.Job
	scale float64
	w, h  int
}

func (j *engineJob) Result() *recognize.Result {
	res := j.Job.Result()
	res.UnscaleBoxes(j.scale, j.w, j.h)
	return res
}

func (e *recognizeEngine) Classify(jobs []Job) error {
	rj := make([]*recognize.Job, len(jobs))
	for i, j := range jobs {
		r, ok := j.(*engineJob)
		if !ok {
			return errors.New("classify: job from another engine")
		}
		rj[i] = r.Job
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
