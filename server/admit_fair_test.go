package server

import (
	"testing"
	"time"
)

// client is one closed-loop load in fairRun: backlog predictions of cost each outstanding, under flow key.
type client struct {
	key     string
	backlog int
	cost    time.Duration
}

// fairRun simulates closed-loop clients against an admitter with one slot on the fake clock and returns each
// client's slot time over span and the number of refusals.
func fairRun(t *testing.T, clients []client, span time.Duration) (slot []time.Duration, refused int) {
	t.Helper()
	clk := newFakeClock()
	a := newAdmitter(1, 1000, 10*time.Second, clk.now)
	slot = make([]time.Duration, len(clients))
	type req struct {
		client int
		w      *waiter
	}
	var waiting []req
	running := -1
	send := func(c int) {
		ok, w := a.enter(clients[c].key)
		switch {
		case ok:
			running = c
		case w != nil:
			waiting = append(waiting, req{c, w})
		default:
			refused++
		}
	}
	for c := range clients {
		for range clients[c].backlog {
			send(c)
		}
	}
	for end := clk.now().Add(span); clk.now().Before(end); {
		if running < 0 {
			t.Fatalf("the slot is idle with %d waiting", len(waiting))
		}
		c, d := running, clients[running].cost
		clk.advance(d)
		slot[c] += d
		running = -1
		a.release(clients[c].key, d)
		for i := 0; i < len(waiting); i++ {
			select {
			case ok := <-waiting[i].w.ready:
				if ok {
					running = waiting[i].client
				} else {
					refused++
				}
				waiting = append(waiting[:i], waiting[i+1:]...)
				i--
			default:
			}
		}
		send(c) // the closed-loop client sends its next prediction
	}
	return slot, refused
}

// Issue 18: a client whose predictions cost ten times more took nearly all the slot time from a cheap client
// under first-come-first-served admission. With fair queuing across client identities, weighted by each one's
// measured cost, both get about half of it; within one identity the order stays first come first served, so the
// same loads under one key keep the old shares.
func TestAdmitter_FairAcrossClientsByCost(t *testing.T) {
	heavy := client{key: "ip:10.0.0.1", backlog: 10, cost: 10 * time.Millisecond}
	light := client{key: "ip:10.0.0.2", backlog: 4, cost: time.Millisecond}
	slot, refused := fairRun(t, []client{heavy, light}, 2*time.Second)
	if refused != 0 {
		t.Errorf("%d refused; the objective leaves room for every waiter", refused)
	}
	share := float64(slot[1]) / float64(slot[0]+slot[1])
	if share < 0.4 || share > 0.6 {
		t.Errorf("cheap client's share of slot time %.2f (%v vs %v), want about half", share, slot[1], slot[0])
	}
	light.key = heavy.key
	slot, _ = fairRun(t, []client{heavy, light}, 2*time.Second)
	fifo := float64(slot[1]) / float64(slot[0]+slot[1])
	if fifo > 0.1 {
		t.Errorf("one identity: cheap load's share of slot time %.2f, want first come first served (4 of 104)", fifo)
	}
	t.Logf("cheap client's share of slot time: %.3f as another identity, %.3f as the same", share, fifo)
}
