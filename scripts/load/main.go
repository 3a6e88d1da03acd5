// Command load drives a running digitpad server on this machine with open-loop load and prints latency
// percentiles and status counts: HTTP via vegeta (as a library), websockets via gorilla/websocket. Every run is
// bounded in time and refuses targets other than loopback.
//
//	go run ./scripts/load -mode http  -url http://127.0.0.1:8080 -rate 5000 -duration 10s
//	go run ./scripts/load -mode ws    -url http://127.0.0.1:8080 -rate 5000 -duration 10s -conns 32
//	go run ./scripts/load -mode burst -url http://127.0.0.1:8080 -rate 5000 -duration 5s
//	go run ./scripts/load -mode ready -url http://127.0.0.1:8080   (polls /readyz, prints time to ready)
//	go run ./scripts/load -mode png -out FILE                      (writes the PNG the HTTP modes send, for wrk)
//	go run ./scripts/load -mode closed -canvas 280x280-rgb-1digit -conns-list 8,16,32,64,128 -duration 5s -tsv F
//	                                                               (wrk closed loop, one table row per count)
//	go run ./scripts/load -mode curve -tsv F -out curve.png        (connections → goodput, p99, shed share)
//	go run ./scripts/load -mode compare -url D -peer-url P -peer-pid N -tsv F -out F.png
//	                                                               (digitpad against the peer, row by row)
//	go run ./scripts/load -mode mnist -url P -n 200 -min 0.95      (reads MNIST test digits, fails below -min)
//
// -canvas picks one of the canvases of internal/loadcanvas (280x280-rgb-1digit, 640x200-rgb-5digits,
// 76x64-gray-1digit) or 76x64-gray-mnist (an MNIST test digit, mnist.go); without it, -digits and -height
// describe a grey canvas as before.
//
// scripts/load/run.sh starts a server and runs them all; scripts/load/peer.sh (make load-peer) starts digitpad
// and the peer of scripts/peer and compares them.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"digitpad/internal/loadcanvas"
	"digitpad/shared/protocol"
	"digitpad/shared/synth"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type options struct {
	mode      string
	out       string
	base      string
	rate      int
	duration  time.Duration
	conns     int
	digits    int
	height    int
	strokes   bool
	workers   int
	timeout   time.Duration
	canvas    string
	connsList []int
	tsv       string
	title     string
	// pid is the process of a server without digitpad's metrics (the peer): closed mode then reads its CPU
	// from /proc and its statuses from wrk.
	pid      int
	peerURL  string
	canvases []string
	warmup   time.Duration
	rounds   int
	n        int
	min      float64
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&o.mode, "mode", "http", "http | ws | burst | closed | curve | compare | mnist | ready | png")
	fs.StringVar(&o.out, "out", "", "png mode: file to write the request body to")
	fs.StringVar(&o.base, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.IntVar(&o.rate, "rate", 5000, "requests (messages) per second; burst mode goes to 3× this")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of the run (burst: of each phase); at most 60s")
	fs.IntVar(&o.conns, "conns", 32, "websocket connections (ws mode); HTTP modes use up to 16× this many")
	fs.IntVar(&o.digits, "digits", 1, "digits written on each canvas (1 = one digit; 5 = a postal code)")
	fs.IntVar(&o.height, "height", 64, "canvas height in pixels (64: one MNIST-like digit image; 160: a pad canvas)")
	fs.BoolVar(&o.strokes, "strokes", false, "send strokes JSON (what the web pad sends) instead of a PNG snapshot")
	fs.IntVar(&o.workers, "workers", 64, "initial vegeta workers")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "per-request timeout")
	fs.StringVar(&o.canvas, "canvas", "", "a named canvas of internal/loadcanvas (e.g. 280x280-rgb-1digit); overrides -digits/-height")
	connsList := fs.String("conns-list", "8,16,32,64,128", "closed mode: wrk connection counts")
	fs.StringVar(&o.tsv, "tsv", "", "closed mode: append rows to this TSV file; curve mode: read it")
	fs.StringVar(&o.title, "title", "", "curve and compare modes: title suffix (machine, generator)")
	fs.IntVar(&o.pid, "pid", 0, "closed mode: the process of a server without digitpad's metrics (e.g. the peer)")
	fs.StringVar(&o.peerURL, "peer-url", "", "compare mode: the peer's base URL (loopback only)")
	fs.IntVar(&o.n, "n", 200, "mnist mode: how many MNIST test digits to send")
	fs.Float64Var(&o.min, "min", 0.95, "mnist mode: the share of them that must be read right")
	fs.IntVar(&o.rounds, "rounds", 1, "compare mode: rounds per row (alternating which server goes first); each server keeps its best")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "compare mode: unreported wrk run on each server before each canvas")
	canvases := fs.String("canvases", strings.Join(compareCanvases, ","), "compare mode: canvases, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, c := range strings.Split(*connsList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("conns-list: %q is not a connection count in 1..1024", c)
		}
		o.connsList = append(o.connsList, n)
	}
	o.canvases = strings.Split(*canvases, ",")
	if o.mode == "curve" {
		if o.tsv == "" || o.out == "" {
			return errors.New("curve mode needs -tsv and -out")
		}
		return curve(o.tsv, o.out, o.title)
	}
	if o.duration > time.Minute {
		return errors.New("duration above 60s: this tool is for short, bounded runs")
	}
	if err := checkLoopback(o.base); err != nil {
		return err
	}
	switch o.mode {
	case "compare":
		return compare(o)
	case "mnist":
		return mnistCheck(o.base, o.n, o.min)
	case "ready":
		return waitReady(o)
	case "closed":
		pl, err := o.payload()
		if err != nil {
			return err
		}
		return closedLoop(o, pl.name, pl.png)
	case "http":
		pl, err := o.payload()
		if err != nil {
			return err
		}
		r := attack(o, pl, o.rate, o.duration, "steady")
		r.print(os.Stdout)
		return nil
	case "burst":
		return burst(o)
	case "png":
		pl, err := o.payload()
		if err != nil {
			return err
		}
		if o.out == "" {
			return errors.New("png mode needs -out FILE")
		}
		return os.WriteFile(o.out, pl.png, 0o644)
	case "ws":
		return wsLoad(o)
	default:
		return fmt.Errorf("unknown mode %q", o.mode)
	}
}

