package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"digitpad/server/docsui"
	"digitpad/server/store"
	"digitpad/shared/ink"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// Who may call an operation; stored in huma.Operation.Metadata["auth"].
type authLevel int

const (
	authNone     authLevel = iota
	authPredict            // open unless Config.OpenPredict is false
	authFeedback           // token unless Config.OpenFeedback
	authAdmin              // always the token
)

const apiDescription = `Handwritten postal-code recognition.

* Every error is JSON ` + "`{\"code\", \"message\"}`" + ` with a code from shared/protocol: invalid (400), no_ink (422),
  too_large (413), unauthorized (401), forbidden (403), not_found (404), rate_limited (429, with Retry-After),
  overloaded (503 with Retry-After: the prediction queue is full), unavailable (503), internal (500).
* Feedback and admin routes need ` + "`Authorization: Bearer <token>`" + `; prediction may too (server flag).
* The websocket protocol at ` + "`/v1/ws`" + ` (versioned JSON envelopes: predict -> prediction, feedback -> ack, model
  announcements, errors) is documented in shared/protocol/README.md.
* Prometheus metrics are at ` + "`/metrics`" + `; liveness at ` + "`/healthz`" + `, readiness at ` + "`/readyz`" + `.`

func (s *Server) routes() (*http.ServeMux, error) {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("digitpad API", "1.0.0")
	cfg.Info.Description = apiDescription
	cfg.CreateHooks = nil // no $schema links in responses: smaller bodies, less work per request
	cfg.DocsPath = ""     // huma's page loads its viewer from a CDN; docsui serves one from the binary
	// store.Prediction and protocol.Prediction share a Go name; schemas from package store get a prefix.
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", func(t reflect.Type, hint string) string {
		name := huma.DefaultSchemaNamer(t, hint)
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.PkgPath() == "digitpad/server/store" {
			return "Stored" + name
		}
		return name
	})
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "The server's token (--token-file)."},
	}
	api := humago.New(mux, cfg)
	api.UseMiddleware(s.authorize(api))

	limits := s.cfg.Limits
	bodyMax := int64(limits.MaxMessageBytes)

	predict := huma.Operation{
		OperationID: "predict", Method: http.MethodPost, Path: predictPath, Tags: []string{"predict"},
		Summary: "Recognise one canvas",
		Description: "Send JSON `{\"image\": \"<base64 PNG/JPEG>\"}` or `{\"strokes\": [[[x,y],...],...], \"width\": W, " +
			"\"height\": H}`, or a raw image/png or image/jpeg body. An empty canvas is 422 no_ink.",
		MaxBodyBytes: bodyMax, SkipValidateBody: true,
		Errors:   []int{400, 401, 413, 415, 422, 429, 503},
		Metadata: map[string]any{"auth": authPredict},
		RequestBody: s.requestBody(api, reflect.TypeFor[protocol.Predict](), "PredictRequest",
			"image/png", "image/jpeg"),
	}
	s.secure(&predict, authPredict)
	huma.Register(api, predict, s.handlePredict)

	batch := huma.Operation{
		OperationID: "predict-batch", Method: http.MethodPost, Path: "/v1/predict/batch", Tags: []string{"predict"},
		Summary: "Recognise several canvases",
		Description: fmt.Sprintf("Up to %d items; results come back in order, each with either a prediction or "+
			"an error, so one bad item does not fail the others. Each item is admitted like a single prediction, "+
			"among other clients' ones: a batch refused before any item started is 503 overloaded; under load, "+
			"items the server shed are answered with the error overloaded (send them again later). The per-client "+
			"rate limit counts each item as a request.",
			limits.MaxBatchItems),
		MaxBodyBytes: bodyMax, SkipValidateBody: true,
		Errors:      []int{400, 401, 413, 429, 503},
		Metadata:    map[string]any{"auth": authPredict},
		RequestBody: s.requestBody(api, reflect.TypeFor[BatchRequest](), "BatchRequest"),
	}
	s.secure(&batch, authPredict)
	huma.Register(api, batch, s.handleBatch)

	feedback := huma.Operation{
		OperationID: "feedback", Method: http.MethodPost, Path: "/v1/feedback", Tags: []string{"feedback"},
		Summary: "Store a clerk's confirmed code",
		Description: "Answers 201 with the new record's id once it is committed. Sending the same idempotency_key " +
			"again stores nothing and answers 200 with the first record's id and duplicate=true. Send `code` or " +
			"per-digit `labels` (or both, agreeing).",
		MaxBodyBytes: bodyMax, SkipValidateBody: true,
		Errors:      []int{400, 401, 413, 429, 503},
		Metadata:    map[string]any{"auth": authFeedback},
		RequestBody: s.requestBody(api, reflect.TypeFor[protocol.Feedback](), "FeedbackRequest"),
	}
	s.secure(&feedback, authFeedback)
	huma.Register(api, feedback, s.handleFeedback)

	getPrediction := huma.Operation{
		OperationID: "get-prediction", Method: http.MethodGet, Path: "/v1/predictions/{id}", Tags: []string{"predict"},
		Summary: "A logged prediction and its feedback", Errors: []int{401, 404},
		Metadata: map[string]any{"auth": authPredict},
	}
	s.secure(&getPrediction, authPredict)
	huma.Register(api, getPrediction, s.handleGetPrediction)

	huma.Register(api, huma.Operation{
		OperationID: "get-model", Method: http.MethodGet, Path: "/v1/model", Tags: []string{"model"},
		Summary: "The active model's card", Errors: []int{503},
	}, s.handleGetModel)
	huma.Register(api, huma.Operation{
		OperationID: "get-model-onnx", Method: http.MethodGet, Path: "/v1/model.onnx", Tags: []string{"model"},
		Summary:     "The active model's ONNX bytes",
		Description: "Clients check the bytes against X-Model-SHA256 (also the ETag) before using them.",
		Errors:      []int{503},
	}, s.handleGetModelONNX)
	huma.Register(api, huma.Operation{
		OperationID: "get-model-graph", Method: http.MethodGet, Path: "/v1/model.graph", Tags: []string{"model"},
		Summary: "The active model as a model graph file",
		Description: "The ONNX model decoded by onnx-go into digitpad's compact graph form, for clients without an " +
			"ONNX decoder (the browser pad). Clients check the bytes against X-Graph-SHA256 (also the ETag); the " +
			"model's identity stays the ONNX sha256 (X-Model-SHA256).",
		Errors: []int{404, 503},
	}, s.handleGetModelGraph)

	admin := huma.Operation{
		OperationID: "put-model", Method: http.MethodPut, Path: "/v1/admin/model", Tags: []string{"admin"},
		Summary: "Hot-swap the model",
		Description: "Upload ONNX bytes; the server loads them (rejecting a bad file with 400), activates them for " +
			"new predictions and announces the model to websocket clients.",
		MaxBodyBytes: 64 << 20,
		Errors:       []int{400, 401, 413},
		Metadata:     map[string]any{"auth": authAdmin},
	}
	s.secure(&admin, authAdmin)
	huma.Register(api, admin, s.handlePutModel)
	s.registerDevices(api)

	huma.Register(api, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz", Tags: []string{"ops"},
		Summary: "Liveness: the process serves HTTP",
	}, func(ctx context.Context, _ *struct{}) (*statusOutput, error) {
		return &statusOutput{Body: statusBody{Status: "ok"}}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "readyz", Method: http.MethodGet, Path: "/readyz", Tags: []string{"ops"},
		Summary: "Readiness: a model is loaded, the store answers and the server is not shutting down",
		Errors:  []int{503},
	}, s.handleReady)

	// Feedback needs code or labels, and the server fills created_at: only the keys are required on the wire.
	if fb := api.OpenAPI().Components.Schemas.Map()["Feedback"]; fb != nil {
		fb.Required = []string{"idempotency_key", "client_id"}
	}
	// RawBody fields make huma document an application/octet-stream alternative; these routes take JSON only.
	for _, path := range []string{"/v1/predict/batch", "/v1/feedback"} {
		delete(api.OpenAPI().Paths[path].Post.RequestBody.Content, "application/octet-stream")
	}

	if s.cfg.Registry != nil {
		s.registryRoutes(api, mux)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	s.monitoringRoutes(api, mux)
	s.rolloutRoutes(api)
	mux.HandleFunc("GET /v1/ws", s.handleWS)
	docsui.Register(mux)
	addExamples(api.OpenAPI())
	if s.cfg.Web != nil {
		mux.Handle("/", s.cfg.Web)
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" {
				http.Redirect(w, r, "/docs", http.StatusFound)
				return
			}
			writeJSONError(w, apiErr(protocol.ENotFound, "no route "+r.Method+" "+r.URL.Path))
		})
	}
	return mux, nil
}

