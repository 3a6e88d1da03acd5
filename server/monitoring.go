package server

import (
	"context"
	"embed"
	"io/fs"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"digitpad/assets"
	"digitpad/monitor"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// monitoring connects the server to package monitor: predictions and feedback go in, Prometheus series,
// GET /v1/monitoring, the dashboard's time series and the /dashboard page come out.
type monitoring struct {
	mon         *monitor.Monitor
	sampler     *sampler
	storeErrors *prometheus.CounterVec // op
	clock       func() time.Time
}

func (s *Server) initMonitoring() {
	cfg := s.cfg.Monitor
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	mo := &monitoring{mon: monitor.New(cfg), clock: cfg.Clock}
	mo.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "digitpad_store_errors_total", Help: "Failed store operations by operation (feedback, prediction_log).",
	}, []string{"op"})
	mo.storeErrors.WithLabelValues("feedback") // present from the start, so rates see the first error
	s.metrics.reg.MustRegister(mo.storeErrors, &monitorCollector{s: s, mon: mo.mon})
	mo.sampler = newSampler(s.metrics.reg, mo.mon, s.cfg.SeriesInterval, cfg.Clock)
	mo.mon.Start()
	mo.sampler.start()
	s.mon = mo
}

func (s *Server) closeMonitoring() {
	s.mon.sampler.stop()
	s.mon.mon.Close()
}

// monitorModel registers a newly active model: its reference profile from the card and an embedder compiled with
// a tap on the penultimate layer. A model without a profile (or one onnx-go cannot decode, e.g. a test engine)
// is still monitored for rates, without drift tests.
func (s *Server) monitorModel(m *activeModel) {
	info := m.engine.Info()
	p, err := monitor.ParseProfile(m.card)
	if err != nil {
		s.log.Warn("model card has a bad reference profile; drift monitoring off for this model", "err", err)
		p = nil
	}
	var emb monitor.Embedder
	if p != nil {
		scale := float32(1)
		if c, err := assets.ParseCard(m.card, m.onnx); err == nil {
			scale = c.InputScale
		}
		if g, err := onnxload.Decode(m.onnx); err == nil {
			if e, _, err := monitor.NewModelEmbedder(g, scale); err == nil && e.Dim() == p.Embedding.Dim {
				emb = e
			}
		}
		if emb == nil {
			s.log.Warn("no embedding for this model; the MMD test is off", "model", info.Name)
		}
	}
	s.mon.mon.SetModel(info.Name, info.SHA256, p, emb)
}

// monitorPrediction hands a result to the monitor's queue (never blocks).
func (s *Server) monitorPrediction(res *recognize.Result, clientID string) {
	s.mon.mon.Observe(monitor.FromResult(res, clientID, s.mon.clock()))
}

// monitorFeedback counts a new feedback record.
func (s *Server) monitorFeedback(f *protocol.Feedback) {
	fb := monitor.Feedback{Model: f.ModelSHA256, Client: f.ClientID, Predicted: f.Predicted, Code: f.Code,
		Labels: f.Labels}
	if len(f.Digits) > 0 {
		fb.PredictedDigits = make([]int, len(f.Digits))
		for i, d := range f.Digits {
			fb.PredictedDigits[i] = d.Digit
		}
	}
	if fb.Model == "" {
		fb.Model = s.ModelInfo().SHA256
	}
	s.mon.mon.Feedback(fb)
}

// monitorStoreError counts a failed store operation.
func (s *Server) monitorStoreError(op string) { s.mon.storeErrors.WithLabelValues(op).Inc() }

// monitorCollector exports the monitor's state on each scrape. Cardinality is bounded by the monitor: at most
// 3 model versions × (MaxClients + 2) client labels, and 17 tests for the active model.
type monitorCollector struct {
	s   *Server
	mon *monitor.Monitor
}