// checkLoopback refuses anything but this machine: the tool must never load someone else's server.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("url host %q is not a loopback address", host)
	}
	return nil
}

// payload is one canvas with a code of n digits, h pixels high: a PNG snapshot (dark ink on white, 8-bit gray)
// and the same code as a strokes predict request.
type payload struct {
	name    string
	code    string // what is written on it
	png     []byte
	strokes []byte // protocol.Predict JSON
}

// payload is the named loadcanvas canvas, or a grey canvas of -digits digits, -height pixels high.
func (o options) payload() (*payload, error) {
	if o.canvas == "" {
		return canvas(o.digits, o.height)
	}
	return namedPayload(o.canvas)
}

// namedPayload is a canvas of internal/loadcanvas, or the MNIST digit's canvas (PNG only).
func namedPayload(name string) (*payload, error) {
	if name == mnistCanvasName {
		return mnistPayload()
	}
	cs, err := loadcanvas.Standard()
	if err != nil {
		return nil, err
	}
	names := []string{mnistCanvasName}
	for _, c := range cs {
		if c.Name == name {
			return &payload{name: c.Name, code: c.Code, png: c.PNG, strokes: c.Strokes}, nil
		}
		names = append(names, c.Name)
	}
	return nil, fmt.Errorf("canvas %q: want one of %s", name, strings.Join(names, ", "))
}

func canvas(n, h int) (*payload, error) {
	text := "80331472695"[:max(1, min(n, 11))]
	w := int(float64(h) * (0.5 + 0.7*float64(len(text))))
	p := synth.Defaults()
	p.Height = float64(h) * 0.6
	p = synth.Centered(p, len(text), w, h)
	p.Seed = 1
	c, err := synth.Write(text, p)
	if err != nil {
		return nil, err
	}
	rgba, err := synth.Render(c.Strokes, w, h, synth.Pen{Width: max(2, float64(h)/20), Background: color.White})
	if err != nil {
		return nil, err
	}
	g := image.NewGray(rgba.Bounds())
	draw.Draw(g, g.Bounds(), rgba, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		return nil, err
	}
	st, err := json.Marshal(protocol.Predict{Strokes: c.Paths(), Width: w, Height: h})
	if err != nil {
		return nil, err
	}
	return &payload{name: fmt.Sprintf("%dx%d-gray-%dd", w, h, len(text)), code: text, png: buf.Bytes(), strokes: st}, nil
}

