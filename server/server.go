// Package server is digitpad's backend: the HTTP API v1 (huma, OpenAPI 3.1, docs at /docs), the websocket
// endpoint /v1/ws, a dynamic batcher in front of a fixed pool of model workers, the asynchronous prediction log,
// synchronous feedback capture, Prometheus metrics and graceful shutdown.
//
// A Server is built with New, given a model with SetModel, started with Open and stopped with Shutdown/Close;
// tests run the real server in-process on 127.0.0.1:0. Main wires it to command-line flags.
package server

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"digitpad/monitor"
	"digitpad/registry"
	"digitpad/server/batcher"
	"digitpad/server/internal/pngdec"
	"digitpad/server/internal/resultjson"
	"digitpad/server/store"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	// Addr is the listen address (default 127.0.0.1:8080; port 0 picks a free one).
	Addr string
	// Store keeps predictions and feedback (required). The caller closes it after Shutdown.
	Store store.Store
	// Loader builds recognition engines from ONNX bytes (default RecognizeLoader with Threshold and Format).
	Loader Loader
	// Threshold and Format configure the default Loader's recogniser (see recognize.Config).
	Threshold float64
	Format    string
	// Logger receives structured logs (default: discard).
	Logger *slog.Logger
	// Limits bound what clients may send (zero: protocol.DefaultLimits()).
	Limits protocol.Limits
	// Token is the bearer token for feedback, admin routes and (unless OpenPredict) prediction. Empty locks them.
	Token string
	// OpenPredict lets anyone predict without the token; OpenFeedback the same for feedback (kiosk networks).
	OpenPredict, OpenFeedback bool
	// BatchMax, BatchWait, Workers and Queue tune the dynamic batcher (defaults 64, no wait, GOMAXPROCS, 1024).
	// BatchWait is how long a partial batch waits for more canvases; zero or negative: a worker runs whatever is
	// queued when it takes the first canvas. Waiting buys little on a CPU (an int8 digit costs ~25% less in a
	// batch of 64 than alone) and costs every prediction that wait in its admission slot: with 1ms, slots sat
	// idle and a 2-core server answered small digits ~40% slower.
	BatchMax  int
	BatchWait time.Duration
	Workers   int
	Queue     int
	// RateLimit is each client's sustained requests per second (HTTP requests and websocket messages together),
	// with RateBurst (default 2×RateLimit); 0 disables rate limiting. A client is its bearer token and client id,
	// or its address (see identity.go).
	RateLimit float64
	RateBurst int
	// TrustedProxies lists the CIDRs of proxies and load balancers whose ProxyHeader is honoured to find client
	// addresses; from any other peer the header is ignored.
	TrustedProxies []string
	// ProxyHeader is the forwarding header the trusted proxies write: "X-Forwarded-For" (default) or
	// "Forwarded" (RFC 7239).
	ProxyHeader string
	// AllowedOrigins lists browser origins (scheme://host[:port]) allowed to open websockets besides the server's
	// own; "*" allows any.
	AllowedOrigins []string
	// LogBuffer bounds predictions waiting to be logged (default 10000); LogInterval is the flush period (100ms).
	LogBuffer   int
	LogInterval time.Duration
	// LossJournal, when set, is a small file counting predictions answered but not yet stored, so that those a
	// process death loses (the documented policy: up to LogInterval of them) are counted at the next start in
	// digitpad_prediction_log_lost_total (see lossJournal). `digitpad serve` uses DATA/prediction-log.journal.
	LossJournal string
	// KeepInk stores the uploaded image with each logged prediction.
	KeepInk bool
	// Web, when set, serves the web pad at "/".
	Web http.Handler
	// PingInterval is the websocket keepalive period (default 30s); a connection silent for 2× it is dropped.
	PingInterval time.Duration
	// MaxInFlight is how many predictions (HTTP requests and websocket messages) are worked on at once (default
	// 2×GOMAXPROCS: the work is CPU-bound, and two per core keep a core busy while the other waits for its batch;
	// more only makes each slower, a time the queue cannot control). More wait in a queue, first come first served, while their expected wait fits the latency
	// objective; beyond it they are refused at once with 503 overloaded + Retry-After (HTTP: once the body is
	// read). Each item of a batch takes a slot of its own (handleBatch). See admitter for the policy.
	MaxInFlight int
	// LatencyObjective is the p99 latency the server aims at for served predictions (default 100ms; negative: no
	// queue, refuse whatever finds every slot busy).
	LatencyObjective time.Duration
	// Now is the admission clock (default time.Now); tests inject a fake one.
	Now func() time.Time
	// RetryAfter is what overloaded and rate-limited clients are told to wait (default 1s).
	RetryAfter time.Duration
	// Retain bounds the prediction log by age and payload size (zero fields: no bound), applied every
	// RetainEvery (default 5 minutes) by stores that implement store.Pruner. Feedback is never deleted.
	Retain      store.Retention
	RetainEvery time.Duration
	// MaxConns bounds open client connections (default 4096); a few more (connReserve) are kept for health
	// checks and metrics. MaxWebsockets bounds open websockets (default MaxConns/2), each also a connection.
	MaxConns      int
	MaxWebsockets int
	// DecodeBudget bounds the bytes decoded images and their working planes hold at once, counted from image
	// headers before decoding (default 128 MB: a quarter of the default 512 MB memory limit); an image waits up
	// to RetryAfter for room, then is refused with overloaded.
	DecodeBudget int64
	// BodyBudget bounds the memory of prediction request bodies being received and worked on, across all
	// requests: each byte received is charged bodyCostFactor times (default DecodeBudget/2); a body that finds no
	// room within RetryAfter is refused with overloaded. See readBody.
	BodyBudget int64
	// Monitor tunes drift and quality monitoring (package monitor; zero: its defaults); SeriesInterval is how
	// often the dashboard's time series is sampled (default 5s).
	Monitor        monitor.Config
	SeriesInterval time.Duration
	// Registry, when set, is served under /v1/registry/ and at MLflow's /api/2.0/mlflow/ (registry_api.go,
	// mlflow.go). The caller closes it after Shutdown.
	Registry *registry.Registry
	// Rollout configures shadow and canary serving of the candidate FollowCandidate loads (candidate.go).
	Rollout RolloutConfig
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Limits == (protocol.Limits{}) {
		c.Limits = protocol.DefaultLimits()
	}
	if c.Loader == nil {
		c.Loader = RecognizeLoader(recognize.Config{Threshold: c.Threshold, Format: c.Format})
	}
	if c.BatchMax <= 0 {
		c.BatchMax = 64
	}
	if c.BatchWait == 0 {
		c.BatchWait = -1 // the batcher's own zero means its default wait
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Queue <= 0 {
		c.Queue = 1024
	}
	if c.ProxyHeader == "" {
		c.ProxyHeader = headerXFF
	}
	if c.RateBurst <= 0 {
		c.RateBurst = max(1, int(2*c.RateLimit))
	}
	if c.LogBuffer <= 0 {
		c.LogBuffer = 10000
	}
	if c.LogInterval <= 0 {
		c.LogInterval = 100 * time.Millisecond
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 2 * runtime.GOMAXPROCS(0)
	}
	if c.LatencyObjective == 0 {
		c.LatencyObjective = 100 * time.Millisecond
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = time.Second
	}
	if c.RetainEvery <= 0 {
		c.RetainEvery = 5 * time.Minute
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 4096
	}
	if c.MaxWebsockets <= 0 {
		c.MaxWebsockets = max(1, c.MaxConns/2)
	}
	if c.DecodeBudget <= 0 {
		c.DecodeBudget = DefaultMemoryLimit / 4
	}
	c.Rollout = c.Rollout.withDefaults()
	return c
}

