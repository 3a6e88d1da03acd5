package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"digitpad/assets"
	"digitpad/registry"
	regopen "digitpad/registry/open"
	"digitpad/server/internal/memstore"
	"digitpad/server/store"
	"digitpad/server/store/open"
	"digitpad/shared/protocol"
)

// Main runs `digitpad serve` until ctx ends (the CLI cancels it on SIGINT/SIGTERM), then shuts down gracefully.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	p := NewProgram(stdout, stderr)
	if err := p.ParseFlags(args); err != nil {
		return err
	}
	return p.Main(ctx)
}

// Program is `digitpad serve` as a value (flags -> Run -> Close), so tests and other mains can drive the real
// command in-process and set what flags cannot (Web, Loader).
type Program struct {
	Stdout, Stderr io.Writer
	Config         Config
	// DB is the store DSN: sqlite:FILE, FILE, postgres://..., or mem: (in memory; nothing persists).
	DB string
	// DataDir holds the default SQLite file and the generated token.
	DataDir string
	// TokenFile holds the bearer token.
	TokenFile string
	// ModelFile is an ONNX file (card: the .json beside it), a registry URI (models:/NAME@ALIAS, followed as the
	// alias moves, or models:/NAME/VERSION); empty means the embedded shipped model.
	ModelFile string
	// Registry is where the model registry lives (Registry.Registry empty: DATA/registry when DataDir is set);
	// RegistryPoll is how often a followed alias is checked.
	Registry     regopen.Location
	RegistryPoll time.Duration
	// Variant picks the embedded model variant (fp32, int8, fp16 or auto) when ModelFile is empty.
	Variant string
	// LogJSON and LogLevel configure logging.
	LogJSON  bool
	LogLevel slog.Level
	// ShutdownTimeout bounds the graceful drain.
	ShutdownTimeout time.Duration
	// GCPercent is the garbage collector's GOGC for the process (0: leave the runtime's setting); the GOGC
	// environment variable, when set, wins. MemoryLimit (bytes, 0: none) is the bound the process's memory stays
	// under: 3/4 of it is the soft heap limit (GOMEMLIMIT), which makes the collector work harder as the heap nears
	// it whatever GCPercent says, and 1/4 the decode budget (default DefaultMemoryLimit with the flags).
	GCPercent   int
	MemoryLimit int64
	// Web, when set, serves the web pad at "/".
	Web http.Handler
	// Candidate is the registry alias served beside production in shadow and/or as a canary (--shadow ALIAS,
	// --canary ALIAS; Config.Rollout says how).
	Candidate string

	Server   *Server
	store    store.Store
	registry *registry.Registry
	unfollow context.CancelFunc
	uncand   context.CancelFunc
	start    time.Time
}

// DefaultMemoryLimit is the default soft heap limit of `digitpad serve` (512 MB); a quarter of it is the default
// decode budget, so that no mix of requests takes the process's memory far beyond it.
const DefaultMemoryLimit = 512 << 20

// NewProgram returns a Program with the defaults of the flags.
func NewProgram(stdout, stderr io.Writer) *Program {
	return &Program{Stdout: stdout, Stderr: stderr, start: time.Now()}
}