var (
	descScore = prometheus.NewDesc("digitpad_drift_score",
		"Drift test statistic of the active model's latest count window, by test and client (all = every client).",
		[]string{"test", "client"}, nil)
	descThreshold = prometheus.NewDesc("digitpad_drift_threshold",
		"Calibrated threshold of each drift test at the window size used.", []string{"test", "client"}, nil)
	descDetected = prometheus.NewDesc("digitpad_drift_detected",
		"1 when some drift test of the active model's latest window exceeds its threshold.", []string{"client"}, nil)
	descEstimated = prometheus.NewDesc("digitpad_estimated_accuracy",
		"Digit accuracy estimated from calibrated confidences (CBPE-like) over the latest window.",
		[]string{"model", "client"}, nil)
	descReference = prometheus.NewDesc("digitpad_reference_accuracy",
		"Digit accuracy measured on the model's reference data.", []string{"model"}, nil)
	descOnline = prometheus.NewDesc("digitpad_online_accuracy",
		"Digit accuracy measured from clerks' feedback.", []string{"model", "client"}, nil)
	descConfirm = prometheus.NewDesc("digitpad_confirm_rate",
		"Share of predictions that flagged a digit for the clerk to confirm.", []string{"model", "client"}, nil)
	descCorrection = prometheus.NewDesc("digitpad_correction_rate",
		"Share of feedback whose confirmed code differs from the prediction.", []string{"model", "client"}, nil)
	descDropped = prometheus.NewDesc("digitpad_monitor_dropped_total",
		"Predictions not monitored because the monitor's queue was full.", nil, nil)
	descSampledOut = prometheus.NewDesc("digitpad_monitor_sampled_out_total",
		"Predictions not monitored because they came beyond the monitor's rate cap (--monitor-rate).", nil, nil)
	descLoaded = prometheus.NewDesc("digitpad_model_loaded", "1 when a model is loaded and serving.", nil, nil)
)

func (c *monitorCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descScore, descThreshold, descDetected, descEstimated, descReference,
		descOnline, descConfirm, descCorrection, descDropped, descSampledOut, descLoaded} {
		ch <- d
	}
}

func (c *monitorCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	opt := func(d *prometheus.Desc, v *float64, labels ...string) {
		if v != nil {
			gauge(d, *v, labels...)
		}
	}
	loaded := 0.0
	if c.s.model.Load() != nil {
		loaded = 1
	}
	gauge(descLoaded, loaded)
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(c.mon.Dropped()))
	ch <- prometheus.MustNewConstMetric(descSampledOut, prometheus.CounterValue, float64(c.mon.SampledOut()))
	refs := map[string]bool{}
	for _, sr := range c.mon.AllSeries() {
		model := sr.ModelName + "@" + short(sr.Model)
		if sr.Active {
			for _, t := range sr.Tests {
				gauge(descScore, t.Statistic, t.Name, sr.Client)
				gauge(descThreshold, t.Threshold, t.Name, sr.Client)
			}
			if len(sr.Tests) > 0 {
				gauge(descDetected, b2f(sr.Detected), sr.Client)
			}
		}
		opt(descEstimated, sr.Estimated, model, sr.Client)
		opt(descOnline, sr.Online, model, sr.Client)
		opt(descConfirm, sr.Confirm, model, sr.Client)
		opt(descCorrection, sr.Correction, model, sr.Client)
		if sr.Reference != nil && !refs[model] {
			refs[model] = true
			gauge(descReference, *sr.Reference, model)
		}
	}
}

func short(sha string) string { return sha[:min(12, len(sha))] }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Routes: GET /v1/monitoring and /v1/monitoring/series in the OpenAPI document, the dashboard page outside it.

type monitoringInput struct {
	Client string `query:"client" maxLength:"128" doc:"Narrow to one client (its own label, or \"other\" when it is not among the busiest)"`
	Model  string `query:"model" maxLength:"64" doc:"A model version's sha256 (default: the active model)"`
}

type monitoringOutput struct {
	Body monitor.Snapshot
}

type seriesOutput struct {
	Body SeriesBody
}

// SeriesBody is the dashboard's time series: one point per sampling interval, oldest first.
type SeriesBody struct {
	IntervalSeconds float64       `json:"interval_seconds"`
	Points          []SeriesPoint `json:"points"`
}