// report separates served requests (200) from shed ones (429/503) and failures (anything else).
type report struct {
	name         string
	rate         int
	all, served  vegeta.Metrics
	codes        map[int]int
	errs         map[string]int
	sent         time.Duration
	otherFailure int
}

func newReport(name string, rate int) *report {
	return &report{name: name, rate: rate, codes: map[int]int{}, errs: map[string]int{}}
}

func (r *report) add(res *vegeta.Result) {
	r.all.Add(res)
	r.codes[int(res.Code)]++
	switch {
	case res.Code == http.StatusOK:
		r.served.Add(res)
	case res.Code == http.StatusTooManyRequests || res.Code == http.StatusServiceUnavailable:
	default:
		r.otherFailure++
		if res.Error != "" {
			r.errs[res.Error]++
		}
	}
}

func (r *report) close() {
	r.all.Close()
	r.served.Close()
}

func (r *report) print(w *os.File) {
	codes := make([]int, 0, len(r.codes))
	for c := range r.codes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var cs []string
	for _, c := range codes {
		cs = append(cs, fmt.Sprintf("%d:%d", c, r.codes[c]))
	}
	fmt.Fprintf(w, "%-8s target %5d/s  sent %6d at %7.0f/s  served %7.0f/s  codes [%s]  other failures %d\n",
		r.name, r.rate, r.all.Requests, r.all.Rate, float64(r.codes[200])/r.all.Duration.Seconds(),
		strings.Join(cs, " "), r.otherFailure)
	l := r.served.Latencies
	fmt.Fprintf(w, "%-8s served latency  p50 %v  p90 %v  p99 %v  max %v\n", "", l.P50.Round(10*time.Microsecond),
		l.P90.Round(10*time.Microsecond), l.P99.Round(10*time.Microsecond), l.Max.Round(10*time.Microsecond))
	for e, n := range r.errs {
		fmt.Fprintf(w, "%-8s error ×%d: %s\n", "", n, e)
	}
}

func attack(o options, pl *payload, rate int, d time.Duration, name string) *report {
	target := vegeta.Target{Method: http.MethodPost, URL: o.base + "/v1/predict", Body: pl.png,
		Header: http.Header{"Content-Type": {"image/png"}}}
	if o.strokes {
		target.Body, target.Header = pl.strokes, http.Header{"Content-Type": {"application/json"}}
	}
	// A bounded pool of kept-alive connections: without a cap, a slow phase makes vegeta open thousands of new
	// connections whose SYNs overflow the listen backlog and measure TCP retransmission instead of the server.
	a := vegeta.NewAttacker(vegeta.Workers(uint64(o.workers)), vegeta.MaxWorkers(uint64(o.conns*16)),
		vegeta.KeepAlive(true), vegeta.Connections(o.conns*16), vegeta.MaxConnections(o.conns*16),
		vegeta.Timeout(o.timeout), vegeta.MaxBody(0)) // responses are drained, not kept: only the status counts
	r := newReport(name, rate)
	for res := range a.Attack(vegeta.NewStaticTargeter(target), vegeta.Rate{Freq: rate, Per: time.Second}, d, name) {
		r.add(res)
	}
	r.close()
	return r
}

// burst runs rate, then 3× rate, then rate again: the server must shed only with 429/503 and recover.
func burst(o options) error {
	pl, err := o.payload()
	if err != nil {
		return err
	}
	phases := []struct {
		name string
		rate int
	}{{"before", o.rate}, {"burst", 3 * o.rate}, {"after", o.rate}}
	for _, p := range phases {
		before, err := scrape(o.base)
		if err != nil {
			return err
		}
		attack(o, pl, p.rate, o.duration, p.name).print(os.Stdout)
		after, err := scrape(o.base)
		if err != nil {
			return err
		}
		printServerSide(before, after)
	}
	return nil
}