// ParseFlags reads `digitpad serve` flags.
func (p *Program) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(p.Stderr)
	c := &p.Config
	l := protocol.DefaultLimits()
	var origins, proxies, shadowAlias, canaryAlias string
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&p.DB, "db", "", "store: sqlite:FILE | postgres://... | mem: (default sqlite:DATA/digitpad.db)")
	fs.StringVar(&p.DataDir, "data", "data", "data folder for the default SQLite store and generated token")
	fs.StringVar(&p.TokenFile, "token-file", "", "file with the bearer token for feedback/admin (default DATA/token, created if missing)")
	fs.StringVar(&p.ModelFile, "model", "models:/digitpad@production", "model to serve: models:/NAME@ALIAS (follows the alias as it moves), models:/NAME/VERSION, "+
		"an ONNX file (card: same name .json), or \"\" for the embedded model")
	fs.StringVar(&p.Registry.Registry, "registry", os.Getenv(regopen.EnvRegistry), "model registry: a directory (created when missing; default DATA/registry) or a PostgreSQL DSN (then --registry-blobs); env "+regopen.EnvRegistry)
	fs.StringVar(&p.Registry.Blobs, "registry-blobs", os.Getenv(regopen.EnvBlobs), "S3 URL for the files of a PostgreSQL registry: s3://BUCKET/PREFIX (AWS_* environment for credentials, region, endpoint); env "+regopen.EnvBlobs)
	fs.DurationVar(&p.RegistryPoll, "registry-poll", 500*time.Millisecond, "how often a followed registry alias is checked for moves (a PostgreSQL registry also pushes moves at once)")
	fs.StringVar(&p.Variant, "variant", "auto", "model variant (embedded model or registry version): fp32, int8, fp16, or auto (the fastest here: int8 where the CPU has an int8 dot-product kernel and the version has it, else fp32)")
	fs.BoolVar(&c.OpenPredict, "open-predict", true, "allow prediction without the token")
	fs.BoolVar(&c.OpenFeedback, "open-feedback", false, "allow feedback without the token (trusted kiosk networks)")
	fs.IntVar(&c.BatchMax, "batch-max", 64, "most canvases per batched model call")
	fs.DurationVar(&c.BatchWait, "batch-wait", 0, "how long a partial batch waits for more canvases (0: never; a worker batches what is already queued)")
	fs.IntVar(&c.Workers, "workers", runtime.GOMAXPROCS(0), "model workers")
	fs.IntVar(&c.Queue, "queue", 1024, "canvases that may wait for a worker; beyond: 503 overloaded")
	fs.IntVar(&c.MaxInFlight, "max-inflight", 2*runtime.GOMAXPROCS(0), "predictions in work at once (HTTP and websocket); more wait in a queue")
	fs.Float64Var(&c.Monitor.MaxRate, "monitor-rate", 100, "predictions per second the drift monitor takes at most (0: all); the rest are counted in digitpad_monitor_sampled_out_total. The cap bounds the monitor's CPU (features, kernel rows and window tests per prediction; embeddings come from the serving pass)")
	fs.DurationVar(&c.LatencyObjective, "latency-objective", 100*time.Millisecond, "p99 latency objective: predictions wait for a slot while that fits, beyond it 503 overloaded (negative: no queue)")
	fs.IntVar(&l.MaxBatchItems, "max-batch-items", l.MaxBatchItems, "items per /v1/predict/batch request")
	fs.IntVar(&l.MaxMessageBytes, "max-body", l.MaxMessageBytes, "bytes per request body or websocket message")
	fs.IntVar(&l.MaxPixels, "max-pixels", l.MaxPixels, "pixels per image or canvas")
	fs.Float64Var(&c.RateLimit, "rate", 200, "requests per second per client (bearer token + client id, else address; HTTP and websocket together); 0: unlimited")
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated CIDRs of proxies/load balancers whose forwarding header names the client address")
	fs.StringVar(&c.ProxyHeader, "proxy-header", "X-Forwarded-For", "forwarding header the trusted proxies write: X-Forwarded-For or Forwarded")
	fs.IntVar(&c.RateBurst, "burst", 0, "rate-limit burst (default 2×rate)")
	fs.StringVar(&origins, "allowed-origins", "", "comma-separated extra browser origins allowed on /v1/ws (* for any)")
	fs.BoolVar(&p.LogJSON, "log-json", false, "JSON logs")
	fs.TextVar(&p.LogLevel, "log-level", slog.LevelInfo, "log level (debug logs every request)")
	fs.DurationVar(&c.LogInterval, "log-interval", 100*time.Millisecond, "how often answered predictions are written to the store; a process death loses those not yet written (counted in digitpad_prediction_log_lost_total at the next start)")
	fs.BoolVar(&c.KeepInk, "keep-ink", false, "store uploaded images with logged predictions")
	fs.StringVar(&c.Format, "format", "", "default code format: digit count or regular expression")
	fs.Float64Var(&c.Threshold, "threshold", 0, "confirm score (code confidence, lowered for short digits by the card's confirm model) below which a code asks to confirm, its doubtful digits flagged (default: the model card's)")
	fs.DurationVar(&p.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "graceful drain limit on SIGTERM")
	fs.IntVar(&p.GCPercent, "gogc", 400, "garbage collector target (GOGC) for the server; the GOGC environment variable wins. "+
		"A request allocates ~55 KB and live data is a few MB, so the Go default of 100 collects hundreds of times a second under load; 0: leave the runtime's setting")
	fs.Int64Var(&p.MemoryLimit, "memory-limit", DefaultMemoryLimit, "bytes the server's memory stays under (0: no bound): the Go soft heap limit (GOMEMLIMIT) is set to 3/4 of it, leaving room for memory outside the heap and the collector's lag, and a quarter of it bounds the bytes of images being decoded at once (--decode-budget); the GOMEMLIMIT environment variable wins for the heap limit")
	fs.DurationVar(&c.Retain.MaxAge, "retain", 30*24*time.Hour, "delete logged predictions older than this (0: keep forever); feedback is never deleted")
	fs.Int64Var(&c.Retain.MaxBytes, "retain-bytes", 1<<30, "delete the oldest logged predictions beyond this many payload bytes (0: no limit)")
	fs.DurationVar(&c.RetainEvery, "retain-every", 5*time.Minute, "how often retention runs and digitpad_prediction_log_bytes is measured")
	fs.IntVar(&c.MaxConns, "max-conns", 4096, "most open client connections (HTTP and websocket); 16 more are kept for /healthz, /readyz and /metrics")
	fs.IntVar(&c.MaxWebsockets, "max-websockets", 0, "most open websockets (default max-conns/2); beyond: 503 overloaded")
	fs.Int64Var(&c.BodyBudget, "body-budget", 0, "bytes of prediction request bodies being received and worked on at once, each received byte counted 4 times for its copies (default: half the decode budget); beyond it bodies wait up to Retry-After, then 503 overloaded")
	fs.Int64Var(&c.DecodeBudget, "decode-budget", 0, "bytes decoded images and their working planes may hold at once, counted from image headers before decoding (default: a quarter of --memory-limit, or 128 MB)")
	fs.StringVar(&shadowAlias, "shadow", "", "registry alias (e.g. candidate) to run beside production on a sample of live predictions without returning its answers; agreement and accuracy per version at /v1/rollout and in digitpad_shadow_* metrics")
	fs.Float64Var(&c.Rollout.ShadowRate, "shadow-rate", 0.25, "share of production's predictions re-run on the shadow (off the request path; a full queue drops)")
	fs.IntVar(&c.Rollout.ShadowQueue, "shadow-queue", 64, "canvases waiting for the shadow at most; beyond, they are dropped (digitpad_shadow_predictions_total{result=\"dropped\"})")
	fs.StringVar(&canaryAlias, "canary", "", "registry alias (e.g. candidate) served to --canary-share of websocket clients (chosen by client id) and rolled back (alias deleted) when their correction rate is significantly worse than production's")
	fs.Float64Var(&c.Rollout.CanaryShare, "canary-share", 0.1, "share of websocket clients in the canary (with --canary)")
	fs.IntVar(&c.Rollout.Canary.MinSample, "canary-min", 100, "confirmed codes per arm before the canary's first look, and canary codes between looks")
	fs.Float64Var(&c.Rollout.Canary.Alpha, "canary-alpha", 0.05, "chance, over all looks, of rolling back a candidate no worse than production (look k tests at alpha/2^k)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.Rollout.Shadow = shadowAlias != ""
	if canaryAlias == "" {
		c.Rollout.CanaryShare = 0
	}
	if shadowAlias != "" && canaryAlias != "" && shadowAlias != canaryAlias {
		return fmt.Errorf("serve: --shadow %s and --canary %s: one candidate alias at a time", shadowAlias, canaryAlias)
	}
	p.Candidate = cmp.Or(shadowAlias, canaryAlias)
	if c.Rollout.CanaryShare < 0 || c.Rollout.CanaryShare > 1 || c.Rollout.ShadowRate <= 0 || c.Rollout.ShadowRate > 1 {
		return fmt.Errorf("serve: --canary-share and --shadow-rate are shares in (0, 1]")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	c.Limits = l
	if proxies != "" {
		c.TrustedProxies = strings.Split(proxies, ",")
	}
	if c.DecodeBudget <= 0 && p.MemoryLimit > 0 {
		c.DecodeBudget = p.MemoryLimit / 4
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	return nil
}

// Main runs the server until ctx ends, then closes it.
func (p *Program) Main(ctx context.Context) error {
	if err := p.Run(ctx); err != nil {
		_ = p.Close()
		return err
	}
	<-ctx.Done()
	return p.Close()
}

// Run opens the store, loads the model and starts serving; it returns once the server is ready.
func (p *Program) Run(ctx context.Context) error {
	var h slog.Handler
	opts := &slog.HandlerOptions{Level: p.LogLevel}
	if p.LogJSON {
		h = slog.NewJSONHandler(p.Stderr, opts)
	} else {
		h = slog.NewTextHandler(p.Stderr, opts)
	}
	log := slog.New(h)
	p.Config.Logger = log
	p.tuneGC(log)
	if p.Web != nil {
		p.Config.Web = p.Web
	}

	dsn := p.DB
	if dsn == "" || (p.TokenFile == "" && p.DataDir != "") {
		if err := os.MkdirAll(p.DataDir, 0o700); err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
	}
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(p.DataDir, "digitpad.db")
	}
	tok, err := p.token(log)
	if err != nil {
		return err
	}
	p.Config.Token = tok

	if dsn == "mem:" {
		p.store = memstore.New()
		log.Warn("in-memory store: predictions and feedback are lost on exit")
	} else if p.store, err = open.Open(ctx, dsn); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	p.Config.Store = p.store
	if dsn != "mem:" && p.DataDir != "" && p.Config.LossJournal == "" {
		if err := os.MkdirAll(p.DataDir, 0o700); err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
		p.Config.LossJournal = filepath.Join(p.DataDir, "prediction-log.journal")
	}

	variant := p.Variant
	if variant == "" || variant == "auto" {
		variant = assets.FastestVariant()
	}
	onnx, card := assets.Variant(variant)
	if onnx == nil {
		return fmt.Errorf("model variant %q: want one of %v or auto", p.Variant, assets.Variants)
	}
	if err := p.openRegistry(ctx, log); err != nil {
		return err
	}
	if p.ModelFile != "" && !registry.IsURI(p.ModelFile) {
		if onnx, err = os.ReadFile(p.ModelFile); err != nil {
			return fmt.Errorf("read model: %w", err)
		}
		card, _ = os.ReadFile(strings.TrimSuffix(p.ModelFile, ".onnx") + ".json") // optional
	}
	srv, err := New(p.Config)
	if err != nil {
		return err
	}
	p.Server = srv
	if registry.IsURI(p.ModelFile) {
		if err := p.follow(ctx, srv); err != nil {
			return fmt.Errorf("model: %w", err)
		}
	} else if err := srv.SetModel(onnx, card); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if p.Candidate != "" {
		if err := p.followCandidate(ctx, srv); err != nil {
			return fmt.Errorf("candidate: %w", err)
		}
	}
	if err := srv.Open(); err != nil {
		return err
	}
	log.Info("ready", "url", srv.URL(), "store", storeKind(dsn), "model", srv.ModelInfo().Name,
		"startup", time.Since(p.start).Round(time.Millisecond))
	fmt.Fprintf(p.Stdout, "digitpad serving on %s (API docs: %s/docs)\n", srv.URL(), srv.URL())
	p.printEnrolment(ctx, srv.URL())
	return nil
}

// Close shuts the server down gracefully and closes the store.
func (p *Program) Close() error {
	var errs []error
	if p.unfollow != nil {
		p.unfollow()
	}
	if p.uncand != nil {
		p.uncand()
	}
	if p.Server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), p.ShutdownTimeout)
		errs = append(errs, p.Server.Shutdown(ctx))
		cancel()
	}
	if p.registry != nil {
		errs = append(errs, p.registry.Close())
	}
	if p.store != nil {
		errs = append(errs, p.store.Close())
	}
	return errors.Join(errs...)
}

