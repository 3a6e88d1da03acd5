package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"digitpad/server"
	"digitpad/shared/protocol"
)

// Issue 18: 32 connections sending their bodies a byte at a time held every admission slot and refused 97% of
// other clients' predictions. Bodies are now read before admission: with 32 trickling senders on a server whose
// limit is exactly 32 predictions in flight, a well-behaved client's predictions all succeed. Outcomes are
// counted; nothing is timed.
func TestSlowBodies_DoNotRefuseWellBehavedClient(t *testing.T) {
	ts := mustOpen(t, func(c *server.Config) { c.MaxInFlight = 32; c.LatencyTarget = -1 })
	host := strings.TrimPrefix(ts.URL, "http://")
	body := []byte(`{"strokes": [[[10,10],[20,40]]], "width": 100, "height": 50}`)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	slowStatus := map[string]int{}
	started := make(chan struct{}, 32)
	for range 32 {
		wg.Go(func() {
			c, err := net.Dial("tcp", host)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
			started <- struct{}{}
			// One byte every 100 ms until the server gives up on us or the test ends.
			for i := 0; i < len(body) && ctx.Err() == nil; i++ {
				if _, err := c.Write(body[i : i+1]); err != nil {
					break
				}
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
			buf := make([]byte, 64)
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, _ := c.Read(buf)
			status := "no answer"
			if f := strings.Fields(string(buf[:n])); len(f) > 1 {
				status = f[1]
			}
			mu.Lock()
			slowStatus[status]++
			mu.Unlock()
		})
	}
	for range 32 {
		<-started
	}
	// Every slow request has been routed and is in its handler: their first body bytes have been sent.
	waitFor(t, "the slow requests to reach their handlers", func() bool {
		return strings.Contains(metricsText(t, ts.URL), "digitpad_request_bodies_reading 32\n")
	})
	good := map[int]int{}
	for range 40 {
		r := do(t, http.MethodPost, ts.URL+"/v1/predict", "application/json", body)
		good[r.Status]++
	}
	cancel()
	wg.Wait()
	t.Logf("well-behaved client: %v; slow senders: %v", good, slowStatus)
	if good[http.StatusOK] != 40 {
		t.Errorf("well-behaved client got %v, want 40 × 200", good)
	}
}

// A body trickled slower than the minimum byte rate is cut off with a JSON 408 instead of being waited for.
func TestSlowBody_TimesOutByByteRate(t *testing.T) {
	ts := mustOpen(t)
	host := strings.TrimPrefix(ts.URL, "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var buf bytes.Buffer
	tmp := make([]byte, 512)
	for {
		n, err := c.Read(tmp)
		buf.Write(tmp[:n])
		if err != nil || strings.Contains(buf.String(), "}") {
			break
		}
	}
	if !strings.HasPrefix(buf.String(), "HTTP/1.1 408") || !strings.Contains(buf.String(), `"code":"`+protocol.EInvalid+`"`) {
		t.Fatalf("answer to a stalled body: %q, want a JSON 408", buf.String())
	}
}