// printServerSide prints what the server measured in a phase: served p99 from its latency histogram (handler
// start to response written, so the gap to the generator's figure is time spent before the server read the
// request: listen backlog, socket buffers, scheduling) and its CPU per answer.
func printServerSide(before, after *promSnapshot) {
	les, counts := okHistogram(before, after)
	answers := 0.0
	for code, n := range after.requests {
		answers += n - before.requests[code]
	}
	if len(counts) == 0 || counts[len(counts)-1] == 0 || answers == 0 {
		return
	}
	fmt.Printf("%-8s server-side: served p99 %.1fms, CPU %.0fµs per answer\n", "",
		1000*quantile(0.99, les, counts), 1e6*(after.cpuSeconds-before.cpuSeconds)/answers)
}

func waitReady(o options) error {
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		res, err := client.Get(o.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				fmt.Printf("ready after %v of polling\n", time.Since(start).Round(time.Millisecond))
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return errors.New("server not ready within 30s")
}

// wsLoad spreads rate messages per second over conns connections, open loop: each connection sends on its own
// schedule whatever the replies do, and latency runs from send to the matching reply.
func wsLoad(o options) error {
	pl, err := o.payload()
	if err != nil {
		return err
	}
	data, _ := json.Marshal(protocol.Predict{Image: base64.StdEncoding.EncodeToString(pl.png)})
	if o.strokes {
		data = pl.strokes
	}
	// The envelope is marshalled once; each message splices its id in (the generator shares the server's cores).
	tmpl, err := json.Marshal(protocol.Envelope{V: protocol.Version, Type: protocol.TypePredict, ID: "\x00", Data: data})
	if err != nil {
		return err
	}
	cut := bytes.Index(tmpl, []byte(`\u0000`))
	if cut < 0 {
		return errors.New("ws: no id placeholder in the envelope")
	}
	wsURL := "ws" + strings.TrimPrefix(o.base, "http") + "/v1/ws"
	r := newReport("ws", o.rate)
	var mu sync.Mutex
	var wg sync.WaitGroup
	perConn := float64(o.rate) / float64(o.conns)
	start := time.Now()
	for c := range o.conns {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			return fmt.Errorf("dial %d: %w", c, err)
		}
		wg.Go(func() {
			defer conn.Close()
			var sentMu sync.Mutex
			sent := map[string]time.Time{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					var env protocol.Envelope
					if err := conn.ReadJSON(&env); err != nil {
						return
					}
					if env.ID == "" {
						continue // announcements
					}
					sentMu.Lock()
					t0, ok := sent[env.ID]
					delete(sent, env.ID)
					remaining := len(sent)
					sentMu.Unlock()
					if !ok {
						continue
					}
					res := &vegeta.Result{Timestamp: t0, Latency: time.Since(t0), Code: http.StatusOK}
					if env.Type == protocol.TypeError {
						var e protocol.Error
						_ = json.Unmarshal(env.Data, &e)
						res.Code = statusFor(e.Code)
						res.Error = e.Code
					}
					mu.Lock()
					r.add(res)
					mu.Unlock()
					if remaining == 0 && time.Since(start) > o.duration {
						return
					}
				}
			}()
			interval := time.Duration(float64(time.Second) / perConn)
			next := start.Add(time.Duration(c) * interval / time.Duration(o.conns))
			for i := 0; ; i++ {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				if time.Since(start) > o.duration {
					break
				}
				id := strconv.Itoa(i)
				msg := append(append(append(make([]byte, 0, len(tmpl)+8), tmpl[:cut]...), id...), tmpl[cut+6:]...)
				sentMu.Lock()
				sent[id] = time.Now()
				sentMu.Unlock()
				if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
					break
				}
				next = next.Add(interval)
			}
			select {
			case <-done:
			case <-time.After(o.timeout):
			}
		})
	}
	wg.Wait()
	r.close()
	r.print(os.Stdout)
	return nil
}

func statusFor(code string) uint16 {
	switch code {
	case protocol.EOverloaded, protocol.EUnavailable:
		return http.StatusServiceUnavailable
	case protocol.ERateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}