func (s *Server) monitoringRoutes(api huma.API, mux *http.ServeMux) {
	huma.Register(api, huma.Operation{
		OperationID: "get-monitoring", Method: http.MethodGet, Path: "/v1/monitoring", Tags: []string{"ops"},
		Summary: "Drift, estimated and measured accuracy, confirm and correction rates",
		Description: "The latest count window of the active model (or ?model=SHA256) compared with the reference " +
			"profile in its model card: each test's statistic, p-value (where the test has one), calibrated " +
			"threshold and verdict; the accuracy estimated from calibrated confidences and the accuracy measured " +
			"from feedback (95% Wilson intervals); the same per client (the busiest clients by name, the rest as " +
			"\"other\"). ?client=ID narrows it to one client.",
		Errors: []int{404},
	}, func(ctx context.Context, in *monitoringInput) (*monitoringOutput, error) {
		snap, ok := s.mon.mon.Snapshot(in.Model, in.Client)
		if !ok {
			return nil, apiErr(protocol.ENotFound, "no such model is monitored")
		}
		return &monitoringOutput{Body: snap}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-monitoring-series", Method: http.MethodGet, Path: "/v1/monitoring/series",
		Tags: []string{"ops"}, Summary: "Time series for the dashboard",
		Description: "Traffic, latency p50/p99, shed and rate-limited answers, batch size, confidence, confirm and " +
			"correction rates, drift scores and estimated accuracy per client, sampled every interval_seconds.",
	}, func(ctx context.Context, _ *struct{}) (*seriesOutput, error) {
		return &seriesOutput{Body: s.mon.sampler.body()}, nil
	})
	sub, _ := fs.Sub(dashboardFS, "dashboard")
	files := http.FileServerFS(sub)
	mux.Handle("GET /dashboard", http.RedirectHandler("/dashboard/", http.StatusFound))
	mux.Handle("GET /dashboard/", http.StripPrefix("/dashboard/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".json") || strings.HasPrefix(r.URL.Path, "node_modules") {
			http.NotFound(w, r) // package files are not part of the page
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})))
}

// dashboardFS holds the page and, in gen/, uPlot's dist files copied from npm by `make dashboard`.
//
//go:embed dashboard/index.html dashboard/dashboard.js dashboard/dashboard.css all:dashboard/gen
var dashboardFS embed.FS

// SeriesPoint is one sample of the dashboard's time series.
type SeriesPoint struct {
	T time.Time `json:"t"`
	// Predictions per second (canvases recognised) and prediction requests per second (HTTP, any outcome).
	Predictions float64 `json:"predictions"`
	Requests    float64 `json:"requests"`
	// P50 and P99 are prediction request latencies in seconds over the interval (nil without requests).
	P50 *float64 `json:"p50"`
	P99 *float64 `json:"p99"`
	// Shed, RateLimited and Errors are answers per second: overloaded 503s, 429s, other 5xx.
	Shed        float64 `json:"shed"`
	RateLimited float64 `json:"rate_limited"`
	Errors      float64 `json:"errors"`
	// Batch is the mean canvases per model call; Confidence the mean digit confidence.
	Batch      *float64 `json:"batch"`
	Confidence *float64 `json:"confidence"`
	// Confirm and Correction are the active model's rates so far (all clients).
	Confirm    *float64 `json:"confirm"`
	Correction *float64 `json:"correction"`
	// Drift is statistic/threshold per test for all clients (above 1 alarms); Clients per client label.
	Drift   map[string]float64     `json:"drift"`
	Clients map[string]ClientPoint `json:"clients"`
}

// ClientPoint is one client's (or model's) latest window in a SeriesPoint.
type ClientPoint struct {
	Model     string   `json:"model"`
	Estimated *float64 `json:"estimated"`
	Detected  bool     `json:"detected"`
	// Score is the largest statistic/threshold ratio of its tests.
	Score float64 `json:"score"`
}

// sampler turns counters and histograms into per-interval rates and quantiles for the dashboard.
type sampler struct {
	reg      prometheus.Gatherer
	mon      *monitor.Monitor
	interval time.Duration
	clock    func() time.Time
	stopc    chan struct{}
	wg       sync.WaitGroup

	mu     sync.Mutex
	points []SeriesPoint
	prev   *gathered
}

const maxPoints = 360

func newSampler(reg prometheus.Gatherer, mon *monitor.Monitor, every time.Duration, clock func() time.Time) *sampler {
	if every <= 0 {
		every = 5 * time.Second
	}
	return &sampler{reg: reg, mon: mon, interval: every, clock: clock, stopc: make(chan struct{})}
}

func (sm *sampler) start() {
	sm.sample()
	sm.wg.Go(func() {
		t := time.NewTicker(sm.interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sm.sample()
			case <-sm.stopc:
				return
			}
		}
	})
}

func (sm *sampler) stop() {
	select {
	case <-sm.stopc:
	default:
		close(sm.stopc)
	}
	sm.wg.Wait()
}

func (sm *sampler) body() SeriesBody {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return SeriesBody{IntervalSeconds: sm.interval.Seconds(), Points: slices.Clone(sm.points)}
}

// gathered is what one sample reads from the registry.
type gathered struct {
	t                         time.Time
	predictions, requests     float64
	shed, rateLimited, errors float64
	batchSum, batchCount      float64
	confSum, confCount        float64
	latency                   map[float64]float64 // cumulative bucket counts of prediction routes
	latencyCount              float64
}