// maxWaiting bounds predictions queued for admission (memory), whatever the latency objective allows.
const maxWaiting = 4096

// Server serves the digitpad API. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	model   atomic.Pointer[activeModel]
	follow  atomic.Pointer[follower]   // set when the server follows a registry alias (registry.go)
	cand    atomic.Pointer[candidates] // the candidate beside production (candidate.go)
	shadow  *shadow                    // nil unless Config.Rollout.Shadow
	canary  *canary                    // nil unless Config.Rollout.CanaryShare > 0
	batch   *batcher.Batcher[batchItem]
	plog    *predLog
	limiter *clientLimiter
	proxies trustedProxies
	hub     *wsHub
	admit   *admitter
	mem     *memBudget
	bodies  *semaphore.Weighted
	retain  *retainer
	reading atomic.Int64 // prediction bodies being read, before admission
	conns   atomic.Int64 // open client connections
	shed    *shedder
	// rawFast serves raw image bodies of POST /v1/predict without huma (servePredictImage); tests turn it off
	// to compare with huma's answers.
	rawFast bool
	mon     *monitoring
	png     pngdec.Decoder // pools inflaters across uploads
	// shrinkers pools *ink.Shrinker: an upload's working and full-resolution planes, reused once it is prepared.
	shrinkers sync.Pool
	handler   http.Handler
	mux       *http.ServeMux
	reqSeq    atomic.Uint64
	reqPfx    string
	date      httpDate // the Date header of answered predictions

	ln       net.Listener
	http     *http.Server
	serveErr chan error
	closing  atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

