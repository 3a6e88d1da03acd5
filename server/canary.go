package server

import (
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"digitpad/registry"
	"digitpad/server/rollout"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// canary serves the candidate to a stable share of websocket clients (chosen by client id: the same clients
// for as long as the share stays), announcing it to them so browsers and kiosks recognising locally switch too,
// and compares their correction rate with that of production's other clients, from the feedback records'
// model sha256. When package rollout's rule finds the candidate worse, the candidate alias is deleted in the
// registry (compare-and-set, with the decision as the reason in the alias history) and the canary clients are
// announced production again at once.
type canary struct {
	s      *Server
	share  float64
	policy rollout.Policy

	mu         sync.Mutex
	version    int // the candidate version the counts belong to
	state      *rollout.Canary
	rolledBack map[int]rollout.Decision

	feedback    *prometheus.CounterVec // arm
	corrections *prometheus.CounterVec // arm
	pValue      prometheus.Gauge
	looks       prometheus.Counter
	rollbacks   prometheus.Counter
}

const (
	armCanary     = "canary"
	armProduction = "production"
)

func newCanary(s *Server, c RolloutConfig) *canary {
	cn := &canary{s: s, share: c.CanaryShare, policy: c.Canary, rolledBack: map[int]rollout.Decision{},
		feedback: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "digitpad_canary_feedback_total",
			Help: "Confirmed codes counted by the canary, by arm (canary: the candidate's clients; production: the other clients)."}, []string{"arm"}),
		corrections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "digitpad_canary_corrections_total",
			Help: "Counted codes the clerk corrected, by arm (correction rate = corrections / feedback)."}, []string{"arm"}),
		pValue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "digitpad_canary_p_value",
			Help: "One-sided Fisher exact p-value of the latest look (canary corrects more often than production); 1 before the first."}),
		looks: prometheus.NewCounter(prometheus.CounterOpts{Name: "digitpad_canary_looks_total",
			Help: "Times the rollback rule was applied (each MinSample canary codes)."}),
		rollbacks: prometheus.NewCounter(prometheus.CounterOpts{Name: "digitpad_canary_rollbacks_total",
			Help: "Candidates rolled back because their canary clients corrected significantly more often."}),
	}
	cn.pValue.Set(1)
	s.metrics.reg.MustRegister(cn.feedback, cn.corrections, cn.pValue, cn.looks, cn.rollbacks,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "digitpad_canary_clients",
			Help: "Open websockets served the candidate as canary clients."}, func() float64 { return float64(s.hub.count(cn.serves)) }))
	return cn
}

// member reports whether a client belongs to the canary share: a hash of its id, so the choice is stable across
// connections, restarts and replicas. Clients without an id are never canaries.
func (cn *canary) member(clientID string) bool {
	if clientID == "" || cn.share <= 0 {
		return false
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(clientID))
	return float64(h.Sum64()%10000) < cn.share*10000
}

// model returns the candidate when the client is a canary and the candidate is live (loaded, different from
// production, not rolled back); nil means production.
func (cn *canary) model(clientID string) *altModel {
	if !cn.member(clientID) {
		return nil
	}
	a := cn.s.candidate()
	if a == nil {
		return nil
	}
	cn.mu.Lock()
	_, out := cn.rolledBack[a.version]
	cn.mu.Unlock()
	if out {
		return nil
	}
	return a
}

func (cn *canary) serves(c *wsConn) bool { return cn.model(c.clientID) != nil }

// observe counts one new feedback record: the canary arm when the candidate made the prediction, production's
// when production made it for a client outside the canary.
func (cn *canary) observe(f *protocol.Feedback) {
	if f.Predicted == "" || f.ModelSHA256 == "" {
		return
	}
	cand, prod := cn.s.candidate(), cn.s.model.Load()
	if cand == nil || prod == nil {
		return
	}
	var isCanary bool
	switch f.ModelSHA256 {
	case cand.engine.Info().SHA256:
		isCanary = true
	case prod.engine.Info().SHA256:
		if cn.member(f.ClientID) {
			return // a canary client before the candidate reached it: neither arm
		}
	default:
		return
	}
	arm := armProduction
	if isCanary {
		arm = armCanary
	}
	corrected := f.Predicted != f.Code
	cn.mu.Lock()
	if _, out := cn.rolledBack[cand.version]; out {
		cn.mu.Unlock()
		return
	}
	if cn.state == nil || cn.version != cand.version {
		cn.state, cn.version = rollout.NewCanary(cn.policy), cand.version
	}
	d, looked := cn.state.Add(isCanary, corrected)
	if looked && d.Rollback {
		cn.rolledBack[cand.version] = d
	}
	cn.mu.Unlock()
	cn.feedback.WithLabelValues(arm).Inc()
	if corrected {
		cn.corrections.WithLabelValues(arm).Inc()
	}
	if !looked {
		return
	}
	cn.looks.Inc()
	cn.pValue.Set(d.P)
	cn.s.log.Info("canary look", "candidate_version", cand.version, "decision", d.Reason())
	if d.Rollback {
		cn.rollbacks.Inc()
		cn.s.announceAll() // canary clients back on production now, whatever the registry says
		go cn.rollback(cand.version, d)
	}
}

