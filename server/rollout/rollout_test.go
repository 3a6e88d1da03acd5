package rollout

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// fisherBig is the one-sided p-value by exact rational arithmetic: an independent check of FisherGreater.
func fisherBig(a, n1, b, n2 int) float64 {
	k := a + b
	num := new(big.Int)
	for x := a; x <= min(k, n1); x++ {
		t := new(big.Int).Binomial(int64(n1), int64(x))
		num.Add(num, t.Mul(t, new(big.Int).Binomial(int64(n2), int64(k-x))))
	}
	r := new(big.Rat).SetFrac(num, new(big.Int).Binomial(int64(n1+n2), int64(k)))
	f, _ := r.Float64()
	return f
}

func TestFisherGreater_MatchesExactArithmetic(t *testing.T) {
	// Fisher's lady tasting tea: 3 of 4 cups right, one-sided p = 17/70.
	if p := FisherGreater(3, 4, 1, 4); math.Abs(p-17.0/70) > 1e-12 {
		t.Errorf("tea tasting p = %v, want 17/70", p)
	}
	for _, c := range [][4]int{{7, 10, 2, 10}, {0, 50, 3, 400}, {12, 100, 20, 900}, {30, 200, 40, 2000}, {5, 5, 0, 5}} {
		got, want := FisherGreater(c[0], c[1], c[2], c[3]), fisherBig(c[0], c[1], c[2], c[3])
		if math.Abs(got-want) > 1e-9*max(1, want) {
			t.Errorf("FisherGreater%v = %v, want %v", c, got, want)
		}
	}
	if p := FisherGreater(0, 100, 10, 100); p != 1 {
		t.Errorf("no canary corrections: p = %v, want 1", p)
	}
}

// simulate runs trials canaries with synthetic feedback: codes arrive from production's clients and the canary's
// (a tenth of them) with the given correction rates, up to maxCanary canary codes. It returns how many trials
// rolled back and the mean canary codes seen before the rollback.
func simulate(trials, maxCanary int, controlRate, canaryRate float64, seed uint64) (rollbacks int, meanN float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	sumN := 0
	for tr := 0; tr < trials; tr++ {
		c := NewCanary(Policy{})
		for {
			isCanary := rng.IntN(10) == 0
			rate := controlRate
			if isCanary {
				rate = canaryRate
			}
			d, looked := c.Add(isCanary, rng.Float64() < rate)
			if looked && d.Rollback {
				rollbacks++
				sumN += d.Canary.N
				break
			}
			if cn, _ := c.Arms(); cn.N >= maxCanary {
				break
			}
		}
	}
	if rollbacks > 0 {
		meanN = float64(sumN) / float64(rollbacks)
	}
	return rollbacks, meanN
}

// A candidate as good as production is rarely rolled back, however often the canary is looked at (20 looks).
func TestCanary_EqualRatesRarelyRollBack(t *testing.T) {
	const trials = 300
	n, _ := simulate(trials, 2000, 0.08, 0.08, 1)
	t.Logf("equal rates (8%%): %d of %d canaries rolled back", n, trials)
	if float64(n) > 0.05*trials {
		t.Errorf("%d of %d canaries of an equal candidate rolled back: more than alpha = 5%%", n, trials)
	}
}

// A candidate whose clerks correct twice as often is rolled back nearly always, and early.
func TestCanary_WorseCandidateRollsBack(t *testing.T) {
	const trials = 200
	n, meanN := simulate(trials, 2000, 0.08, 0.16, 2)
	t.Logf("8%% vs 16%%: %d of %d rolled back, after %.0f canary codes on average", n, trials, meanN)
	if n < trials*95/100 {
		t.Errorf("only %d of %d worse candidates rolled back", n, trials)
	}
	if meanN > 600 {
		t.Errorf("rollback after %.0f canary codes on average, want within the first looks", meanN)
	}
}

func TestCanary_LooksAtMultiplesOfMinSample(t *testing.T) {
	c := NewCanary(Policy{MinSample: 10, Alpha: 0.05})
	looks := 0
	for i := 0; i < 10; i++ { // control first: no look without a canary sample
		if _, looked := c.Add(false, false); looked {
			t.Fatal("looked without canary codes")
		}
	}
	var last Decision
	for i := 1; i <= 30; i++ {
		d, looked := c.Add(true, true)
		if looked {
			looks++
			last = d
			if i%10 != 0 {
				t.Errorf("looked at canary code %d", i)
			}
		}
	}
	if looks != 3 || last.Level != 0.05/8 || !last.Rollback {
		t.Fatalf("looks %d, last %+v", looks, last)
	}
	if r := last.Reason(); !strings.Contains(r, "rolled back") || !strings.Contains(r, "30 of 30") {
		t.Errorf("reason %q", r)
	}
}
