package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"digitpad/assets"
	"digitpad/registry"
	regopen "digitpad/registry/open"
	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// FollowStatus is what a server following a registry alias serves and whether its last attempt to follow failed.
type FollowStatus struct {
	// Ref is the model URI followed (models:/NAME@ALIAS), or the fixed version served (models:/NAME/N).
	Ref string `json:"ref"`
	// Version is the registry version being served (0 before the first load).
	Version int `json:"version"`
	// Variant is the variant of the version being served (fp32, int8, fp16).
	Variant string `json:"variant"`
	// Want is the version the alias points at (differs from Version while a swap is pending or failed).
	Want int `json:"want"`
	// LastError is why the last load failed (empty after a success).
	LastError string    `json:"last_error,omitempty"`
	SwappedAt time.Time `json:"swapped_at,omitzero"`
}

// follower keeps a server on the version a registry alias points at.
type follower struct {
	s       *Server
	reg     *registry.Registry
	ref     registry.Ref
	variant string // "auto" or a variant name
	mu      sync.Mutex
	status  FollowStatus
	version prometheus.Gauge
	errors  prometheus.Counter
}

// chooseVariant picks the variant to serve from a version's files: the requested one, or with "auto" the fastest
// on this CPU (assets.FastestVariant) when the version has it, else fp32.
func chooseVariant(v registry.Version, want string) (string, error) {
	if want == "" || want == "auto" {
		if f := assets.FastestVariant(); v.HasVariant(f) {
			return f, nil
		}
		return "fp32", nil
	}
	if !v.HasVariant(want) {
		return "", fmt.Errorf("version %d has no %s variant", v.Version, want)
	}
	return want, nil
}

// ServeVersion downloads a registry version (every file verified against its sha256), loads and warms it, then
// swaps it in and announces it to websocket clients. In-flight predictions finish on the model they started with.
func (s *Server) ServeVersion(ctx context.Context, reg *registry.Registry, v registry.Version, variant string) (string, error) {
	start := time.Now()
	variant, err := chooseVariant(v, variant)
	if err != nil {
		return "", err
	}
	onnx, card, _, err := reg.Variant(ctx, v, variant)
	if err != nil {
		return "", err
	}
	m, err := newActiveModel(s.cfg.Loader, onnx, card, time.Now().UTC())
	if err != nil {
		return "", fmt.Errorf("load version %d (%s): %w", v.Version, variant, err)
	}
	if err := warm(m.engine); err != nil {
		return "", fmt.Errorf("warm version %d (%s): %w", v.Version, variant, err)
	}
	s.activate(m)
	s.log.Info("registry version active", "model", v.Model, "version", v.Version, "variant", variant,
		"download_verify_load_warm", time.Since(start).Round(time.Millisecond))
	return variant, nil
}

// warm runs one prediction through a new engine before it takes traffic, so the first requests do not pay for
// first-use allocations.
func warm(e Engine) error {
	p := synth.Defaults()
	p.Seed = 1
	p.Height = 100
	c, err := synth.Write("0123456789", synth.Centered(p, 10, 1200, 160))
	if err != nil {
		return err
	}
	j, err := e.Prepare(Input{Strokes: c.Strokes, Width: 1200, Height: 160}, recognize.Options{})
	if errors.Is(err, ink.ErrNoInk) {
		return nil
	}
	if err != nil {
		return err
	}
	return e.Classify([]Job{j})
}

// FollowRegistry serves the version ref names: a fixed version, or the version an alias points at, following the
// alias as it moves (checking every interval). The first load happens before it returns (its error is returned);
// later failures are logged, kept in the status and retried. Following stops when ctx ends.
func (s *Server) FollowRegistry(ctx context.Context, reg *registry.Registry, ref registry.Ref, variant string, every time.Duration) error {
	if s.follow.Load() != nil {
		return errors.New("server already follows the registry")
	}
	f := &follower{s: s, reg: reg, ref: ref, variant: variant, status: FollowStatus{Ref: ref.String()},
		version: prometheus.NewGauge(prometheus.GaugeOpts{Name: "digitpad_registry_version",
			Help: "The registry version being served (see digitpad_model_info for its sha256)."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "digitpad_registry_follow_errors_total",
			Help: "Failed attempts to download, verify or load the version a followed alias points at."}),
	}
	if err := s.metrics.reg.Register(f.version); err != nil {
		return err
	}
	if err := s.metrics.reg.Register(f.errors); err != nil {
		return err
	}
	v, err := reg.Resolve(ctx, ref)
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	if err := f.load(ctx, v.Version); err != nil {
		return err
	}
	s.follow.Store(f)
	if ref.Alias == "" {
		return nil
	}
	go f.run(ctx, every)
	return nil
}

func (f *follower) load(ctx context.Context, version int) error {
	f.mu.Lock()
	f.status.Want = version
	f.mu.Unlock()
	v, err := f.reg.Version(ctx, f.ref.Model, version)
	var variant string
	if err == nil {
		variant, err = f.s.ServeVersion(ctx, f.reg, v, f.variant)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.status.LastError = err.Error()
		f.errors.Inc()
		return fmt.Errorf("%s version %d: %w", f.ref, version, err)
	}
	f.status.Version, f.status.Variant, f.status.LastError, f.status.SwappedAt = version, variant, "", time.Now().UTC()
	f.version.Set(float64(version))
	return nil
}

func (f *follower) run(ctx context.Context, every time.Duration) {
	ch := f.reg.Watch(ctx, f.ref.Model, f.ref.Alias, every)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	want := 0
	for {
		select {
		case <-ctx.Done():
			return
		case v, ok := <-ch:
			if !ok {
				return
			}
			if v == 0 {
				f.s.log.Warn("registry alias missing: keeping the current model", "ref", f.ref.String())
				continue
			}
			want = v
		case <-retry.C:
		}
		if f.Status().Version == want && f.Status().LastError == "" {
			continue
		}
		if err := f.load(ctx, want); err != nil {
			if ctx.Err() != nil {
				return
			}
			f.s.log.Error("registry: could not serve the new version; retrying in 5s", "err", err)
			retry.Reset(5 * time.Second)
		}
	}
}

// Status returns the follower's state.
func (f *follower) Status() FollowStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// FollowStatus returns what the server follows in the registry (ok false when it serves a model from elsewhere).
func (s *Server) FollowStatus() (FollowStatus, bool) {
	f := s.follow.Load()
	if f == nil {
		return FollowStatus{}, false
	}
	return f.Status(), true
}

// openRegistry opens the registry (Registry.Registry, else DATA/registry) and hands it to the server's config.
// Without either, the server runs without a registry (and a models:/ --model is an error).
func (p *Program) openRegistry(ctx context.Context, log *slog.Logger) error {
	loc := p.Registry
	if loc.Registry == "" && p.DataDir != "" {
		loc.Registry = filepath.Join(p.DataDir, "registry")
	}
	if loc.Registry == "" {
		if registry.IsURI(p.ModelFile) {
			return fmt.Errorf("--model %s needs a registry: give --registry or --data", p.ModelFile)
		}
		return nil
	}
	r, err := regopen.Open(ctx, loc, registry.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("open registry: %w", err)
	}
	p.registry = r
	p.Config.Registry = r
	return nil
}

// follow serves the registry version ModelFile names, following its alias until Close.
func (p *Program) follow(ctx context.Context, srv *Server) error {
	ref, err := registry.ParseURI(p.ModelFile)
	if err != nil {
		return err
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.unfollow = cancel
	return srv.FollowRegistry(fctx, p.registry, ref, p.Variant, p.RegistryPoll)
}