type batchItem struct {
	engine Engine
	job    Job
}

var hookOnce sync.Once

// New builds a server; it does not listen until Open and serves predictions once SetModel succeeded.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: config has no store")
	}
	cfg = cfg.withDefaults()
	proxies, err := parseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	cfg.ProxyHeader = http.CanonicalHeaderKey(cfg.ProxyHeader)
	if cfg.ProxyHeader != headerXFF && cfg.ProxyHeader != headerForwarded {
		return nil, fmt.Errorf("server: proxy header %q: want %s or %s", cfg.ProxyHeader, headerXFF, headerForwarded)
	}
	hookOnce.Do(hookHumaErrors)
	var pfx [4]byte
	_, _ = rand.Read(pfx[:])
	s := &Server{cfg: cfg, log: cfg.Logger, reqPfx: hex.EncodeToString(pfx[:]) + "-", proxies: proxies, rawFast: true}
	s.batch = batcher.New(batcher.Config{
		MaxBatch: cfg.BatchMax, MaxWait: cfg.BatchWait, Workers: cfg.Workers, Queue: cfg.Queue,
		OnBatch: func(n int, took time.Duration) {
			s.metrics.batchSize.Observe(float64(n))
			s.metrics.inference.Observe(took.Seconds())
		},
	}, s.classify)
	s.metrics = newMetrics(func() float64 { return float64(s.batch.Len()) })
	s.plog = newPredLog(cfg.Store, cfg.LogBuffer, cfg.LogInterval, s.log, s.metrics)
	if s.plog.journal, err = newLossJournal(cfg.LossJournal); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.plog.journal.register(s.metrics.reg, s.log, cfg.LossJournal)
	if cfg.RateLimit > 0 {
		s.limiter = newClientLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	s.hub = newWSHub()
	s.admit = newAdmitter(cfg.MaxInFlight, maxWaiting, cfg.LatencyObjective, cfg.Now)
	s.shed = newShedder(cfg.RetryAfter)
	s.mem = newMemBudget(cfg.DecodeBudget, cfg.RetryAfter)
	s.bodies = semaphore.NewWeighted(cmp.Or(max(0, cfg.BodyBudget), cfg.DecodeBudget/2))
	s.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "digitpad_admission_in_work", Help: "Predictions holding an admission slot.",
	}, func() float64 { b, _, _ := s.admit.state(); return float64(b) }), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "digitpad_admission_waiting", Help: "Predictions queued for an admission slot.",
	}, func() float64 { _, q, _ := s.admit.state(); return float64(q) }), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "digitpad_admission_wait_budget_seconds", Help: "How long a prediction may wait for a slot before it is refused.",
	}, func() float64 { _, _, b := s.admit.state(); return b.Seconds() }))
	s.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "digitpad_prediction_log_pending",
		Help: "Predictions answered but not yet in the store: what a SIGKILL now would lose (the log is written " +
			"every --log-interval; feedback is never in this state).",
	}, func() float64 { return float64(s.plog.pendingLen()) }))
	s.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "digitpad_connections_open",
		Help: "Open client connections (HTTP and websocket); beyond --max-conns only health checks and metrics are served.",
	}, func() float64 { return float64(s.conns.Load()) }))
	s.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "digitpad_request_bodies_reading",
		Help: "Prediction request bodies being received (before admission; slow senders show here, not in the admission limit).",
	}, func() float64 { return float64(s.reading.Load()) }))
	s.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "digitpad_inflight_predictions", Help: "Predictions in work or queued now (HTTP and websocket); the autoscaling signal.",
	}, func() float64 { return float64(s.admit.inFlight()) }))
	s.initMonitoring()
	if cfg.Rollout.Shadow {
		s.shadow = newShadow(s, cfg.Rollout)
	}
	if cfg.Rollout.CanaryShare > 0 {
		s.canary = newCanary(s, cfg.Rollout)
	}
	mux, err := s.routes()
	if err != nil {
		s.closeMonitoring()
		return nil, err
	}
	s.startRetention()
	s.mux = mux
	s.handler = s.instrument(s.jsonErrors(s.connCap(s.rateLimit(s.admission(mux)))))
	return s, nil
}