func (sm *sampler) gather() *gathered {
	mfs, err := sm.reg.Gather()
	g := &gathered{t: sm.clock(), latency: map[float64]float64{}}
	if err != nil {
		return g
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			lab := func(name string) string {
				for _, l := range m.GetLabel() {
					if l.GetName() == name {
						return l.GetValue()
					}
				}
				return ""
			}
			switch mf.GetName() {
			case "digitpad_predictions_total":
				g.predictions += m.GetCounter().GetValue()
			case "digitpad_rejections_total":
				switch lab("reason") {
				case protocol.EOverloaded:
					g.shed += m.GetCounter().GetValue()
				case protocol.ERateLimited:
					g.rateLimited += m.GetCounter().GetValue()
				case protocol.EInternal, protocol.EUnavailable:
					g.errors += m.GetCounter().GetValue()
				}
			case "digitpad_batch_size":
				g.batchSum += m.GetHistogram().GetSampleSum()
				g.batchCount += float64(m.GetHistogram().GetSampleCount())
			case "digitpad_digit_confidence":
				g.confSum += m.GetHistogram().GetSampleSum()
				g.confCount += float64(m.GetHistogram().GetSampleCount())
			case "digitpad_http_request_duration_seconds":
				if !strings.Contains(lab("route"), "/v1/predict") {
					continue
				}
				h := m.GetHistogram()
				g.requests += float64(h.GetSampleCount())
				g.latencyCount += float64(h.GetSampleCount())
				for _, b := range h.GetBucket() {
					g.latency[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return g
}

func (sm *sampler) sample() {
	g := sm.gather()
	sm.mu.Lock()
	defer sm.mu.Unlock()
	prev := sm.prev
	sm.prev = g
	if prev == nil {
		return
	}
	dt := g.t.Sub(prev.t).Seconds()
	if dt <= 0 {
		return
	}
	p := SeriesPoint{T: g.t.UTC(), Predictions: (g.predictions - prev.predictions) / dt,
		Requests: (g.requests - prev.requests) / dt, Shed: (g.shed - prev.shed) / dt,
		RateLimited: (g.rateLimited - prev.rateLimited) / dt, Errors: (g.errors - prev.errors) / dt,
		Drift: map[string]float64{}, Clients: map[string]ClientPoint{}}
	if n := g.batchCount - prev.batchCount; n > 0 {
		p.Batch = fptr((g.batchSum - prev.batchSum) / n)
	}
	if n := g.confCount - prev.confCount; n > 0 {
		p.Confidence = fptr((g.confSum - prev.confSum) / n)
	}
	if n := g.latencyCount - prev.latencyCount; n > 0 {
		delta := map[float64]float64{}
		for ub, c := range g.latency {
			delta[ub] = c - prev.latency[ub]
		}
		p.P50, p.P99 = fptr(bucketQuantile(0.5, delta, n)), fptr(bucketQuantile(0.99, delta, n))
	}
	for _, sr := range sm.mon.AllSeries() {
		if !sr.Active {
			continue
		}
		score := 0.0
		for _, t := range sr.Tests {
			if t.Threshold > 0 {
				r := t.Statistic / t.Threshold
				score = max(score, r)
				if sr.Client == monitor.AllClients {
					p.Drift[t.Name] = math.Round(r*1000) / 1000
				}
			}
		}
		p.Clients[sr.Client] = ClientPoint{Model: sr.ModelName, Estimated: sr.Estimated, Detected: sr.Detected,
			Score: math.Round(score*1000) / 1000}
		if sr.Client == monitor.AllClients {
			p.Confirm, p.Correction = sr.Confirm, sr.Correction
		}
	}
	sm.points = append(sm.points, p)
	if len(sm.points) > maxPoints {
		sm.points = slices.Delete(sm.points, 0, len(sm.points)-maxPoints)
	}
}

// bucketQuantile interpolates the q-quantile from per-bucket counts (upper bound -> cumulative count within the
// interval), as Prometheus' histogram_quantile does; the +Inf bucket maps to the largest finite bound.
func bucketQuantile(q float64, cum map[float64]float64, total float64) float64 {
	ubs := make([]float64, 0, len(cum))
	for ub := range cum {
		ubs = append(ubs, ub)
	}
	slices.Sort(ubs)
	rank := q * total
	lower, below := 0.0, 0.0
	for _, ub := range ubs {
		c := cum[ub]
		if c >= rank {
			if math.IsInf(ub, 1) {
				return lower
			}
			if c == below {
				return ub
			}
			return lower + (ub-lower)*(rank-below)/(c-below)
		}
		lower, below = ub, c
	}
	return lower
}

func fptr(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	x = math.Round(x*1e6) / 1e6
	return &x
}
