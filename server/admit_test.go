package server

import (
	"context"
	"slices"
	"testing"
	"time"
)

// fakeClock is a settable clock for the admission tests: no sleeps, no wall time.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func granted(t *testing.T, w *waiter) (got, answered bool) {
	t.Helper()
	select {
	case ok := <-w.ready:
		return ok, true
	default:
		return false, false
	}
}

func TestAdmitter_QueuesWhileTheWaitFitsAndShedsBeyond(t *testing.T) {
	clk := newFakeClock()
	a := newAdmitter(2, 100, 100*time.Millisecond, clk.now)
	for range 2 {
		if ok, _ := a.enter(""); !ok {
			t.Fatal("free slot not taken at once")
		}
	}
	a.release("", 10*time.Millisecond) // the first measurement: mean 10 ms, deviation taken as 5 ms
	if ok, _ := a.enter(""); !ok {
		t.Fatal("freed slot not taken")
	}
	// Budget: 100 - (10 + 2×5) = 80 ms; each waiter adds 10/2 = 5 ms: waiters 1..16 fit (16×5 = 80), the 17th not.
	var ws []*waiter
	for i := range 17 {
		ok, w := a.enter("")
		if ok {
			t.Fatalf("waiter %d admitted with every slot busy", i)
		}
		if i < 16 && w == nil {
			t.Fatalf("waiter %d shed, expected wait %v within the 80 ms budget", i, time.Duration(i+1)*5*time.Millisecond)
		}
		if i == 16 && w != nil {
			t.Fatal("17th waiter queued, expected wait 85 ms beyond the 80 ms budget")
		}
		if w != nil {
			ws = append(ws, w)
		}
	}
	if busy, waiting, budget := a.state(); busy != 2 || waiting != 16 || budget != 80*time.Millisecond {
		t.Errorf("state %d busy, %d waiting, budget %v; want 2, 16, 80ms", busy, waiting, budget)
	}
	clk.advance(10 * time.Millisecond)
	a.release("", 10*time.Millisecond)
	if ok, answered := granted(t, ws[0]); !ok || !answered {
		t.Errorf("head waiter: granted %v answered %v, want the freed slot", ok, answered)
	}
	if _, answered := granted(t, ws[1]); answered {
		t.Error("second waiter answered with no slot free")
	}
}

func TestAdmitter_RefusesStaleWaitersAtTheHead(t *testing.T) {
	clk := newFakeClock()
	a := newAdmitter(1, 100, 100*time.Millisecond, clk.now)
	a.enter("")
	a.release("", time.Millisecond) // fast so far: queueing looks cheap
	a.enter("")
	_, w1 := a.enter("")
	clk.advance(50 * time.Millisecond)
	_, w2 := a.enter("")
	if w1 == nil || w2 == nil {
		t.Fatal("waiters not queued")
	}
	clk.advance(50 * time.Millisecond) // the slot was held for 100 ms: w1 waited 100 ms > budget ~98 ms
	a.release("", 100*time.Millisecond)
	if ok, answered := granted(t, w1); !answered || ok {
		t.Errorf("stale waiter: granted %v answered %v, want refused", ok, answered)
	}
	if ok, _ := granted(t, w2); !ok {
		t.Error("waiter within the budget not given the slot")
	}
}