// SetModel validates ONNX bytes by loading them, makes them the active model and announces it to websocket
// clients. card is the model card JSON (may be nil). In-flight predictions finish on the model they started with.
func (s *Server) SetModel(onnx, card []byte) error {
	m, err := newActiveModel(s.cfg.Loader, onnx, card, time.Now().UTC())
	if err != nil {
		return err
	}
	s.activate(m)
	return nil
}

// activate makes a loaded model the active one and announces it.
func (s *Server) activate(m *activeModel) {
	old := s.model.Swap(m)
	info := m.engine.Info()
	if old != nil {
		oi := old.engine.Info()
		s.metrics.modelInfo.DeleteLabelValues(oi.Name, oi.SHA256)
	}
	s.metrics.modelInfo.WithLabelValues(info.Name, info.SHA256).Set(1)
	s.metrics.modelSwaps.Inc()
	s.monitorModel(m)
	s.log.Info("model active", "name", info.Name, "sha256", info.SHA256, "bytes", len(m.onnx))
	s.announceAll()
}

// ModelInfo returns the active model's name and sha256 (zero before SetModel).
func (s *Server) ModelInfo() recognize.ModelInfo {
	if m := s.model.Load(); m != nil {
		return m.engine.Info()
	}
	return recognize.ModelInfo{}
}

// Handler is the complete HTTP handler (API, websocket, metrics, docs, web pad), for use without Open.
func (s *Server) Handler() http.Handler { return s.handler }

// Open listens on Config.Addr and serves in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	ln = newCapListener(ln, s.cfg.MaxConns, connReserve, &s.conns)
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.handler,
		ConnContext:       connContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20, // jsonErrors answers a JSON 431 beyond maxHeaderBytes (64 KB)
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.http.Serve(ln) }()
	return nil
}

// Addr is the address Open listens on (useful with port 0).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// URL is the server's base URL, http://Addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Shutdown stops gracefully: readiness turns 503 at once, the listener closes, in-flight HTTP requests and
// websocket messages finish, websockets close with 1001 (going away) so clients reconnect elsewhere, the batcher
// drains, and buffered predictions are written. When ctx ends first, remaining connections are closed hard.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.shutdown(ctx) })
	return s.stopErr
}