// tuneGC applies GCPercent and MemoryLimit unless the environment sets GOGC or GOMEMLIMIT.
func (p *Program) tuneGC(log *slog.Logger) {
	if p.GCPercent > 0 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(p.GCPercent)
		log.Debug("garbage collector target set", "gogc", p.GCPercent)
	}
	if p.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(p.MemoryLimit / 4 * 3)
		log.Debug("soft memory limit set", "bytes", p.MemoryLimit/4*3, "bound", p.MemoryLimit)
	}
}

// token reads --token-file, or DATA/token (created with a random token when missing). With neither, the token
// routes stay locked.
func (p *Program) token(log *slog.Logger) (string, error) {
	path := p.TokenFile
	if path == "" && p.DataDir != "" {
		path = filepath.Join(p.DataDir, "token")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			var b [32]byte
			_, _ = rand.Read(b[:])
			if err := os.WriteFile(path, []byte(hex.EncodeToString(b[:])+"\n"), 0o600); err != nil {
				return "", fmt.Errorf("write token: %w", err)
			}
			log.Info("generated a bearer token for feedback and admin routes", "file", path)
		}
	}
	if path == "" {
		log.Warn("no token: feedback and admin routes are locked")
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, nil
}

func storeKind(dsn string) string {
	if dsn == "mem:" {
		return "memory"
	}
	kind, _, _ := open.Parse(dsn)
	return kind
}