// rollback deletes the candidate alias in the registry if it still points at the rolled-back version.
func (cn *canary) rollback(version int, d rollout.Decision) {
	c := cn.s.cand.Load()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.reg.DeleteAlias(ctx, c.ref.Model, c.ref.Alias, version, "digitpad serve (canary)", d.Reason())
	switch {
	case errors.Is(err, registry.ErrConflict), errors.Is(err, registry.ErrNotFound):
		cn.s.log.Info("canary rollback: the alias had already moved", "alias", c.ref.Alias, "version", version)
	case err != nil:
		cn.s.log.Error("canary rollback: could not delete the alias; canary clients stay on production here", "err", err)
	default:
		cn.s.log.Warn("canary rolled back", "alias", c.ref.Alias, "version", version, "reason", d.Reason())
	}
}

// RolledBack is a candidate version this server rolled back, with the decision.
type RolledBack struct {
	Version  int              `json:"version"`
	Decision rollout.Decision `json:"decision"`
	Reason   string           `json:"reason"`
}

// CanaryStatus is the canary part of GET /v1/rollout.
type CanaryStatus struct {
	Share      float64           `json:"share"`
	MinSample  int               `json:"min_sample"`
	Alpha      float64           `json:"alpha"`
	Version    int               `json:"version"`
	Canary     rollout.Arm       `json:"canary"`
	Production rollout.Arm       `json:"production"`
	Last       *rollout.Decision `json:"last_look,omitempty"`
	Clients    int               `json:"clients"`
	RolledBack []RolledBack      `json:"rolled_back"`
}

func (cn *canary) status() CanaryStatus {
	clients := cn.s.hub.count(cn.serves)
	cn.mu.Lock()
	defer cn.mu.Unlock()
	st := CanaryStatus{Share: cn.share, MinSample: cn.policy.MinSample, Alpha: cn.policy.Alpha, Version: cn.version,
		Clients: clients, RolledBack: []RolledBack{}}
	if cn.state != nil {
		st.Canary, st.Production = cn.state.Arms()
		st.Last = cn.state.Last()
	}
	for v, d := range cn.rolledBack {
		st.RolledBack = append(st.RolledBack, RolledBack{Version: v, Decision: d, Reason: d.Reason()})
	}
	return st
}

// modelCtxKey carries the model a canary client's prediction runs on.
type modelCtxKey struct{}

func withModel(ctx context.Context, m *activeModel) context.Context {
	return context.WithValue(ctx, modelCtxKey{}, m)
}

// modelFor is the model a prediction runs on: a canary client's candidate, else production.
func (s *Server) modelFor(ctx context.Context) *activeModel {
	if m, ok := ctx.Value(modelCtxKey{}).(*activeModel); ok && m != nil {
		return m
	}
	return s.model.Load()
}

// canaryModel is the candidate for a canary client (nil: production).
func (s *Server) canaryModel(clientID string) *altModel {
	if s.canary == nil {
		return nil
	}
	return s.canary.model(clientID)
}

// announcementFor is the model announcement a websocket client gets: the candidate for canary clients.
func (s *Server) announcementFor(clientID string) *protocol.ModelAnnouncement {
	if a := s.canaryModel(clientID); a != nil {
		an := announce(a.activeModel, "/v1/canary/model.onnx", "/v1/canary/model.graph")
		an.CardURL = "/v1/canary/model"
		return an
	}
	return s.announcement()
}

// announceAll tells every websocket client its model (after a swap, a new candidate or a rollback).
func (s *Server) announceAll() {
	s.hub.broadcastFor(func(c *wsConn) *protocol.ModelAnnouncement { return s.announcementFor(c.clientID) })
}

