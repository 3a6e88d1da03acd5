package server

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"digitpad/shared/recognize"
)

// metrics are the server's Prometheus series, on a registry of its own so several servers (tests) coexist.
type metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec        // route, code
	requestDuration *prometheus.HistogramVec      // route, code
	predictOK       atomic.Pointer[requestSeries] // requests' and requestDuration's series of answered predictions
	inference       prometheus.Histogram
	batchSize       prometheus.Histogram
	rejections      *prometheus.CounterVec // reason
	wsConnections   prometheus.Gauge
	wsMessages      *prometheus.CounterVec // type
	predictions     prometheus.Counter
	digits          [10]prometheus.Counter
	confidence      prometheus.Histogram
	feedback        *prometheus.CounterVec // result: created|duplicate
	feedbackChecked prometheus.Counter     // feedback that names the predicted code
	feedbackFixed   prometheus.Counter     // ... and whose confirmed code differs from it
	logWritten      prometheus.Counter
	logDropped      prometheus.Counter
	logErrors       prometheus.Counter
	modelInfo       *prometheus.GaugeVec // name, sha256
	modelSwaps      prometheus.Counter
}

// requestSeries is one route and status's series in requests and requestDuration.
type requestSeries struct {
	count prometheus.Counter
	took  prometheus.Observer
}

// observeRequest counts one answered request. Answered predictions, nearly every request under load, use series
// looked up once (on the first, so that /metrics lists only what happened) instead of hashing their labels each
// time.
func (m *metrics) observeRequest(route string, status int, took time.Duration) {
	var rs requestSeries
	if route == predictPattern && status == http.StatusOK {
		p := m.predictOK.Load()
		if p == nil {
			p = new(m.series(route, status))
			m.predictOK.Store(p)
		}
		rs = *p
	} else {
		rs = m.series(route, status)
	}
	rs.count.Inc()
	rs.took.Observe(took.Seconds())
}

func (m *metrics) series(route string, status int) requestSeries {
	code := strconv.Itoa(status)
	return requestSeries{m.requests.WithLabelValues(route, code), m.requestDuration.WithLabelValues(route, code)}
}

func newMetrics(queueDepth func() float64) *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	latency := []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "digitpad_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "digitpad_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: latency,
		}, []string{"route", "code"}),
		inference: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "digitpad_inference_duration_seconds", Help: "Duration of one batched model call.",
			Buckets: latency,
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "digitpad_batch_size", Help: "Canvases per batched model call.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "digitpad_rejections_total", Help: "Rejected requests and messages by error code.",
		}, []string{"reason"}),
		wsConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "digitpad_websocket_connections", Help: "Open websocket connections.",
		}),
		wsMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "digitpad_websocket_messages_total", Help: "Websocket messages received by type.",
		}, []string{"type"}),
		predictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "digitpad_predictions_total", Help: "Successful recognitions (canvases).",
		}),
		confidence: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "digitpad_digit_confidence", Help: "Confidence of each recognised digit.",
			Buckets: []float64{.5, .6, .7, .8, .9, .95, .98, .99, .999},
		}),
		feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "digitpad_feedback_total", Help: "Feedback records received by result (created, duplicate).",
		}, []string{"result"}),
		feedbackChecked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "digitpad_feedback_with_prediction_total",
			Help: "New feedback records that carry the predicted code (denominator of the correction rate).",
		}),
		feedbackFixed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "digitpad_feedback_corrected_total",
			Help: "New feedback records whose confirmed code differs from the predicted one.",
		}),
		logWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "digitpad_prediction_log_written_total", Help: "Predictions written to the store.",
		}),
		logDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "digitpad_prediction_log_dropped_total",
			Help: "Predictions not logged because the log buffer was full or the store failed.",
		}),
		logErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "digitpad_prediction_log_errors_total", Help: "Failed prediction log writes.",
		}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "digitpad_model_info", Help: "The active model (value 1).",
		}, []string{"name", "sha256"}),
		modelSwaps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "digitpad_model_swaps_total", Help: "Models activated since start.",
		}),
	}
	digits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "digitpad_digits_predicted_total", Help: "Recognised digits by class.",
	}, []string{"digit"})
	for d := range m.digits {
		m.digits[d] = digits.WithLabelValues(strconv.Itoa(d))
	}
	f(m.requests)
	f(m.requestDuration)
	f(m.inference)
	f(m.batchSize)
	f(m.rejections)
	f(m.wsConnections)
	f(m.wsMessages)
	f(m.predictions)
	f(digits)
	f(m.confidence)
	f(m.feedback)
	f(m.feedbackChecked)
	f(m.feedbackFixed)
	f(m.logWritten)
	f(m.logDropped)
	f(m.logErrors)
	f(m.modelInfo)
	f(m.modelSwaps)
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "digitpad_queue_depth", Help: "Prepared canvases waiting for a model worker.",
	}, queueDepth))
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeResult(r *recognize.Result) {
	m.predictions.Inc()
	for _, d := range r.Digits {
		if d.Digit >= 0 && d.Digit < len(m.digits) {
			m.digits[d.Digit].Inc()
		}
		m.confidence.Observe(d.Confidence)
	}
}

func (m *metrics) reject(code string) { m.rejections.WithLabelValues(code).Inc() }
