package server

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
)

// shadow re-runs a sample of production's predictions on the candidate, off the request path: the request only
// offers its canvas to a bounded queue (dropped when full, never waited for), one worker recognises it with the
// candidate, and the two answers are compared. When the clerk's feedback for a shadowed prediction arrives,
// both versions are scored against the confirmed code: the accuracy each would have had.
type shadow struct {
	s     *Server
	rate  float64
	queue chan shadowItem
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	offered atomic.Int64 // predictions seen, for the deterministic sample (every 1/rate-th)

	mu      sync.Mutex
	pending map[string]shadowRecord
	order   []string // ring of pending ids, oldest first at pos
	pos     int
	pairs   map[[2]int]*ShadowPair

	outcomes *prometheus.CounterVec // result
	compared *prometheus.CounterVec // candidate_version
	agreed   *prometheus.CounterVec // candidate_version
	scored   *prometheus.CounterVec // role, version
	right    *prometheus.CounterVec // role, version
}

type shadowItem struct {
	in          Input
	opt         recognize.Options
	id, code    string
	prodVersion int
}

type shadowRecord struct {
	prodCode, candCode string
	pair               [2]int
}

// ShadowPair is what shadowing one candidate version beside one production version found.
type ShadowPair struct {
	Production int `json:"production_version"`
	Candidate  int `json:"candidate_version"`
	// Compared predictions were answered by both; Agreed gave the same code.
	Compared int `json:"compared"`
	Agreed   int `json:"agreed"`
	// Scored compared predictions got the clerk's confirmed code; ProductionRight and CandidateRight are those
	// each version read exactly (correction-implied accuracy = Right / Scored).
	Scored          int `json:"scored"`
	ProductionRight int `json:"production_right"`
	CandidateRight  int `json:"candidate_right"`
}

// ShadowStatus is the shadow part of GET /v1/rollout.
type ShadowStatus struct {
	Rate  float64      `json:"rate"`
	Queue int          `json:"queue"`
	Pairs []ShadowPair `json:"pairs"`
}

func newShadow(s *Server, c RolloutConfig) *shadow {
	sh := &shadow{s: s, rate: c.ShadowRate, queue: make(chan shadowItem, c.ShadowQueue), stop: make(chan struct{}),
		done:    make(chan struct{}),
		pending: make(map[string]shadowRecord), order: make([]string, c.ShadowKeep), pairs: map[[2]int]*ShadowPair{},
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "digitpad_shadow_predictions_total",
			Help: "Production predictions offered to the shadow candidate, by result: compared, sampled_out, dropped " +
				"(queue full), no_candidate, failed."}, []string{"result"}),
		compared: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "digitpad_shadow_compared_total",
			Help: "Predictions answered by production and the shadow candidate, by candidate version."}, []string{"candidate_version"}),
		agreed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "digitpad_shadow_agreed_total",
			Help: "Shadowed predictions where the candidate read the same code as production."}, []string{"candidate_version"}),
		scored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "digitpad_shadow_scored_total",
			Help: "Shadowed predictions whose confirmed code arrived, by role (production, candidate) and version."}, []string{"role", "version"}),
		right: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "digitpad_shadow_right_total",
			Help: "Scored shadowed predictions the version read exactly as the clerk confirmed (accuracy = right / scored)."}, []string{"role", "version"}),
	}
	s.metrics.reg.MustRegister(sh.outcomes, sh.compared, sh.agreed, sh.scored, sh.right)
	go sh.run()
	return sh
}

// offer samples a production prediction for the shadow; it never blocks.
func (sh *shadow) offer(in Input, opt recognize.Options, p string, code string) {
	if in.Image != nil || in.Mask != nil && max(in.Mask.CanvasW*in.Mask.CanvasH, in.Mask.W*in.Mask.H) > shadowMaxPixels {
		// The request's decode budget is already returned, so what the queue holds must stay small: decoded
		// images and masks of large canvases (a reduced mask keeps its canvas for full-resolution cuts) are not
		// kept; strokes and masks of pad-sized canvases are.
		sh.outcomes.WithLabelValues("not_kept").Inc()
		return
	}
	n := sh.offered.Add(1)
	if int64(float64(n)*sh.rate) == int64(float64(n-1)*sh.rate) {
		sh.outcomes.WithLabelValues("sampled_out").Inc()
		return
	}
	if sh.s.candidate() == nil {
		sh.outcomes.WithLabelValues("no_candidate").Inc()
		return
	}
	select {
	case sh.queue <- shadowItem{in: in, opt: opt, id: p, code: code, prodVersion: sh.s.productionVersion()}:
	default:
		sh.outcomes.WithLabelValues("dropped").Inc()
	}
}