// candidateChanged runs when the candidate alias moved: canary clients are told their model.
func (s *Server) candidateChanged() {
	if s.canary != nil {
		s.announceAll()
	}
}

// rolloutFeedback feeds a new feedback record to the shadow and the canary.
func (s *Server) rolloutFeedback(f *protocol.Feedback) {
	if s.shadow != nil {
		s.shadow.score(f.PredictionID, f.Code)
	}
	if s.canary != nil {
		s.canary.observe(f)
	}
}

// rolloutOffer hands a production prediction to the shadow (not a canary client's: that is the candidate).
func (s *Server) rolloutOffer(e Engine, in Input, opt recognize.Options, p *protocol.Prediction) {
	if s.shadow == nil || p == nil {
		return
	}
	if m := s.model.Load(); m == nil || m.engine != e {
		return
	}
	s.shadow.offer(in, opt, p.ID, p.Code)
}

// RolloutStatus is GET /v1/rollout.
type RolloutStatus struct {
	Production int              `json:"production_version"`
	Candidate  *CandidateStatus `json:"candidate,omitempty"`
	Shadow     *ShadowStatus    `json:"shadow,omitempty"`
	Canary     *CanaryStatus    `json:"canary,omitempty"`
}

type rolloutOutput struct{ Body RolloutStatus }

func (s *Server) rolloutRoutes(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "get-rollout", Method: http.MethodGet, Path: "/v1/rollout", Tags: []string{"ops"},
		Summary: "Shadow and canary serving of the candidate",
		Description: "The candidate version loaded beside production (`serve --shadow`/`--canary`); in shadow, per " +
			"(production, candidate) pair, the predictions both answered, how often they agreed, and for those the " +
			"clerk confirmed, how many each read right; as a canary, each arm's confirmed and corrected codes, the " +
			"latest look of the rollback rule and the versions rolled back.",
	}, func(ctx context.Context, _ *struct{}) (*rolloutOutput, error) {
		out := &rolloutOutput{Body: RolloutStatus{Production: s.productionVersion()}}
		if c := s.cand.Load(); c != nil {
			st := c.status(s)
			out.Body.Candidate = &st
		}
		if s.shadow != nil {
			st := s.shadow.status()
			out.Body.Shadow = &st
		}
		if s.canary != nil {
			st := s.canary.status()
			out.Body.Canary = &st
		}
		return out, nil
	})
	live := func() (*altModel, error) {
		if s.canary == nil {
			return nil, apiErr(protocol.ENotFound, "no canary on this server")
		}
		a := s.candidate()
		if a == nil {
			return nil, apiErr(protocol.ENotFound, "no candidate is live")
		}
		return a, nil
	}
	huma.Register(api, huma.Operation{
		OperationID: "get-canary-model", Method: http.MethodGet, Path: "/v1/canary/model", Tags: []string{"model"},
		Summary:     "The canary candidate's card",
		Description: "What canary clients are announced (card_url): the browser pad configures its recogniser from it.",
		Errors:      []int{404},
	}, func(ctx context.Context, _ *struct{}) (*modelOutput, error) {
		a, err := live()
		if err != nil {
			return nil, err
		}
		return &modelOutput{Body: *cardOf(a.activeModel, "/v1/canary/model.onnx", "/v1/canary/model.graph")}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-canary-onnx", Method: http.MethodGet, Path: "/v1/canary/model.onnx", Tags: []string{"model"},
		Summary: "The canary candidate's ONNX bytes", Description: "What canary clients are announced; checked against X-Model-SHA256.",
		Errors: []int{404},
	}, func(ctx context.Context, _ *struct{}) (*onnxOutput, error) {
		a, err := live()
		if err != nil {
			return nil, err
		}
		return &onnxOutput{ContentType: "application/octet-stream", ETag: `"` + a.sha256 + `"`, SHA256: a.sha256, Body: a.onnx}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-canary-graph", Method: http.MethodGet, Path: "/v1/canary/model.graph", Tags: []string{"model"},
		Summary: "The canary candidate as a model graph file", Errors: []int{404},
	}, func(ctx context.Context, _ *struct{}) (*graphOutput, error) {
		a, err := live()
		if err != nil {
			return nil, err
		}
		if a.graph == nil {
			return nil, apiErr(protocol.ENotFound, "the candidate has no graph file")
		}
		return &graphOutput{ContentType: "application/octet-stream", ETag: `"` + a.graphSHA256 + `"`, SHA256: a.sha256,
			GraphSHA256: a.graphSHA256, Body: a.graph}, nil
	})
}
