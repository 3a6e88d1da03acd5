package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"digitpad/assets"
)

// Options tune a Registry. Zero values take the defaults noted.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives structured logs (default: discard).
	Logger *slog.Logger
	// SmokeMinAccuracy is the share of SmokeCodes' digits an uploaded model must read (default 0.7; the shipped
	// model reads all of them).
	SmokeMinAccuracy float64
	// Describe names the backend for messages (e.g. "dir /var/lib/digitpad/registry").
	Describe string
}

// Registry is the registry over a backend. It is safe for concurrent use, also by several processes sharing the
// backend.
type Registry struct {
	meta  Meta
	blobs Blobs
	opt   Options
}

// New builds a Registry over a backend; Close closes both parts.
func New(meta Meta, blobs Blobs, opt Options) *Registry {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.SmokeMinAccuracy == 0 {
		opt.SmokeMinAccuracy = 0.7
	}
	return &Registry{meta: meta, blobs: blobs, opt: opt}
}

// String describes where the registry lives.
func (r *Registry) String() string { return r.opt.Describe }

// Close closes the backend.
func (r *Registry) Close() error { return errors.Join(r.meta.Close(), r.blobs.Close()) }

func (r *Registry) now() time.Time { return r.opt.Now().UTC() }

// CreateModel registers a model name.
func (r *Registry) CreateModel(ctx context.Context, name, description string, tags map[string]string) (Model, error) {
	if err := ValidName(name); err != nil {
		return Model{}, err
	}
	now := r.now()
	m := Model{Name: name, Description: description, CreatedAt: now, UpdatedAt: now, Tags: tags}
	if err := r.meta.CreateModel(ctx, m); err != nil {
		return Model{}, err
	}
	return r.meta.GetModel(ctx, name)
}

// Model returns a registered model with its aliases.
func (r *Registry) Model(ctx context.Context, name string) (Model, error) {
	return r.meta.GetModel(ctx, name)
}

// Models lists the registered models.
func (r *Registry) Models(ctx context.Context) ([]Model, error) { return r.meta.ListModels(ctx) }

// SetModelTag sets a model tag; DeleteModelTag removes one.
func (r *Registry) SetModelTag(ctx context.Context, name, key, value string) error {
	if key == "" {
		return fmt.Errorf("%w: empty tag key", ErrInvalid)
	}
	return r.meta.SetModelTag(ctx, name, key, &value, r.now())
}

// DeleteModelTag removes a model tag.
func (r *Registry) DeleteModelTag(ctx context.Context, name, key string) error {
	return r.meta.SetModelTag(ctx, name, key, nil, r.now())
}

// SetVersionTag sets a version tag (tags are the one mutable part of a version besides its aliases).
func (r *Registry) SetVersionTag(ctx context.Context, name string, version int, key, value string) error {
	if key == "" {
		return fmt.Errorf("%w: empty tag key", ErrInvalid)
	}
	return r.meta.SetVersionTag(ctx, name, version, key, &value)
}

// DeleteVersionTag removes a version tag.
func (r *Registry) DeleteVersionTag(ctx context.Context, name string, version int, key string) error {
	return r.meta.SetVersionTag(ctx, name, version, key, nil)
}

// Upload is a version to register.
type Upload struct {
	// Files maps file names (FileONNX, FileONNXInt8, FileONNXFP16 and their cards) to contents; FileONNX is
	// required.
	Files map[string][]byte
	// SHA256 optionally states the hex sha256 each file must have (refused on mismatch).
	SHA256      map[string]string
	Description string
	Source      string
	By          string
	Lineage     Lineage
	Metrics     map[string]float64
	Tags        map[string]string
}

// Register validates an upload (every ONNX file loads in shared/model and passes the smoke evaluation, stated
// sha256s match, cards agree with their files), stores its files, then records the version. A refused upload
// leaves nothing behind; files are stored by content, so versions sharing a file store it once.
func (r *Registry) Register(ctx context.Context, name string, u Upload) (Version, error) {
	if _, err := r.meta.GetModel(ctx, name); err != nil {
		return Version{}, err
	}
	p, err := r.prepare(u)
	if err != nil {
		return Version{}, err
	}
	var added []string
	cleanup := func() {
		ctx := context.WithoutCancel(ctx)
		for _, k := range added {
			if err := r.blobs.Delete(ctx, k); err != nil {
				r.opt.Logger.Warn("registry: removing a stored file of a failed registration", "key", k, "err", err)
			}
		}
	}
	for _, f := range p.files {
		key := blobKey(f.SHA256)
		ok, err := r.blobs.Exists(ctx, key)
		if err != nil {
			cleanup()
			return Version{}, fmt.Errorf("store %s: %w", f.Name, err)
		}
		if ok {
			continue
		}
		if err := r.blobs.Put(ctx, key, p.data[f.Name]); err != nil {
			cleanup()
			return Version{}, fmt.Errorf("store %s: %w", f.Name, err)
		}
		added = append(added, key)
	}
	v := Version{Model: name, CreatedAt: r.now(), CreatedBy: u.By, Description: u.Description, Source: u.Source,
		Files: p.files, Metrics: u.Metrics, Lineage: u.Lineage, Tags: u.Tags}
	n, err := r.meta.AddVersion(ctx, v)
	if err != nil {
		cleanup()
		return Version{}, err
	}
	r.opt.Logger.Info("registry: version registered", "model", name, "version", n, "by", u.By)
	return r.Version(ctx, name, n)
}