// shadowMaxPixels bounds the canvas of a mask kept for the shadow (its full-resolution planes stay with it):
// 64 queued canvases of at most 512×512 hold under 32 MB.
const shadowMaxPixels = 512 * 512

// shadowBatch is how many queued canvases the worker classifies in one model call.
const shadowBatch = 16

func (sh *shadow) run() {
	defer close(sh.done)
	for {
		var items []shadowItem
		select {
		case it := <-sh.queue:
			items = append(items, it)
		case <-sh.stop:
			return
		}
	more:
		for len(items) < shadowBatch {
			select {
			case x := <-sh.queue:
				items = append(items, x)
			default:
				break more
			}
		}
		sh.work(items)
	}
}

func (sh *shadow) work(items []shadowItem) {
	cand := sh.s.candidate()
	if cand == nil {
		sh.outcomes.WithLabelValues("no_candidate").Add(float64(len(items)))
		return
	}
	var jobs []Job
	var kept []shadowItem
	for _, it := range items {
		j, err := cand.engine.Prepare(it.in, it.opt)
		if err != nil {
			if !errors.Is(err, ink.ErrNoInk) {
				sh.s.log.Warn("shadow: prepare failed", "err", err)
			}
			sh.outcomes.WithLabelValues("failed").Inc()
			continue
		}
		jobs, kept = append(jobs, j), append(kept, it)
	}
	if len(jobs) == 0 {
		return
	}
	if err := cand.engine.Classify(jobs); err != nil {
		sh.s.log.Warn("shadow: classify failed", "err", err)
		sh.outcomes.WithLabelValues("failed").Add(float64(len(jobs)))
		return
	}
	cv := strconv.Itoa(cand.version)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i, it := range kept {
		code := jobs[i].Result().Code
		key := [2]int{it.prodVersion, cand.version}
		p := sh.pair(key)
		p.Compared++
		sh.outcomes.WithLabelValues("compared").Inc()
		sh.compared.WithLabelValues(cv).Inc()
		if code == it.code {
			p.Agreed++
			sh.agreed.WithLabelValues(cv).Inc()
		}
		sh.remember(it.id, shadowRecord{prodCode: it.code, candCode: code, pair: key})
	}
}

func (sh *shadow) pair(k [2]int) *ShadowPair {
	p := sh.pairs[k]
	if p == nil {
		p = &ShadowPair{Production: k[0], Candidate: k[1]}
		sh.pairs[k] = p
	}
	return p
}

// remember keeps a compared prediction until its feedback arrives or ShadowKeep newer ones push it out.
func (sh *shadow) remember(id string, r shadowRecord) {
	if old := sh.order[sh.pos]; old != "" {
		delete(sh.pending, old)
	}
	sh.order[sh.pos] = id
	sh.pos = (sh.pos + 1) % len(sh.order)
	sh.pending[id] = r
}

// score counts a confirmed code against both versions' answers to a shadowed prediction.
func (sh *shadow) score(predictionID, confirmed string) {
	if predictionID == "" {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r, ok := sh.pending[predictionID]
	if !ok {
		return
	}
	delete(sh.pending, predictionID) // each prediction is scored once (a resent record is a duplicate anyway)
	p := sh.pair(r.pair)
	p.Scored++
	pv, cv := strconv.Itoa(r.pair[0]), strconv.Itoa(r.pair[1])
	sh.scored.WithLabelValues("production", pv).Inc()
	sh.scored.WithLabelValues("candidate", cv).Inc()
	if r.prodCode == confirmed {
		p.ProductionRight++
		sh.right.WithLabelValues("production", pv).Inc()
	}
	if r.candCode == confirmed {
		p.CandidateRight++
		sh.right.WithLabelValues("candidate", cv).Inc()
	}
}

func (sh *shadow) status() ShadowStatus {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := ShadowStatus{Rate: sh.rate, Queue: len(sh.queue), Pairs: []ShadowPair{}}
	for _, p := range sh.pairs {
		st.Pairs = append(st.Pairs, *p)
	}
	slices.SortFunc(st.Pairs, func(a, b ShadowPair) int {
		return cmp.Or(cmp.Compare(a.Candidate, b.Candidate), cmp.Compare(a.Production, b.Production))
	})
	return st
}

// close stops the worker (what is still queued is dropped) and waits for its current batch until ctx ends.
func (sh *shadow) close(ctx context.Context) {
	sh.once.Do(func() { close(sh.stop) })
	select {
	case <-sh.done:
	case <-ctx.Done():
	}
}