func TestAdmitter_CancelledWaiterLeaves(t *testing.T) {
	clk := newFakeClock()
	a := newAdmitter(1, 100, 100*time.Millisecond, clk.now)
	done, ok := a.acquire(context.Background(), "")
	if !ok {
		t.Fatal("first acquire refused")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := a.acquire(ctx, ""); ok {
		t.Error("acquire with a cancelled context succeeded while the slot was busy")
	}
	if _, waiting, _ := a.state(); waiting != 0 {
		t.Errorf("%d waiting after the client left, want 0", waiting)
	}
	done()
	if busy, _, _ := a.state(); busy != 0 {
		t.Errorf("%d busy after release, want 0", busy)
	}
}

func TestAdmitter_NoObjectiveMeansNoQueue(t *testing.T) {
	a := newAdmitter(1, 100, -1, newFakeClock().now)
	if a.pause != 0 {
		t.Errorf("refusals paused %v without an objective", a.pause)
	}
	a.enter("")
	if ok, w := a.enter(""); ok || w != nil {
		t.Error("queued or admitted beyond the slots without an objective")
	}
}

func TestAdmitter_QueueBound(t *testing.T) {
	a := newAdmitter(1, 3, time.Hour, newFakeClock().now)
	a.enter("")
	n := 0
	for range 10 {
		if _, w := a.enter(""); w != nil {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d queued, want the bound 3", n)
	}
}

// simResult is what closed-loop clients saw in a simulated run.
type simResult struct {
	served, shed int
	p99          time.Duration // served latency: wait + service
	goodput      float64       // served per simulated second
	shedWaited   time.Duration // longest time a shed prediction waited before its 503
}

// simulateClosedLoop runs n clients that each send a prediction as soon as the previous one is answered (1 ms
// after a refusal) against an admitter whose slots each take service per prediction, on the fake clock.
func simulateClosedLoop(t *testing.T, n, slots int, service, objective, length time.Duration) simResult {
	t.Helper()
	clk := newFakeClock()
	start := clk.t
	a := newAdmitter(slots, 4096, objective, clk.now)
	type client struct {
		w      *waiter
		sent   time.Time
		doneAt time.Time // in work until then
		nextAt time.Time // idle until then
		inWork bool
	}
	cs := make([]client, n)
	for i := range cs {
		cs[i].nextAt = start
	}
	var r simResult
	var lat []time.Duration
	send := func(c *client) {
		c.sent = clk.t
		ok, w := a.enter("")
		switch {
		case ok:
			c.inWork, c.doneAt = true, clk.t.Add(service)
		case w != nil:
			c.w = w
		default:
			r.shed++
			c.nextAt = clk.t.Add(time.Millisecond)
		}
	}
	end := start.Add(length)
	for clk.t.Before(end) {
		// Next event: a completion or a resend.
		next := end
		for i := range cs {
			c := &cs[i]
			switch {
			case c.inWork && c.doneAt.Before(next):
				next = c.doneAt
			case !c.inWork && c.w == nil && c.nextAt.Before(next):
				next = c.nextAt
			}
		}
		clk.t = next
		for i := range cs {
			c := &cs[i]
			if c.inWork && !c.doneAt.After(clk.t) {
				c.inWork = false
				a.release("", service)
				r.served++
				lat = append(lat, clk.t.Sub(c.sent))
				c.nextAt = clk.t
			}
		}
		for i := range cs { // waiters answered by those releases
			c := &cs[i]
			if c.w == nil {
				continue
			}
			if ok, answered := granted(t, c.w); answered {
				c.w = nil
				if ok {
					c.inWork, c.doneAt = true, clk.t.Add(service)
				} else {
					r.shed++
					r.shedWaited = max(r.shedWaited, clk.t.Sub(c.sent))
					c.nextAt = clk.t.Add(time.Millisecond)
				}
			}
		}
		for i := range cs {
			c := &cs[i]
			if !c.inWork && c.w == nil && !c.nextAt.After(clk.t) {
				send(c)
			}
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		r.p99 = lat[len(lat)*99/100]
	}
	r.goodput = float64(r.served) / length.Seconds()
	return r
}

// Below saturation nothing is refused, whatever the number of connections: 4 slots of 2 ms serve 2,000/s, and
// 8 to 128 closed-loop clients all wait less than the 100 ms objective allows.
func TestAdmitter_ClosedLoopBelowSaturationServesEveryone(t *testing.T) {
	for _, n := range []int{8, 16, 32, 64, 128} {
		r := simulateClosedLoop(t, n, 4, 2*time.Millisecond, 100*time.Millisecond, 2*time.Second)
		if r.shed != 0 {
			t.Errorf("%d clients: %d shed of %d, want none", n, r.shed, r.served+r.shed)
		}
		if r.goodput < 1990 {
			t.Errorf("%d clients: goodput %.0f/s, want the 2,000/s the slots give", n, r.goodput)
		}
		if r.p99 > 100*time.Millisecond {
			t.Errorf("%d clients: p99 %v beyond the objective", n, r.p99)
		}
	}
}

// Past saturation (4 slots of 8 ms: 500/s for 128 clients would mean 256 ms each) the excess is refused,
// served p99 stays within the objective and the slots stay busy.
func TestAdmitter_ClosedLoopPastSaturationShedsAndKeepsTheObjective(t *testing.T) {
	r := simulateClosedLoop(t, 128, 4, 8*time.Millisecond, 100*time.Millisecond, 2*time.Second)
	if r.shed == 0 {
		t.Fatal("nothing shed with a 256 ms closed-loop wait against a 100 ms objective")
	}
	if r.p99 > 100*time.Millisecond {
		t.Errorf("served p99 %v, want within the 100 ms objective", r.p99)
	}
	if r.goodput < 0.98*500 {
		t.Errorf("goodput %.0f/s, want the slots' 500/s: shedding must not idle the CPU", r.goodput)
	}
	if r.shedWaited > 100*time.Millisecond {
		t.Errorf("a refused prediction waited %v before its 503", r.shedWaited)
	}
	t.Logf("128 clients at 500/s capacity: served %d (p99 %v), shed %d", r.served, r.p99, r.shed)
}