func blobKey(sha string) string { return "sha256/" + sha }

// Version returns a version with the aliases pointing at it.
func (r *Registry) Version(ctx context.Context, name string, version int) (Version, error) {
	v, err := r.meta.GetVersion(ctx, name, version)
	if err != nil {
		return Version{}, err
	}
	m, err := r.meta.GetModel(ctx, name)
	if err != nil {
		return Version{}, err
	}
	v.Aliases = aliasesOf(m, version)
	return v, nil
}

func aliasesOf(m Model, version int) []string {
	var out []string
	for a, n := range m.Aliases {
		if n == version {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// Versions lists a model's versions, oldest first.
func (r *Registry) Versions(ctx context.Context, name string) ([]Version, error) {
	vs, err := r.meta.ListVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	m, err := r.meta.GetModel(ctx, name)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		vs[i].Aliases = aliasesOf(m, vs[i].Version)
	}
	return vs, nil
}

// Resolve returns the version a reference names.
func (r *Registry) Resolve(ctx context.Context, ref Ref) (Version, error) {
	if ref.Alias == "" {
		return r.Version(ctx, ref.Model, ref.Version)
	}
	m, err := r.meta.GetModel(ctx, ref.Model)
	if err != nil {
		return Version{}, err
	}
	n, ok := m.Aliases[ref.Alias]
	if !ok {
		return Version{}, fmt.Errorf("alias %s of model %s: %w", ref.Alias, ref.Model, ErrNotFound)
	}
	return r.Version(ctx, ref.Model, n)
}

// ReadFile returns a version's file, verified against its recorded sha256.
func (r *Registry) ReadFile(ctx context.Context, v Version, name string) ([]byte, error) {
	f, ok := v.File(name)
	if !ok {
		return nil, fmt.Errorf("version %d of %s has no file %s: %w", v.Version, v.Model, name, ErrNotFound)
	}
	b, err := r.blobs.Get(ctx, blobKey(f.SHA256))
	if err != nil {
		return nil, fmt.Errorf("read %s of version %d: %w", name, v.Version, err)
	}
	if got := sha256Hex(b); got != f.SHA256 {
		return nil, fmt.Errorf("read %s of version %d: stored bytes have sha256 %s, registered %s: %w",
			name, v.Version, got, f.SHA256, ErrInvalid)
	}
	return b, nil
}

// SetAlias points alias at version when it currently points at expect (ExpectAny, ExpectNone or a version),
// else ErrConflict.
func (r *Registry) SetAlias(ctx context.Context, name, alias string, version, expect int, by, reason string) (AliasMove, error) {
	if err := ValidAlias(alias); err != nil {
		return AliasMove{}, err
	}
	if version < 1 {
		return AliasMove{}, fmt.Errorf("%w: version %d", ErrInvalid, version)
	}
	mv, err := r.meta.MoveAlias(ctx, name, alias, expect, version, by, reason, r.now())
	if err == nil {
		r.opt.Logger.Info("registry: alias moved", "model", name, "alias", alias, "from", mv.From, "to", mv.To, "by", by, "reason", reason)
	}
	return mv, err
}

// DeleteAlias removes an alias (recorded in its history as a move to 0).
func (r *Registry) DeleteAlias(ctx context.Context, name, alias string, expect int, by, reason string) (AliasMove, error) {
	if err := ValidAlias(alias); err != nil {
		return AliasMove{}, err
	}
	return r.meta.MoveAlias(ctx, name, alias, expect, 0, by, reason, r.now())
}

// Rollback moves an alias back to the version it pointed at before its last move (compare-and-set against the
// current one, so a concurrent move makes it fail with ErrConflict rather than undo the wrong move).
func (r *Registry) Rollback(ctx context.Context, name, alias, by, reason string) (AliasMove, error) {
	h, err := r.meta.AliasHistory(ctx, name, alias)
	if err != nil {
		return AliasMove{}, err
	}
	if len(h) == 0 {
		return AliasMove{}, fmt.Errorf("alias %s of %s has no history: %w", alias, name, ErrNotFound)
	}
	last := h[len(h)-1]
	if last.From == 0 {
		return AliasMove{}, fmt.Errorf("%w: alias %s of %s has no earlier version to roll back to", ErrInvalid, alias, name)
	}
	if reason == "" {
		reason = fmt.Sprintf("rollback of move #%d (%d -> %d)", last.Seq, last.From, last.To)
	}
	return r.SetAlias(ctx, name, alias, last.From, last.To, by, reason)
}

// History lists an alias's moves (every alias's when alias is ""), oldest first.
func (r *Registry) History(ctx context.Context, name, alias string) ([]AliasMove, error) {
	if _, err := r.meta.GetModel(ctx, name); err != nil {
		return nil, err
	}
	return r.meta.AliasHistory(ctx, name, alias)
}

// AliasAt returns the version an alias pointed at, at time t (0 when none).
func (r *Registry) AliasAt(ctx context.Context, name, alias string, t time.Time) (int, error) {
	h, err := r.History(ctx, name, alias)
	if err != nil {
		return 0, err
	}
	v := 0
	for _, mv := range h {
		if mv.At.After(t) {
			break
		}
		v = mv.To
	}
	return v, nil
}

// DeleteVersion deletes a version no alias points at, and its files no other version uses.
func (r *Registry) DeleteVersion(ctx context.Context, name string, version int) error {
	v, err := r.meta.GetVersion(ctx, name, version)
	if err != nil {
		return err
	}
	if err := r.meta.DeleteVersion(ctx, name, version); err != nil {
		return err
	}
	used := map[string]bool{}
	models, err := r.meta.ListModels(ctx)
	if err != nil {
		return nil // the version is gone; unused files stay until the next delete
	}
	for _, m := range models {
		vs, err := r.meta.ListVersions(ctx, m.Name)
		if err != nil {
			return nil
		}
		for _, o := range vs {
			for _, f := range o.Files {
				used[f.SHA256] = true
			}
		}
	}
	for _, f := range v.Files {
		if !used[f.SHA256] {
			if err := r.blobs.Delete(ctx, blobKey(f.SHA256)); err != nil {
				r.opt.Logger.Warn("registry: removing a deleted version's file", "sha256", f.SHA256, "err", err)
			}
		}
	}
	return nil
}

// Sweep deletes stored files no version references that were stored more than grace ago (files of a
// registration in progress are younger; a crash between storing files and recording the version leaves such
// orphans). It returns the keys deleted.
func (r *Registry) Sweep(ctx context.Context, grace time.Duration) ([]string, error) {
	used := map[string]bool{}
	models, err := r.meta.ListModels(ctx)
	if err != nil {
		return nil, err
	}
	blobs, err := r.blobs.List(ctx, "sha256/")
	if err != nil {
		return nil, err
	}
	for _, m := range models {
		vs, err := r.meta.ListVersions(ctx, m.Name)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			for _, f := range v.Files {
				used[blobKey(f.SHA256)] = true
			}
		}
	}
	var deleted []string
	cutoff := r.now().Add(-grace)
	for _, b := range blobs {
		if used[b.Key] || b.Modified.After(cutoff) {
			continue
		}
		if err := r.blobs.Delete(ctx, b.Key); err != nil {
			return deleted, err
		}
		deleted = append(deleted, b.Key)
	}
	return deleted, nil
}

// Blobs returns the backend's file store (for tools and tests; files are keyed sha256/HEX).
func (r *Registry) Blobs() Blobs { return r.blobs }

// Seq changes whenever the registry changes.
func (r *Registry) Seq(ctx context.Context) (int64, error) { return r.meta.Seq(ctx) }

// Bootstrap makes a new registry usable: when model DefaultModel has no production alias, it registers the shipped
// model (assets/, all variants with their cards) as version 1 and points production at it. Safe to run by several
// processes at once: one registers, the others wait for its production alias.
func (r *Registry) Bootstrap(ctx context.Context) (Version, error) {
	ref := Ref{Model: DefaultModel, Alias: Production}
	if v, err := r.Resolve(ctx, ref); err == nil {
		return v, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Version{}, err
	}
	_, err := r.CreateModel(ctx, DefaultModel, "digitpad's handwritten digit model", nil)
	if errors.Is(err, ErrExists) {
		m, err := r.meta.GetModel(ctx, DefaultModel)
		if err != nil {
			return Version{}, err
		}
		if m.LatestVersion > 0 {
			return Version{}, fmt.Errorf("model %s has versions but no %s alias: promote one (digitpad registry promote %s VERSION): %w",
				DefaultModel, Production, Production, ErrNotFound)
		}
		// Another process is bootstrapping: wait for its alias.
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if v, err := r.Resolve(ctx, ref); err == nil {
				return v, nil
			}
			select {
			case <-ctx.Done():
				return Version{}, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
		return Version{}, fmt.Errorf("waiting for another process to register the shipped model: %w", ErrNotFound)
	} else if err != nil {
		return Version{}, err
	}
	v, err := r.Register(ctx, DefaultModel, ShippedUpload())
	if err != nil {
		return Version{}, fmt.Errorf("register the shipped model: %w", err)
	}
	if _, err := r.SetAlias(ctx, DefaultModel, Production, v.Version, ExpectNone, "digitpad", "shipped model"); err != nil {
		return Version{}, err
	}
	return r.Version(ctx, DefaultModel, v.Version)
}

// ShippedUpload is the shipped model (assets/) with all its variants and cards.
func ShippedUpload() Upload {
	u := Upload{Files: map[string][]byte{}, Description: "the shipped model (assets/)", Source: "assets/", By: "digitpad"}
	for _, variant := range assets.Variants {
		onnx, card := assets.Variant(variant)
		on, cn, _, ok := VariantFiles(variant)
		if !ok || onnx == nil {
			continue
		}
		u.Files[on] = onnx
		if card != nil {
			u.Files[cn] = card
		}
	}
	return u
}

// Watch sends the version an alias points at: first the current one, then each change, checking every interval
// (the backend's Seq makes a check one cheap query) and at once when a Notifier backend pushes a change. A missing alias is sent as version 0. The channel closes
// when ctx ends.
func (r *Registry) Watch(ctx context.Context, name, alias string, every time.Duration) <-chan int {
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	ch := make(chan int)
	go func() {
		defer close(ch)
		lastSeq, lastV := int64(-1), -1
		t := time.NewTicker(every)
		defer t.Stop()
		var pushed <-chan struct{}
		if n, ok := r.meta.(Notifier); ok {
			pushed = n.Changes(ctx)
		}
		for {
			if seq, err := r.meta.Seq(ctx); err != nil {
				r.opt.Logger.Warn("registry watch: check failed", "err", err)
			} else if seq != lastSeq {
				m, err := r.meta.GetModel(ctx, name)
				switch {
				case err == nil || errors.Is(err, ErrNotFound):
					lastSeq = seq
					v := m.Aliases[alias]
					if v != lastV {
						select {
						case ch <- v:
							lastV = v
						case <-ctx.Done():
							return
						}
					}
				default:
					r.opt.Logger.Warn("registry watch: read failed", "err", err)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-pushed:
			}
		}
	}()
	return ch
}

// HasFile reports whether the backend holds a file with this sha256 (tests use it to check that refused uploads
// leave nothing behind).
func (r *Registry) HasFile(ctx context.Context, sha256 string) (bool, error) {
	return r.blobs.Exists(ctx, blobKey(sha256))
}

// HasVariant reports whether a version holds a variant (fp32, int8, fp16).
func (v Version) HasVariant(variant string) bool {
	on, _, _, ok := VariantFiles(variant)
	if !ok {
		return false
	}
	_, ok = v.File(on)
	return ok
}

// Variant reads a variant's ONNX bytes, its card (the variant's own, else the fp32 card; nil when the version has
// none) and its graph file (nil when the variant has none), each verified against its sha256.
func (r *Registry) Variant(ctx context.Context, v Version, variant string) (onnx, card, graph []byte, err error) {
	on, cn, gn, ok := VariantFiles(variant)
	if !ok {
		return nil, nil, nil, fmt.Errorf("%w: variant %q: want one of %v", ErrInvalid, variant, Variants)
	}
	if onnx, err = r.ReadFile(ctx, v, on); err != nil {
		return nil, nil, nil, err
	}
	for _, name := range []string{cn, FileCard} {
		if _, ok := v.File(name); ok {
			if card, err = r.ReadFile(ctx, v, name); err != nil {
				return nil, nil, nil, err
			}
			break
		}
	}
	if _, ok := v.File(gn); gn != "" && ok {
		if graph, err = r.ReadFile(ctx, v, gn); err != nil {
			return nil, nil, nil, err
		}
	}
	return onnx, card, graph, nil
}
