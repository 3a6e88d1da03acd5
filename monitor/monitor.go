package monitor

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config tunes a Monitor. Zero values take the defaults noted.
type Config struct {
	// Clock returns the time (default time.Now); tests inject their own.
	Clock func() time.Time
	// Window is the count window: the last Window predictions of a stream (default 100, one of WindowSizes).
	Window int
	// Every evaluates a stream's windows after this many new predictions (default Window/4).
	Every int
	// TimeWindow is the time window: predictions of the last TimeWindow (default 15 minutes), at most the
	// largest calibrated window size, judged with the thresholds of the largest calibrated size it fills.
	TimeWindow time.Duration
	// MaxClients is how many clients get their own label (the busiest; default 8); the rest are "other".
	MaxClients int
	// Queue bounds predictions waiting for the background worker (default 4096); beyond it they are dropped
	// (and counted), so monitoring never slows predictions down.
	Queue int
	// Seed drives the MMD permutations.
	Seed uint64
	// MaxRate caps the predictions per second the worker takes (0: no cap); beyond it predictions are skipped
	// and counted as sampled out, so monitoring costs a bounded share of CPU whatever the traffic (features and
	// a kernel row per digit, the window tests every Every predictions; a prediction without serving-pass
	// embeddings also costs a model run). Bursts of up to ten seconds' worth are taken whole.
	MaxRate float64
}

// Client labels with a special meaning.
const (
	AllClients   = "all"   // every client of a model together
	OtherClients = "other" // clients beyond the MaxClients busiest
)

func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Window <= 0 {
		c.Window = 100
	}
	if c.Every <= 0 {
		c.Every = max(1, c.Window/4)
	}
	if c.TimeWindow <= 0 {
		c.TimeWindow = 15 * time.Minute
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 8
	}
	if c.Queue <= 0 {
		c.Queue = 4096
	}
	return c
}

// maxModels bounds the model versions whose streams are kept (the active one and the previous ones).
const maxModels = 3

// Monitor keeps windows per model version and client and judges them against each model's reference profile.
// Observe and Feedback are cheap and safe for concurrent use; the work happens in Process, called by the
// background worker Start runs (or directly, synchronously, by tests).
type Monitor struct {
	cfg   Config
	queue chan Prediction
	done  chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	models  map[string]*modelEntry
	order   []string // model sha256s, oldest first
	active  string
	streams map[streamKey]*stream
	clients *topClients
	rng     *rand.Rand
	work    mmdWork // scratch of the MMD test
	dropped uint64

	sample     *rate.Limiter // nil: no cap (Config.MaxRate)
	sampledOut uint64
}

type modelEntry struct {
	name, sha string
	profile   *Profile
	embed     Embedder
}

type streamKey struct{ model, client string }

// stream is one (model, client) sequence of predictions.
type stream struct {
	ring      []codeRec
	next      int
	n         int // predictions held
	total     int
	sinceEval int
	since     time.Time // first prediction

	count, timed *evaluation

	predictions, flagged int // all / with a confirm flag
	checked, corrected   int // feedback naming the prediction / with a different code
	labelled, right      int // labelled digits / right ones
}

type evaluation struct {
	at, since time.Time
	size      int
	tests     []Test
	detected  bool
	estimated float64
}

// New makes a Monitor; call Start to run its worker.
func New(cfg Config) *Monitor {
	cfg = cfg.withDefaults()
	m := &Monitor{cfg: cfg, queue: make(chan Prediction, cfg.Queue), done: make(chan struct{}),
		models: map[string]*modelEntry{}, streams: map[streamKey]*stream{},
		clients: newTopClients(cfg.MaxClients), rng: rand.New(rand.NewPCG(cfg.Seed, 7))}
	if cfg.MaxRate > 0 {
		m.sample = rate.NewLimiter(rate.Limit(cfg.MaxRate), max(1, int(10*cfg.MaxRate)))
	}
	return m
}

// Start runs the background worker until Close.
func (m *Monitor) Start() {
	m.wg.Go(func() {
		for {
			select {
			case p := <-m.queue:
				m.Process(p)
			case <-m.done:
				return
			}
		}
	})
}

// Close stops the worker; queued predictions are dropped.
func (m *Monitor) Close() {
	select {
	case <-m.done:
	default:
		close(m.done)
	}
	m.wg.Wait()
}

