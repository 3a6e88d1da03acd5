package monitor

import (
	"math"
	"slices"
	"time"
)

// Snapshot is the monitoring state of one model version: its aggregate stream (all clients) and one entry per
// labelled client. It is the JSON body of GET /v1/monitoring.
type Snapshot struct {
	Model ModelRef `json:"model"`
	StreamState
	Clients []StreamState `json:"clients"`
	// Dropped counts predictions not monitored because the worker's queue was full.
	Dropped uint64 `json:"dropped"`
}

// ModelRef names a model version.
type ModelRef struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	// Profile reports whether the model card has a reference profile (without one there are no drift tests and
	// no estimate).
	Profile bool `json:"profile"`
}

// StreamState is one stream's windows, tests and rates.
type StreamState struct {
	Client string `json:"client"`
	// Predictions counts what the stream has seen since it started (or since the client became labelled).
	Predictions int        `json:"predictions"`
	Window      WindowInfo `json:"window"`
	Drift       Drift      `json:"drift"`
	// TimeDrift is the same tests on the time window (nil until it holds enough predictions).
	TimeDrift *TimeDrift `json:"time_drift,omitempty"`
	Accuracy  Accuracy   `json:"accuracy"`
	Rates     Rates      `json:"rates"`
}

// WindowInfo describes the count window last evaluated.
type WindowInfo struct {
	Size      int        `json:"size"`
	Since     *time.Time `json:"since"`
	Evaluated *time.Time `json:"evaluated"`
}

// Drift is the verdict of the tests on a window.
type Drift struct {
	Detected bool   `json:"detected"`
	Tests    []Test `json:"tests"`
}

// TimeDrift is the verdict on the time window.
type TimeDrift struct {
	Seconds float64 `json:"seconds"`
	Size    int     `json:"size"`
	Drift
}

// Accuracy compares the estimate from calibrated confidences with what clerks' feedback measured.
type Accuracy struct {
	// Estimated is the mean calibrated confidence of the window's digits (CBPE-like); nil without a profile.
	Estimated *float64 `json:"estimated"`
	// Reference is the digit accuracy measured on the reference data.
	Reference *float64 `json:"reference"`
	// Online is the digit accuracy from feedback (digits of codes segmented into the right count), with a 95%
	// Wilson interval.
	Online     *float64 `json:"online"`
	OnlineN    int      `json:"online_n"`
	OnlineLow  *float64 `json:"online_low"`
	OnlineHigh *float64 `json:"online_high"`
}

// Rates are shares with 95% Wilson intervals: Confirm of predictions that flagged a digit for the clerk to
// confirm, Correction of feedback whose confirmed code differs from the prediction.
type Rates struct {
	Confirm      *float64  `json:"confirm"`
	ConfirmN     int       `json:"confirm_n"`
	ConfirmCI    []float64 `json:"confirm_ci"`
	Correction   *float64  `json:"correction"`
	CorrectionN  int       `json:"correction_n"`
	CorrectionCI []float64 `json:"correction_ci"`
}

func num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	x = round6(x)
	return &x
}

func (s *stream) state(client string, p *Profile, timeWindow time.Duration) StreamState {
	st := StreamState{Client: client, Predictions: s.total, Drift: Drift{Tests: []Test{}}}
	if e := s.count; e != nil {
		st.Window = WindowInfo{Size: e.size, Since: ptime(e.since), Evaluated: ptime(e.at)}
		st.Drift = Drift{Detected: e.detected, Tests: slices.Clone(e.tests)}
		st.Accuracy.Estimated = num(e.estimated)
	}
	if e := s.timed; e != nil {
		st.TimeDrift = &TimeDrift{Seconds: timeWindow.Seconds(), Size: e.size,
			Drift: Drift{Detected: e.detected, Tests: slices.Clone(e.tests)}}
	}
	if p != nil {
		st.Accuracy.Reference = num(p.Accuracy)
	}
	if s.labelled > 0 {
		w := wilson(s.right, s.labelled)
		st.Accuracy.Online, st.Accuracy.OnlineLow, st.Accuracy.OnlineHigh = num(w.Rate), num(w.Low), num(w.High)
	}
	st.Accuracy.OnlineN = s.labelled
	if s.predictions > 0 {
		w := wilson(s.flagged, s.predictions)
		st.Rates.Confirm, st.Rates.ConfirmCI = num(w.Rate), []float64{round6(w.Low), round6(w.High)}
	}
	st.Rates.ConfirmN = s.predictions
	if s.checked > 0 {
		w := wilson(s.corrected, s.checked)
		st.Rates.Correction, st.Rates.CorrectionCI = num(w.Rate), []float64{round6(w.Low), round6(w.High)}
	}
	st.Rates.CorrectionN = s.checked
	return st
}

func ptime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// Snapshot returns the state of a model version ("" = the active one). With client set, the aggregate is that
// client's stream (its label, or "other" when it is not among the busiest) and Clients lists only it. ok is false
// when the model is unknown.
func (m *Monitor) Snapshot(model, client string) (Snapshot, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if model == "" {
		model = m.active
	}
	me := m.models[model]
	if me == nil {
		return Snapshot{Clients: []StreamState{}}, false
	}
	snap := Snapshot{Model: ModelRef{Name: me.name, SHA256: me.sha, Profile: me.profile != nil}, Dropped: m.dropped,
		Clients: []StreamState{}}
	get := func(c string) StreamState {
		if s := m.streams[streamKey{model, c}]; s != nil {
			return s.state(c, me.profile, m.cfg.TimeWindow)
		}
		return (&stream{}).state(c, me.profile, m.cfg.TimeWindow)
	}
	if client != "" {
		label := client
		if !m.clients.labelled(client) {
			label = OtherClients
		}
		snap.StreamState = get(label)
		snap.Clients = append(snap.Clients, snap.StreamState)
		return snap, true
	}
	snap.StreamState = get(AllClients)
	for k := range m.streams {
		if k.model == model && k.client != AllClients {
			snap.Clients = append(snap.Clients, get(k.client))
		}
	}
	slices.SortFunc(snap.Clients, func(a, b StreamState) int { return b.Predictions - a.Predictions })
	return snap, true
}

// Series is one stream's numbers for metrics.
type Series struct {
	Model, ModelName, Client string
	Active                   bool
	Tests                    []Test
	Detected                 bool
	Estimated, Online        *float64
	Reference                *float64
	Confirm, Correction      *float64
}

// AllSeries lists every stream of every kept model version, for a metrics collector (bounded: at most 3 model
// versions × (MaxClients + 2) clients).
func (m *Monitor) AllSeries() []Series {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Series
	for k, s := range m.streams {
		me := m.models[k.model]
		if me == nil {
			continue
		}
		st := s.state(k.client, me.profile, m.cfg.TimeWindow)
		out = append(out, Series{Model: k.model, ModelName: me.name, Client: k.client, Active: k.model == m.active,
			Tests: st.Drift.Tests, Detected: st.Drift.Detected, Estimated: st.Accuracy.Estimated,
			Online: st.Accuracy.Online, Reference: st.Accuracy.Reference, Confirm: st.Rates.Confirm, Correction: st.Rates.Correction})
	}
	return out
}
