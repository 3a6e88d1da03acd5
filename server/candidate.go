package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"digitpad/registry"
	"digitpad/server/rollout"
)

// RolloutConfig configures serving a second registry version beside production (the alias FollowCandidate
// follows, normally "candidate"): in shadow, on a sample of live predictions whose answers are only compared,
// and as a canary, to a stable share of websocket clients whose correction rate decides whether it is rolled
// back (shadow.go, canary.go).
type RolloutConfig struct {
	// Shadow runs the candidate beside production on ShadowRate of production's predictions (default 0.25),
	// off the request path: a queue of ShadowQueue canvases (default 64) drops what it cannot take.
	Shadow      bool
	ShadowRate  float64
	ShadowQueue int
	// ShadowKeep bounds the shadowed predictions remembered until their feedback arrives (default 20000).
	ShadowKeep int
	// CanaryShare is the share of websocket clients (chosen stably by client id) served and announced the
	// candidate (0: no canary).
	CanaryShare float64
	// Canary is the rollback rule (package rollout; zero fields: its defaults).
	Canary rollout.Policy
}

func (c RolloutConfig) withDefaults() RolloutConfig {
	if c.ShadowRate <= 0 || c.ShadowRate > 1 {
		c.ShadowRate = 0.25
	}
	if c.ShadowQueue <= 0 {
		c.ShadowQueue = 64
	}
	if c.ShadowKeep <= 0 {
		c.ShadowKeep = 20000
	}
	c.Canary = c.Canary.WithDefaults()
	return c
}

// altModel is a registry version loaded beside production: never the server's answer except for canary clients.
type altModel struct {
	*activeModel
	version int
	variant string
}

// candidates keeps the version an alias points at loaded beside production.
type candidates struct {
	s       *Server
	reg     *registry.Registry
	ref     registry.Ref
	variant string
	cur     atomic.Pointer[altModel]
	mu      sync.Mutex
	lastErr string
	gauge   prometheus.Gauge
	errors  prometheus.Counter
}

// FollowCandidate loads the version ref's alias points at beside production and follows the alias (checking
// every interval) for shadow and canary serving as Config.Rollout asks. A missing alias means no candidate.
// The first load is tried before it returns (a failure is logged, not returned); following stops when ctx ends.
func (s *Server) FollowCandidate(ctx context.Context, reg *registry.Registry, ref registry.Ref, variant string, every time.Duration) error {
	if ref.Alias == "" {
		return errors.New("candidate: follow an alias, not a fixed version")
	}
	if s.cand.Load() != nil {
		return errors.New("candidate: already followed")
	}
	c := &candidates{s: s, reg: reg, ref: ref, variant: variant,
		gauge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "digitpad_candidate_version",
			Help: "The registry version loaded beside production for shadow and canary serving (0: none)."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "digitpad_candidate_load_errors_total",
			Help: "Failed attempts to load the version the candidate alias points at."}),
	}
	if err := s.metrics.reg.Register(c.gauge); err != nil {
		return err
	}
	if err := s.metrics.reg.Register(c.errors); err != nil {
		return err
	}
	s.cand.Store(c)
	ch := reg.Watch(ctx, ref.Model, ref.Alias, every)
	select {
	case v, ok := <-ch:
		if ok {
			if err := c.set(ctx, v); err != nil {
				// A broken candidate must not keep production from serving: logged, counted, shown at /v1/rollout.
				s.log.Error("candidate: could not load; serving production alone", "err", err)
			}
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	go func() {
		for v := range ch {
			if err := c.set(ctx, v); err != nil && ctx.Err() == nil {
				s.log.Error("candidate: could not load the new version; keeping the previous one", "err", err)
			}
		}
	}()
	return nil
}

// set loads version v (0: unloads) and tells the canary.
func (c *candidates) set(ctx context.Context, v int) error {
	old := c.cur.Load()
	if old != nil && old.version == v {
		return nil
	}
	var next *altModel
	if v > 0 {
		m, variant, err := c.load(ctx, v)
		c.mu.Lock()
		if err != nil {
			c.lastErr = err.Error()
			c.mu.Unlock()
			c.errors.Inc()
			return err
		}
		c.lastErr = ""
		c.mu.Unlock()
		next = &altModel{activeModel: m, version: v, variant: variant}
	}
	c.cur.Store(next)
	c.gauge.Set(float64(v))
	c.s.log.Info("candidate version", "ref", c.ref.String(), "version", v)
	c.s.candidateChanged()
	return nil
}

func (c *candidates) load(ctx context.Context, version int) (*activeModel, string, error) {
	v, err := c.reg.Version(ctx, c.ref.Model, version)
	if err != nil {
		return nil, "", err
	}
	variant, err := chooseVariant(v, c.variant)
	if err != nil {
		return nil, "", err
	}
	onnx, card, _, err := c.reg.Variant(ctx, v, variant)
	if err != nil {
		return nil, "", err
	}
	m, err := newActiveModel(c.s.cfg.Loader, onnx, card, time.Now().UTC())
	if err != nil {
		return nil, "", fmt.Errorf("candidate version %d (%s): %w", version, variant, err)
	}
	if err := warm(m.engine); err != nil {
		return nil, "", fmt.Errorf("warm candidate version %d: %w", version, err)
	}
	return m, variant, nil
}

// candidate returns the loaded candidate when it differs from the model production serves (nil otherwise).
func (s *Server) candidate() *altModel {
	c := s.cand.Load()
	if c == nil {
		return nil
	}
	a := c.cur.Load()
	if a == nil {
		return nil
	}
	if p := s.model.Load(); p != nil && p.sha256 == a.sha256 {
		return nil
	}
	return a
}

// productionVersion is the registry version production serves (0 when the model does not come from the registry).
func (s *Server) productionVersion() int {
	if st, ok := s.FollowStatus(); ok {
		return st.Version
	}
	return 0
}

// CandidateStatus is the candidate part of GET /v1/rollout.
type CandidateStatus struct {
	Ref       string    `json:"ref"`
	Version   int       `json:"version"`
	Variant   string    `json:"variant,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	LoadedAt  time.Time `json:"loaded_at,omitzero"`
	Same      bool      `json:"same_as_production,omitempty"`
	LastError string    `json:"last_error,omitempty"`
}

func (c *candidates) status(s *Server) CandidateStatus {
	st := CandidateStatus{Ref: c.ref.String()}
	if a := c.cur.Load(); a != nil {
		st.Version, st.Variant, st.SHA256, st.LoadedAt = a.version, a.variant, a.sha256, a.loadedAt
		st.Same = s.candidate() == nil
	}
	c.mu.Lock()
	st.LastError = c.lastErr
	c.mu.Unlock()
	return st
}

// followCandidate loads the --shadow/--canary alias of the served model beside production until Close.
func (p *Program) followCandidate(ctx context.Context, srv *Server) error {
	if p.registry == nil {
		return errors.New("--shadow and --canary need a registry (--registry or --data)")
	}
	model := registry.DefaultModel
	if ref, err := registry.ParseURI(p.ModelFile); err == nil {
		model = ref.Model
	}
	ref := registry.Ref{Model: model, Alias: p.Candidate}
	if err := registry.ValidAlias(p.Candidate); err != nil {
		return err
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.uncand = cancel
	return srv.FollowCandidate(fctx, p.registry, ref, p.Variant, p.RegistryPoll)
}