// SetModel registers a model version (sha256) with its reference profile (nil: drift and the estimate are
// skipped, label-based rates still count) and embedder, and makes it the active one.
func (m *Monitor) SetModel(name, sha string, p *Profile, e Embedder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.models[sha]; !ok {
		m.order = append(m.order, sha)
	}
	if p != nil {
		p.prepare()
	}
	m.models[sha] = &modelEntry{name: name, sha: sha, profile: p, embed: e}
	m.active = sha
	for len(m.order) > maxModels {
		old := m.order[0]
		m.order = m.order[1:]
		delete(m.models, old)
		for k := range m.streams {
			if k.model == old {
				delete(m.streams, k)
			}
		}
	}
}

// Observe queues a prediction for the worker; it never blocks (a full queue drops it and counts the drop).
// Beyond Config.MaxRate it skips the prediction and counts it as sampled out.
func (m *Monitor) Observe(p Prediction) {
	if m.sample != nil && !m.sample.AllowN(m.cfg.Clock(), 1) {
		m.mu.Lock()
		m.sampledOut++
		m.mu.Unlock()
		return
	}
	select {
	case m.queue <- p:
	default:
		m.mu.Lock()
		m.dropped++
		m.mu.Unlock()
	}
}

// SampledOut is the number of predictions Observe skipped beyond Config.MaxRate.
func (m *Monitor) SampledOut() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sampledOut
}

// Dropped is the number of predictions Observe dropped because the queue was full.
func (m *Monitor) Dropped() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}