func (s *Server) shutdown(ctx context.Context) error {
	s.closing.Store(true)
	var errs []error
	var wg sync.WaitGroup
	if s.http != nil {
		wg.Go(func() {
			if err := s.http.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("http shutdown: %w", err))
				_ = s.http.Close()
			}
		})
	}
	s.hub.shutdown(ctx)
	wg.Wait()
	s.batch.Close()
	if s.shadow != nil {
		s.shadow.close(ctx)
	}
	s.plog.close()
	if err := s.plog.journal.close(); err != nil {
		errs = append(errs, fmt.Errorf("prediction loss journal: %w", err))
	}
	s.retain.close()
	s.closeMonitoring()
	if s.serveErr != nil {
		if err := <-s.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close is Shutdown with a 10 s deadline.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

// classify is the batcher's run function: one Classify per engine present in the batch (two only during a swap).
func (s *Server) classify(items []batchItem) error {
	first := items[0].engine
	same := true
	for _, it := range items[1:] {
		if it.engine != first {
			same = false
			break
		}
	}
	if same {
		jobs := make([]Job, len(items))
		for i, it := range items {
			jobs[i] = it.job
		}
		return first.Classify(jobs)
	}
	groups := map[Engine][]Job{}
	for _, it := range items {
		groups[it.engine] = append(groups[it.engine], it.job)
	}
	var errs []error
	for e, jobs := range groups {
		errs = append(errs, e.Classify(jobs))
	}
	return errors.Join(errs...)
}

// recognize runs one canvas through the active model: Prepare here, Classify in a batch, then logs the result.
func (s *Server) recognize(ctx context.Context, in Input, opt recognize.Options, clientID string, ink []byte) (*protocol.Prediction, error) {
	e, job, err := s.prepare(ctx, in, opt)
	if err != nil {
		return nil, err
	}
	p, _, err := s.finish(ctx, e, job, clientID, ink)
	s.rolloutOffer(e, in, opt, p)
	return p, err
}

// connReserve is how many connections beyond Config.MaxConns are accepted for health checks and metrics only.
const connReserve = 16

// maxCandidateCrops is how many distinct digit crops per allowed digit a job may hold before classification:
// the recogniser weighs up to three candidate segmentations, which share most crops.
const maxCandidateCrops = 3

func tooManyDigits(n, max int) *APIError {
	return apiErr(protocol.ETooLarge, fmt.Sprintf("%d digits found, more than the limit of %d per canvas", n, max))
}

// recognizeImage decodes an uploaded image within the decode budget and recognises it; the budget is held
// until the image is prepared (the pixels are not needed for classification). result is the prediction's result
// as JSON (see finish), or nil.
func (s *Server) recognizeImage(ctx context.Context, raw []byte, opt recognize.Options, clientID string) (_ *protocol.Prediction, result []byte, _ error) {
	in, release, err := s.decodeInput(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	e, job, err := s.prepare(ctx, in, opt)
	release()
	if err != nil {
		return nil, nil, err
	}
	p, result, err := s.finish(ctx, e, job, clientID, raw)
	s.rolloutOffer(e, in, opt, p)
	return p, result, err
}

// prepare segments one canvas on the caller's goroutine, unless the client has already gone.
func (s *Server) prepare(ctx context.Context, in Input, opt recognize.Options) (Engine, Job, error) {
	if ctx.Err() != nil {
		return nil, nil, errCancelled()
	}
	m := s.modelFor(ctx)
	if m == nil {
		return nil, nil, apiErr(protocol.EUnavailable, "no model loaded")
	}
	in.Context = ctx
	job, err := m.engine.Prepare(in, opt)
	if err != nil {
		return nil, nil, prepareError(err)
	}
	// A canvas of hundreds of "1"s is not a code: refuse it before the model call when even the distinct crops
	// of all candidate segmentations are far beyond the digit limit (finish checks the chosen one exactly); a
	// lattice over touching digits adds at most recognize.MaxLatticeCandidates crops, one of strokes
	// recognize.MaxStrokeCandidates.
	if l, ok := job.(interface{ Len() int }); ok && l.Len() > maxCandidateCrops*s.cfg.Limits.MaxDigits+recognize.MaxLatticeCandidates+recognize.MaxStrokeCandidates {
		return nil, nil, tooManyDigits(l.Len(), s.cfg.Limits.MaxDigits)
	}
	return m.engine, job, nil
}

// finish classifies a prepared job in a batch and logs the prediction. result is the prediction's result as
// resultjson.AppendResult writes it (HTML escaping on), encoded once for the log and the answer; nil when that
// encoder declines the result (encoding/json then writes both).
func (s *Server) finish(ctx context.Context, e Engine, job Job, clientID string, ink []byte) (_ *protocol.Prediction, result []byte, _ error) {
	switch err := s.batch.Do(ctx, batchItem{engine: e, job: job}); {
	case errors.Is(err, batcher.ErrOverloaded):
		return nil, nil, withRetryAfter(apiErr(protocol.EOverloaded, "server overloaded: prediction queue is full, retry later"),
			s.cfg.RetryAfter)
	case errors.Is(err, batcher.ErrClosed):
		return nil, nil, apiErr(protocol.EUnavailable, "server is shutting down")
	case err != nil && ctx.Err() != nil:
		return nil, nil, errCancelled()
	case err != nil:
		s.log.ErrorContext(ctx, "classify failed", "err", err, "request_id", requestID(ctx))
		return nil, nil, apiErr(protocol.EInternal, "recognition failed")
	}
	res := job.Result()
	if len(res.Digits) > s.cfg.Limits.MaxDigits {
		// Neither answered nor logged: a stored prediction stays a few KB whatever the canvas holds.
		return nil, nil, tooManyDigits(len(res.Digits), s.cfg.Limits.MaxDigits)
	}
	id, err := store.NewID()
	if err != nil {
		return nil, nil, err
	}
	s.metrics.observeResult(res)
	s.monitorPrediction(res, clientID)
	p := store.Prediction{ID: id, CreatedAt: time.Now().UTC(), ClientID: clientID, Result: *res}
	if s.cfg.KeepInk {
		p.InkPNG = bytes.Clone(ink) // a raw body belongs to huma's buffer pool once the handler returns
	}
	if b, ok := resultjson.AppendResult(make([]byte, 0, 512), res, true); ok {
		p.ResultJSON, result = b, b // read-only from here on: the log and the answer share it
	}
	s.plog.add(p)
	return &protocol.Prediction{ID: id, Result: *res}, result, nil
}

// saveFeedback validates and commits one feedback record; duplicate reports a resent idempotency key.
func (s *Server) saveFeedback(ctx context.Context, f *protocol.Feedback) (*protocol.Ack, error) {
	if f.Code == "" && len(f.Labels) > 0 && f.Validate(s.cfg.Limits) == nil {
		f.Code = protocol.LabelsCode(f.Labels)
	}
	if err := f.Validate(s.cfg.Limits); err != nil {
		return nil, err
	}
	if f.CreatedAt.IsZero() {
		f.CreatedAt = time.Now().UTC()
	}
	id, dup, err := s.cfg.Store.SaveFeedback(ctx, *f)
	if err != nil {
		var pe *protocol.Error
		if errors.As(err, &pe) {
			return nil, err
		}
		s.log.ErrorContext(ctx, "save feedback failed", "err", err, "request_id", requestID(ctx))
		s.monitorStoreError("feedback")
		return nil, withRetryAfter(apiErr(protocol.EUnavailable, "feedback not stored: store unavailable, resend later"),
			s.cfg.RetryAfter)
	}
	if dup {
		s.metrics.feedback.WithLabelValues("duplicate").Inc()
	} else {
		s.metrics.feedback.WithLabelValues("created").Inc()
		s.monitorFeedback(f)
		s.rolloutFeedback(f)
		if f.Predicted != "" {
			s.metrics.feedbackChecked.Inc()
			if f.Predicted != f.Code {
				s.metrics.feedbackFixed.Inc()
			}
		}
	}
	return &protocol.Ack{IdempotencyKey: f.IdempotencyKey, FeedbackID: id, Duplicate: dup}, nil
}

// prediction returns a logged prediction, from the log buffer when it has not reached the store yet.
func (s *Server) prediction(ctx context.Context, id string) (*store.Prediction, []store.Feedback, error) {
	if p, ok := s.plog.get(id); ok {
		_, fs, err := s.cfg.Store.Prediction(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		return &p, fs, nil
	}
	return s.cfg.Store.Prediction(ctx, id)
}

func (s *Server) announcement() *protocol.ModelAnnouncement {
	m := s.model.Load()
	if m == nil {
		return nil
	}
	return announce(m, "/v1/model.onnx", "/v1/model.graph")
}

// announce describes a model for clients, with the URLs its ONNX and graph files are served at.
func announce(m *activeModel, onnxURL, graphURL string) *protocol.ModelAnnouncement {
	a := &protocol.ModelAnnouncement{Name: m.engine.Info().Name, SHA256: m.sha256, URL: onnxURL}
	if m.graph != nil {
		a.GraphURL, a.GraphSHA256 = graphURL, m.graphSHA256
	}
	return a
}

// validToken compares an Authorization header against the configured bearer token in constant time.
func (s *Server) validToken(header string) bool {
	if s.cfg.Token == "" {
		return false
	}
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.Token)) == 1
}

// newRequestID is the server's prefix and a sequence number of at least six digits (zero-padded), written
// without fmt: one per request.
func (s *Server) newRequestID() string {
	b := make([]byte, 0, len(s.reqPfx)+20)
	b = append(b, s.reqPfx...)
	n := s.reqSeq.Add(1)
	for pad := uint64(100000); pad > 1 && n < pad; pad /= 10 {
		b = append(b, '0')
	}
	return string(strconv.AppendUint(b, n, 10))
}

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