// requestBody documents a JSON body (schema from t) plus raw binary alternatives; handlers decode it themselves so
// that HTTP and websocket share one validation (protocol.Validate) and one set of error codes.
func (s *Server) requestBody(api huma.API, t reflect.Type, name string, binary ...string) *huma.RequestBody {
	rb := &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"application/json": {Schema: api.OpenAPI().Components.Schemas.Schema(t, true, name)},
	}}
	for _, ct := range binary {
		rb.Content[ct] = &huma.MediaType{Schema: &huma.Schema{Type: "string", Format: "binary"}}
	}
	return rb
}

func (s *Server) secure(op *huma.Operation, level authLevel) {
	if (level == authPredict && s.cfg.OpenPredict) || (level == authFeedback && s.cfg.OpenFeedback) {
		return
	}
	op.Security = []map[string][]string{{"bearer": {}}}
}

// authorize enforces the bearer token on operations whose level needs it.
func (s *Server) authorize(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		level, _ := ctx.Operation().Metadata["auth"].(authLevel)
		open := level == authNone || (level == authPredict && s.cfg.OpenPredict) ||
			(level == authFeedback && s.cfg.OpenFeedback)
		if open || s.validToken(ctx.Header("Authorization")) ||
			level == authFeedback && s.bearerDevice(ctx.Context(), ctx.Header("Authorization")) {
			next(ctx)
			return
		}
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="digitpad"`)
		msg := "missing or invalid bearer token"
		if s.cfg.Token == "" {
			msg = "this route needs a token and the server has none configured (--token-file)"
		}
		_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, msg)
	}
}

type predictInput struct {
	ContentType string `header:"Content-Type"`
	Format      string `query:"format" maxLength:"128" doc:"Expected code format: a digit count (\"5\") or a regular expression; a JSON body's format wins"`
	ClientID    string `header:"X-Client-ID" maxLength:"128" doc:"The pad or system sending, kept with the logged prediction"`
	RawBody     []byte `contentType:"image/png"`
}

type predictOutput struct {
	Body *protocol.Prediction
}

func (s *Server) handlePredict(ctx context.Context, in *predictInput) (*predictOutput, error) {
	mt, _, _ := mime.ParseMediaType(in.ContentType)
	var p *protocol.Prediction
	var err error
	switch mt {
	case "image/png", "image/jpeg":
		p, _, err = s.recognizeImage(ctx, in.RawBody, recognize.Options{Format: in.Format}, in.ClientID)
	case "application/json", "":
		var req protocol.Predict
		if jerr := decodeJSON(in.RawBody, &req); jerr != nil {
			return nil, jerr
		}
		if req.Format == "" {
			req.Format = in.Format
		}
		p, err = s.predictRequest(ctx, &req, in.ClientID)
	default:
		return nil, &APIError{Status: http.StatusUnsupportedMediaType, Code: protocol.EInvalid,
			Message: fmt.Sprintf("unsupported content type %q: send application/json, image/png or image/jpeg", mt)}
	}
	if err != nil {
		return nil, err
	}
	return &predictOutput{Body: p}, nil
}

// predictRequest validates and runs one JSON/websocket predict request.
func (s *Server) predictRequest(ctx context.Context, req *protocol.Predict, clientID string) (*protocol.Prediction, error) {
	if err := req.Validate(s.cfg.Limits); err != nil {
		return nil, fromProtocol(err)
	}
	opt := recognize.Options{Format: req.Format}
	if req.Image != "" {
		raw, err := decodeBase64(req.Image)
		if err != nil {
			return nil, err
		}
		p, _, rerr := s.recognizeImage(ctx, raw, opt, clientID)
		return withInputs(p, rerr, req.Inputs)
	}
	p, err := s.recognize(ctx, Input{Strokes: req.InkStrokes(), Width: req.Width, Height: req.Height}, opt, clientID, nil)
	return withInputs(p, err, req.Inputs)
}

// withInputs adds the 28×28 inputs to a prediction when the client asked for them.
func withInputs(p *protocol.Prediction, err error, want bool) (*protocol.Prediction, error) {
	if err == nil && want {
		p.Inputs = protocol.InputBytes(p.Result.Inputs)
	}
	return p, err
}

// decodeBase64 accepts standard base64 with or without padding and an optional data: URL prefix.
func decodeBase64(s string) ([]byte, *APIError) {
	if strings.HasPrefix(s, "data:") {
		if i := strings.Index(s, ";base64,"); i >= 0 {
			s = s[i+len(";base64,"):]
		}
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, apiErr(protocol.EInvalid, "image is not valid base64")
	}
	return b, nil
}

func decodeJSON(b []byte, v any) *APIError {
	if len(bytes.TrimSpace(b)) == 0 {
		return apiErr(protocol.EInvalid, "empty request body")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return apiErr(protocol.EInvalid, "malformed JSON: "+err.Error())
	}
	return nil
}

// prepareError maps a recogniser's Prepare error: an empty canvas is the client's 422, anything else about the
// input is a 400.
func prepareError(err error) error {
	if errors.Is(err, ink.ErrNoInk) {
		return apiErr(protocol.ENoInk, "no ink found: the canvas is empty")
	}
	if errors.Is(err, ink.ErrTooLarge) {
		return apiErr(protocol.ETooLarge, err.Error())
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	return apiErr(protocol.EInvalid, "cannot recognise this input: "+err.Error())
}

// BatchRequest is the body of POST /v1/predict/batch.
type BatchRequest struct {
	Items []protocol.Predict `json:"items" doc:"Canvases to recognise"`
	// Format applies to items without their own.
	Format string `json:"format,omitempty" doc:"Default expected code format for the items"`
}

// BatchResult is one item's outcome: a prediction or an error.
type BatchResult struct {
	Prediction *protocol.Prediction `json:"prediction,omitempty"`
	Error      *protocol.Error      `json:"error,omitempty"`
}

type batchInput struct {
	ClientID string `header:"X-Client-ID" maxLength:"128"`
	RawBody  []byte
}

type batchOutput struct {
	Body struct {
		Results []BatchResult `json:"results" doc:"One per item, in request order"`
	}
}

type feedbackInput struct {
	RawBody []byte
}

type feedbackOutput struct {
	Status int
	Body   *protocol.Ack
}

func (s *Server) handleFeedback(ctx context.Context, in *feedbackInput) (*feedbackOutput, error) {
	var f protocol.Feedback
	if err := decodeJSON(in.RawBody, &f); err != nil {
		return nil, err
	}
	ack, err := s.saveFeedback(ctx, &f)
	if err != nil {
		return nil, errOut(err)
	}
	status := http.StatusCreated
	if ack.Duplicate {
		status = http.StatusOK
	}
	return &feedbackOutput{Status: status, Body: ack}, nil
}

// errOut keeps errors that already carry headers (Retry-After) and converts protocol errors to APIError.
func errOut(err error) error {
	var he huma.HeadersError
	if errors.As(err, &he) {
		return err
	}
	return fromProtocol(err)
}

type predictionIDInput struct {
	ID            string `path:"id" maxLength:"200" doc:"Prediction id returned by predict"`
	Authorization string `header:"Authorization" doc:"Bearer token: without it, the ink, model inputs and client ids of the prediction and its feedback are left out"`
}

// PredictionRecord is a logged prediction with the feedback that refers to it.
type PredictionRecord struct {
	Prediction *store.Prediction `json:"prediction"`
	Feedback   []store.Feedback  `json:"feedback"`
}

type predictionOutput struct {
	Body PredictionRecord
}

func (s *Server) handleGetPrediction(ctx context.Context, in *predictionIDInput) (*predictionOutput, error) {
	p, fs, err := s.prediction(ctx, in.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, apiErr(protocol.ENotFound, fmt.Sprintf("prediction %q not found", in.ID))
	case err != nil:
		s.log.ErrorContext(ctx, "read prediction failed", "err", err, "request_id", requestID(ctx))
		return nil, apiErr(protocol.EUnavailable, "store unavailable")
	}
	if fs == nil {
		fs = []store.Feedback{}
	}
	if !s.validToken(in.Authorization) {
		p, fs = redact(p, fs)
	}
	return &predictionOutput{Body: PredictionRecord{Prediction: p, Feedback: fs}}, nil
}

// redact leaves out what identifies a clerk or a pad (client ids) and the handwriting itself (ink and model
// inputs): an open prediction route shows codes and confidences, not who wrote them or how.
func redact(p *store.Prediction, fs []store.Feedback) (*store.Prediction, []store.Feedback) {
	rp := *p
	rp.ClientID, rp.InkPNG, rp.Result.Inputs = "", nil, nil
	out := make([]store.Feedback, len(fs))
	for i, f := range fs {
		f.ClientID, f.InkPNG, f.Inputs = "", nil, nil
		out[i] = f
	}
	return &rp, out
}

// ModelCard describes the active model.
type ModelCard struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	URL    string `json:"url" doc:"Where to download the ONNX bytes"`
	Bytes  int    `json:"bytes"`
	// GraphURL and GraphSHA256 locate the model graph file (absent when the model has none).
	GraphURL    string    `json:"graph_url,omitempty" doc:"Where to download the model graph file (browser form)"`
	GraphSHA256 string    `json:"graph_sha256,omitempty" doc:"sha256 of the model graph file's bytes"`
	LoadedAt    time.Time `json:"loaded_at"`
	Card        any       `json:"card,omitempty" doc:"The model card shipped with the model (training details, metrics)"`
}

type modelOutput struct {
	Body ModelCard
}

func (s *Server) modelCard() (*ModelCard, error) {
	m := s.model.Load()
	if m == nil {
		return nil, apiErr(protocol.EUnavailable, "no model loaded")
	}
	return cardOf(m, "/v1/model.onnx", "/v1/model.graph"), nil
}

// cardOf describes m with the URLs its ONNX and graph files are served at (production's or the canary's).
func cardOf(m *activeModel, onnxURL, graphURL string) *ModelCard {
	c := &ModelCard{Name: m.engine.Info().Name, SHA256: m.sha256, URL: onnxURL, Bytes: len(m.onnx), LoadedAt: m.loadedAt}
	if m.graph != nil {
		c.GraphURL, c.GraphSHA256 = graphURL, m.graphSHA256
	}
	if len(m.card) > 0 {
		var card any
		if json.Unmarshal(m.card, &card) == nil {
			c.Card = card
		}
	}
	return c
}

func (s *Server) handleGetModel(ctx context.Context, _ *struct{}) (*modelOutput, error) {
	c, err := s.modelCard()
	if err != nil {
		return nil, err
	}
	return &modelOutput{Body: *c}, nil
}

type onnxOutput struct {
	ContentType string `header:"Content-Type"`
	ETag        string `header:"ETag"`
	SHA256      string `header:"X-Model-SHA256"`
	Body        []byte
}

func (s *Server) handleGetModelONNX(ctx context.Context, _ *struct{}) (*onnxOutput, error) {
	m := s.model.Load()
	if m == nil {
		return nil, apiErr(protocol.EUnavailable, "no model loaded")
	}
	return &onnxOutput{ContentType: "application/octet-stream", ETag: `"` + m.sha256 + `"`, SHA256: m.sha256,
		Body: m.onnx}, nil
}

type graphOutput struct {
	ContentType string `header:"Content-Type"`
	ETag        string `header:"ETag"`
	SHA256      string `header:"X-Model-SHA256"`
	GraphSHA256 string `header:"X-Graph-SHA256"`
	Body        []byte
}

func (s *Server) handleGetModelGraph(ctx context.Context, _ *struct{}) (*graphOutput, error) {
	m := s.model.Load()
	if m == nil {
		return nil, apiErr(protocol.EUnavailable, "no model loaded")
	}
	if m.graph == nil {
		return nil, apiErr(protocol.ENotFound, "the active model has no graph file")
	}
	return &graphOutput{ContentType: "application/octet-stream", ETag: `"` + m.graphSHA256 + `"`, SHA256: m.sha256,
		GraphSHA256: m.graphSHA256, Body: m.graph}, nil
}

type putModelInput struct {
	Name       string  `query:"name" maxLength:"128" doc:"Model name for the card (default digitpad-<sha256 prefix>)"`
	InputScale float64 `query:"input_scale" minimum:"0" doc:"Multiplier for 0..1 ink inputs (255 for the ONNX zoo MNIST model)"`
	RawBody    []byte  `contentType:"application/octet-stream"`
}

func (s *Server) handlePutModel(ctx context.Context, in *putModelInput) (*modelOutput, error) {
	if len(in.RawBody) == 0 {
		return nil, apiErr(protocol.EInvalid, "empty model")
	}
	card, _ := json.Marshal(map[string]any{"name": in.Name, "input_scale": in.InputScale})
	// The body buffer belongs to huma and is reused after the handler returns; the model keeps its own copy.
	onnx := bytes.Clone(in.RawBody)
	if err := s.SetModel(onnx, card); err != nil {
		return nil, apiErr(protocol.EInvalid, "model rejected: "+err.Error())
	}
	c, err := s.modelCard()
	if err != nil {
		return nil, err
	}
	return &modelOutput{Body: *c}, nil
}

type statusBody struct {
	Status string `json:"status"`
}

type statusOutput struct {
	Body statusBody
}

func (s *Server) handleReady(ctx context.Context, _ *struct{}) (*statusOutput, error) {
	if s.closing.Load() {
		return nil, apiErr(protocol.EUnavailable, "shutting down")
	}
	if s.model.Load() == nil {
		return nil, apiErr(protocol.EUnavailable, "no model loaded")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		return nil, apiErr(protocol.EUnavailable, "store unreachable: "+err.Error())
	}
	return &statusOutput{Body: statusBody{Status: "ready"}}, nil
}