// Process summarises one prediction (features, embedding) and adds it to its streams, evaluating windows that are
// due.
func (m *Monitor) Process(p Prediction) {
	if p.Time.IsZero() {
		p.Time = m.cfg.Clock()
	}
	m.mu.Lock()
	me := m.models[p.Model]
	m.mu.Unlock()
	if me == nil {
		return
	}
	var emb []float32
	dim := 0
	if me.profile != nil {
		dim = me.profile.Embedding.Dim
		// The serving pass's embeddings when the prediction has them, else the model is run again.
		if emb = servedEmbeddings(p.Digits, dim); emb == nil && me.embed != nil && me.embed.Dim() == dim {
			emb, _ = embedAll(me.embed, p.Digits) // without an embedding the MMD test skips this prediction
		}
	}
	rec := summarise(&p, emb, dim)
	if me.profile != nil {
		for i := range rec.digits {
			if rec.digits[i].raw != nil {
				rec.digits[i].embed(me.profile, rec.digits[i].raw)
				rec.digits[i].raw = nil
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	label := m.clientLabel(p.Model, p.Client)
	for _, c := range []string{AllClients, label} {
		s := m.stream(p.Model, c)
		s.add(rec, m.keep())
		if rec.confirm {
			s.flagged++
		}
		s.predictions++
		s.sinceEval++
		if me.profile != nil && (s.sinceEval >= m.cfg.Every || s.count == nil && s.n >= m.cfg.Window) && s.n >= WindowSizes[0] {
			s.sinceEval = 0
			m.evaluate(s, me.profile, p.Time)
		}
	}
}

func (m *Monitor) keep() int { return max(m.cfg.Window, WindowSizes[len(WindowSizes)-1]) }

func (m *Monitor) stream(model, client string) *stream {
	k := streamKey{model, client}
	s := m.streams[k]
	if s == nil {
		s = &stream{}
		m.streams[k] = s
	}
	return s
}

// clientLabel is the client's own label when it is among the busiest, else "other"; streams of clients that
// left the top are removed.
func (m *Monitor) clientLabel(model, client string) string {
	if client == "" {
		client = "unknown"
	}
	if client == AllClients || client == OtherClients {
		client += "_" // a client may not pose as an aggregate
	}
	changed := m.clients.add(client)
	if changed {
		for k := range m.streams {
			if k.client != AllClients && k.client != OtherClients && !m.clients.labelled(k.client) {
				delete(m.streams, k)
			}
		}
	}
	if m.clients.labelled(client) {
		return client
	}
	return OtherClients
}

func (s *stream) add(r codeRec, keep int) {
	if s.ring == nil {
		s.ring = make([]codeRec, keep)
		s.since = r.t
	}
	s.ring[s.next] = r
	s.next = (s.next + 1) % len(s.ring)
	s.n = min(s.n+1, len(s.ring))
	s.total++
}

// last returns the most recent k predictions, oldest first.
func (s *stream) last(k int) []*codeRec {
	k = min(k, s.n)
	out := make([]*codeRec, k)
	for i := range k {
		out[i] = &s.ring[(s.next-k+i+2*len(s.ring))%len(s.ring)]
	}
	return out
}

func (m *Monitor) evaluate(s *stream, p *Profile, now time.Time) {
	win := s.last(m.cfg.Window)
	if ts, wc := p.evaluate(win, m.rng, &m.work); ts != nil {
		s.count = newEvaluation(p, win[len(win)-wc.Size:], ts, now)
	}
	var recent []*codeRec
	for _, r := range s.last(s.n) {
		if now.Sub(r.t) <= m.cfg.TimeWindow {
			recent = append(recent, r)
		}
	}
	// The time window reports the MMD statistic against its threshold without the permutation p-value: the
	// permutations are the costly part and the count window already has them.
	if ts, wc := p.evaluate(recent, nil, &m.work); ts != nil {
		s.timed = newEvaluation(p, recent[len(recent)-wc.Size:], ts, now)
	} else {
		s.timed = nil
	}
}

func newEvaluation(p *Profile, win []*codeRec, ts []Test, now time.Time) *evaluation {
	e := &evaluation{at: now, since: win[0].t, size: len(win), tests: ts}
	for _, t := range ts {
		e.detected = e.detected || t.Detected
	}
	n, sum := 0, 0.0
	for _, c := range win {
		for _, d := range c.digits {
			sum += p.calibrated(d.conf)
			n++
		}
	}
	if n > 0 {
		e.estimated = sum / float64(n)
	} else {
		e.estimated = math.NaN()
	}
	return e
}

// Feedback is what monitoring needs of a clerk's feedback record.
type Feedback struct {
	Model, Client string
	// Predicted is the code the model proposed; Code the confirmed one.
	Predicted, Code string
	// Predicted digits and confirmed labels, one per segmented digit, when the record has them.
	PredictedDigits []int
	Labels          []int
}

// Feedback counts a clerk's answer: the correction rate (confirmed code differs from the prediction) and, where
// digits line up, the measured digit accuracy.
func (m *Monitor) Feedback(f Feedback) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.models[f.Model]; !ok {
		return
	}
	label := m.clientLabel(f.Model, f.Client)
	pred, lab := f.PredictedDigits, f.Labels
	if len(pred) == 0 || len(pred) != len(lab) {
		pred, lab = digitsOf(f.Predicted), digitsOf(f.Code)
	}
	for _, c := range []string{AllClients, label} {
		s := m.stream(f.Model, c)
		if f.Predicted != "" {
			s.checked++
			if f.Predicted != f.Code {
				s.corrected++
			}
		}
		// As on the reference: digits count where the code was segmented into the right number of digits.
		if len(pred) > 0 && len(pred) == len(lab) {
			for i := range pred {
				s.labelled++
				if pred[i] == lab[i] {
					s.right++
				}
			}
		}
	}
}

func digitsOf(code string) []int {
	out := make([]int, 0, len(code))
	for _, r := range code {
		if r < '0' || r > '9' {
			return nil
		}
		out = append(out, int(r-'0'))
	}
	return out
}

// topClients keeps approximate request counts of a bounded number of clients (space-saving: a new client
// replaces the least busy one and inherits its count) and which of them are the busiest.
type topClients struct {
	n      int
	counts map[string]int
	top    map[string]bool
	adds   int
}

func newTopClients(n int) *topClients {
	return &topClients{n: n, counts: map[string]int{}, top: map[string]bool{}}
}

// add counts one request and reports whether the set of labelled clients changed.
func (t *topClients) add(c string) bool {
	if _, ok := t.counts[c]; !ok && len(t.counts) >= 4*t.n {
		minK, minV := "", math.MaxInt
		for k, v := range t.counts {
			if v < minV || v == minV && k < minK {
				minK, minV = k, v
			}
		}
		delete(t.counts, minK)
		t.counts[c] = minV
	}
	t.counts[c]++
	t.adds++
	if t.top[c] {
		return false
	}
	if len(t.top) < t.n { // a free label
		t.top[c] = true
		return false
	}
	if t.adds%32 != 0 {
		return false
	}
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range t.counts {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int { return cmp.Or(b.v-a.v, cmp.Compare(a.k, b.k)) })
	top := map[string]bool{}
	for _, e := range all[:min(t.n, len(all))] {
		top[e.k] = true
	}
	changed := len(top) != len(t.top)
	for k := range top {
		changed = changed || !t.top[k]
	}
	t.top = top
	return changed
}

func (t *topClients) labelled(c string) bool { return t.top[c] }
