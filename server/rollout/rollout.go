// Package rollout holds the statistics of a canary rollout: the correction rates of the candidate's arm and of
// production's, and the rule that rolls the candidate back when its rate is worse with significance.
//
// The test is Fisher's exact test, one-sided (the candidate's clerks correct more often), on the 2×2 table of
// corrected and unchanged codes per arm. The canary is looked at repeatedly as feedback arrives, which would
// inflate the false-rollback rate of a fixed-level test; looks happen only when the canary arm has gathered
// another MinSample codes (look k at k·MinSample), and look k uses level Alpha·2^-k, so that over all looks
// the chance of rolling back a candidate that is no worse stays below Alpha (Bonferroni over looks: the sum of
// Alpha·2^-k is below Alpha).
package rollout

import (
	"fmt"
	"math"
)

// Arm counts the confirmed codes of one arm and how many of them the clerk corrected.
type Arm struct {
	N         int `json:"n"`
	Corrected int `json:"corrected"`
}

// Rate is the correction rate (0 without codes).
func (a Arm) Rate() float64 {
	if a.N == 0 {
		return 0
	}
	return float64(a.Corrected) / float64(a.N)
}

// FisherGreater is the one-sided p-value of Fisher's exact test that the first arm's rate (a of n1) exceeds the
// second's (b of n2): P(X >= a) for X hypergeometric with the table's margins.
func FisherGreater(a, n1, b, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	k := a + b // corrected in both arms
	n := n1 + n2
	lo, hi := max(0, k-n2), min(k, n1)
	logC := func(n, r int) float64 {
		x, _ := math.Lgamma(float64(n + 1))
		y, _ := math.Lgamma(float64(r + 1))
		z, _ := math.Lgamma(float64(n - r + 1))
		return x - y - z
	}
	den := logC(n, k)
	p := 0.0
	for x := max(a, lo); x <= hi; x++ {
		p += math.Exp(logC(n1, x) + logC(n2, k-x) - den)
	}
	return min(1, p)
}

// Policy is the rollback rule.
type Policy struct {
	// MinSample is how many confirmed codes each arm needs before the first look, and how many more the canary
	// arm needs before each further look (default 100).
	MinSample int
	// Alpha bounds the chance of rolling back a candidate that corrects no more often than production over all
	// looks (default 0.05).
	Alpha float64
}

// WithDefaults fills zero fields.
func (p Policy) WithDefaults() Policy {
	if p.MinSample <= 0 {
		p.MinSample = 100
	}
	if p.Alpha <= 0 {
		p.Alpha = 0.05
	}
	return p
}

// Decision is the outcome of one look.
type Decision struct {
	Look     int     `json:"look"`
	Canary   Arm     `json:"canary"`
	Control  Arm     `json:"control"`
	P        float64 `json:"p"`
	Level    float64 `json:"level"`
	Rollback bool    `json:"rollback"`
}

// Reason is the decision in words, for the registry's alias history.
func (d Decision) Reason() string {
	verdict := "kept"
	if d.Rollback {
		verdict = "rolled back"
	}
	return fmt.Sprintf("canary %s: correction rate %.1f%% (%d of %d) vs production %.1f%% (%d of %d), one-sided Fisher exact p=%.3g at look %d (level %.3g)",
		verdict, 100*d.Canary.Rate(), d.Canary.Corrected, d.Canary.N, 100*d.Control.Rate(), d.Control.Corrected, d.Control.N,
		d.P, d.Look, d.Level)
}

// Canary accumulates one candidate's canary and decides at each look. It is not safe for concurrent use.
type Canary struct {
	policy          Policy
	canary, control Arm
	looks           int
	last            *Decision
}

// NewCanary starts counting with policy p (zero fields: defaults).
func NewCanary(p Policy) *Canary { return &Canary{policy: p.WithDefaults()} }

// Arms returns the counts so far.
func (c *Canary) Arms() (canary, control Arm) { return c.canary, c.control }

// Last is the latest look's decision (nil before the first look).
func (c *Canary) Last() *Decision { return c.last }

// Add counts one confirmed code (of the canary arm or of production's) and, when a look is due, decides; looked
// reports whether it did.
func (c *Canary) Add(canaryArm, corrected bool) (d Decision, looked bool) {
	arm := &c.control
	if canaryArm {
		arm = &c.canary
	}
	arm.N++
	if corrected {
		arm.Corrected++
	}
	m := c.policy.MinSample
	if c.control.N < m || c.canary.N < (c.looks+1)*m {
		return Decision{}, false
	}
	c.looks++
	d = Decision{Look: c.looks, Canary: c.canary, Control: c.control,
		P:     FisherGreater(c.canary.Corrected, c.canary.N, c.control.Corrected, c.control.N),
		Level: c.policy.Alpha * math.Pow(2, -float64(c.looks))}
	d.Rollback = d.P < d.Level
	c.last = &d
	return d, true
}
