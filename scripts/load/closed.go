package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// closedRow is one closed-loop run: wrk with conns connections for a duration against one canvas.
type closedRow struct {
	canvas  string
	conns   int
	answers float64 // all answers per second (wrk's Requests/sec)
	ok      float64 // share of answers that were 200
	shed503 float64
	shed429 float64
	other   int // answers that were neither 200, 429 nor 503 overloaded, plus wrk socket errors
	// cancelled counts requests wrk left unanswered when the run ended (the server counts them as 499).
	cancelled int
	served    time.Duration // p99 of the 200s (server histogram, interpolated between buckets)
	over      float64       // share of 200s slower than 100 ms (exact: a histogram bucket edge)
	wrkP99    time.Duration // p99 of all answers as wrk saw them
	// cpu is the server process's CPU time (user + system, process_cpu_seconds_total) per answer: what a
	// request costs, whatever else runs on the machine (wrk's own CPU is not in it).
	cpu time.Duration
}

var tsvHeader = "canvas\tconnections\tanswers_per_s\tgoodput_per_s\tshare_200\tshare_503\tshare_429\tother\tserved_p99_ms\tserved_over_100ms\twrk_p99_ms\tserver_cpu_us_per_answer"

func (r closedRow) tsv() string {
	return fmt.Sprintf("%s\t%d\t%.0f\t%.0f\t%.4f\t%.4f\t%.4f\t%d\t%.1f\t%.4f\t%.1f\t%.0f", r.canvas, r.conns, r.answers,
		r.answers*r.ok, r.ok, r.shed503, r.shed429, r.other, ms(r.served), r.over, ms(r.wrkP99),
		float64(r.cpu)/float64(time.Microsecond))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// target is a server the closed loop drives: digitpad (pid 0: statuses, latency and CPU from its /metrics), or
// a server without digitpad's metrics (the peer of make load-peer: pid is its process, whose CPU and its
// children's is read from /proc, and statuses come from wrk's own counts).
type target struct {
	base string
	pid  int
}

// wrkPost is a wrk Lua script that POSTs one pre-encoded PNG body.
type wrkPost struct {
	dir, script string
}

func newWrkPost(body []byte) (*wrkPost, error) {
	if _, err := exec.LookPath("wrk"); err != nil {
		return nil, errors.New("wrk not installed (apt-get install wrk)")
	}
	dir, err := os.MkdirTemp("", "load-wrk")
	if err != nil {
		return nil, err
	}
	bodyFile := filepath.Join(dir, "body")
	script := filepath.Join(dir, "post.lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"image/png\"\n"+
		"local f = io.open(%q, \"rb\")\nwrk.body = f:read(\"*a\")\nf:close()\n", bodyFile)
	if err := errors.Join(os.WriteFile(bodyFile, body, 0o600), os.WriteFile(script, []byte(lua), 0o600)); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &wrkPost{dir: dir, script: script}, nil
}

func (w *wrkPost) close() { os.RemoveAll(w.dir) }

// run is one closed-loop row: wrk (one thread) with conns connections for d against t.
func (w *wrkPost) run(t target, canvas string, conns int, d time.Duration) (closedRow, error) {
	end, err := t.begin(canvas, conns)
	if err != nil {
		return closedRow{}, err
	}
	out, err := w.wrk(t, conns, d)
	if err != nil {
		return closedRow{}, err
	}
	return end(out)
}

// begin reads the target's counters before a run; the function it returns reads them again after the run and
// makes the row from both and wrk's output.
func (t target) begin(canvas string, conns int) (func(wrkOut string) (closedRow, error), error) {
	if t.pid > 0 {
		cpu0, err := procTreeCPU(t.pid)
		if err != nil {
			return nil, err
		}
		return func(out string) (closedRow, error) {
			cpu1, err := procTreeCPU(t.pid)
			if err != nil {
				return closedRow{}, err
			}
			return rowFromWrk(canvas, conns, out, cpu1-cpu0)
		}, nil
	}
	before, err := scrape(t.base)
	if err != nil {
		return nil, err
	}
	return func(out string) (closedRow, error) {
		after, err := scrape(t.base)
		if err != nil {
			return closedRow{}, err
		}
		return rowFrom(canvas, conns, out, before, after)
	}, nil
}

func (w *wrkPost) wrk(t target, conns int, d time.Duration) (string, error) {
	out, err := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+d.String(), "--latency",
		"-s", w.script, t.base+"/v1/predict").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("wrk: %v: %s", err, out)
	}
	return string(out), nil
}

// closedLoop runs wrk (one thread, a pre-encoded POST) at each connection count and prints one table row per
// run; rows are appended to o.tsv when set.
func closedLoop(o options, canvasName string, body []byte) error {
	w, err := newWrkPost(body)
	if err != nil {
		return err
	}
	defer w.close()
	var tsv io.Writer
	if o.tsv != "" {
		_, statErr := os.Stat(o.tsv)
		f, err := os.OpenFile(o.tsv, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if statErr != nil {
			fmt.Fprintln(f, tsvHeader)
		}
		tsv = f
	}
	fmt.Printf("%-20s %5s %9s %7s %7s %7s %6s %10s %9s %8s %9s %s\n", "canvas", "conns", "answers/s", "200", "503",
		"429", "other", "served p99", ">100ms", "wrk p99", "cpu/answer", "cancelled at end")
	for _, c := range o.connsList {
		row, err := w.run(target{base: o.base, pid: o.pid}, canvasName, c, o.duration)
		if err != nil {
			return err
		}
		fmt.Printf("%-20s %5d %9.0f %6.1f%% %6.1f%% %6.1f%% %6d %8.1fms %8.2f%% %6.1fms %7.0fµs %d\n", row.canvas,
			row.conns, row.answers, 100*row.ok, 100*row.shed503, 100*row.shed429, row.other, ms(row.served),
			100*row.over, ms(row.wrkP99), float64(row.cpu)/float64(time.Microsecond), row.cancelled)
		if tsv != nil {
			fmt.Fprintln(tsv, row.tsv())
		}
		time.Sleep(time.Second) // let the prediction log drain between runs
	}
	return nil
}

var (
	wrkRate    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99     = regexp.MustCompile(`\n\s+99%\s+([0-9.]+)(us|ms|s)`)
	wrkSockErr = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkTotal   = regexp.MustCompile(`(\d+) requests in `)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// parseWrk reads what every row takes from wrk's output: answers/s, p99 of all answers, socket errors.
func parseWrk(r *closedRow, out string) error {
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
	}
	r.answers, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkP99.FindStringSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[2]]
		r.wrkP99 = time.Duration(v * float64(unit))
	}
	if m := wrkSockErr.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.other += n
		}
	}
	return nil
}

// rowFromWrk is a row for a server without digitpad's metrics: the 200 share from wrk's count of non-2xx
// answers (all counted as other: the peer sheds nothing), served p99 = wrk's p99 (the peer answers only 200s),
// CPU per answer from the process tree's CPU time over the run.
func rowFromWrk(canvas string, conns int, out string, cpu time.Duration) (closedRow, error) {
	r := closedRow{canvas: canvas, conns: conns}
	if err := parseWrk(&r, out); err != nil {
		return r, err
	}
	m := wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no request count in wrk output:\n%s", out)
	}
	total, _ := strconv.Atoi(m[1])
	if total == 0 {
		return r, errors.New("wrk counted no answers")
	}
	non2xx := 0
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		non2xx, _ = strconv.Atoi(m[1])
	}
	r.other += non2xx
	r.ok = float64(total-non2xx) / float64(total)
	r.served = r.wrkP99
	r.cpu = cpu / time.Duration(total)
	return r, nil
}

// procTreeCPU is the CPU time (user + system) of process pid and its descendants, from /proc.
func procTreeCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu of process %d: %w", pid, err)
	}
	// Fields after the command name (which may hold spaces) in parentheses: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu of process %d: short stat %q", pid, stat)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("cpu of process %d: %w", pid, err)
	}
	const clockTick = 100 // USER_HZ, 100 on Linux
	total := time.Duration(ut+st) * time.Second / clockTick
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread has exited
		}
		for _, c := range strings.Fields(string(b)) {
			child, err := strconv.Atoi(c)
			if err != nil {
				continue
			}
			if d, err := procTreeCPU(child); err == nil {
				total += d
			}
		}
	}
	return total, nil
}

func rowFrom(canvas string, conns int, out string, before, after *promSnapshot) (closedRow, error) {
	r := closedRow{canvas: canvas, conns: conns}
	if err := parseWrk(&r, out); err != nil {
		return r, err
	}
	codes := map[string]float64{}
	total := 0.0
	for code, n := range after.requests {
		d := n - before.requests[code]
		codes[code] = d
		total += d
	}
	if total == 0 {
		return r, errors.New("the server counted no predictions")
	}
	// wrk hangs up on the requests in flight when a run ends: the server answers those 499 cancelled (older
	// servers: 503 unavailable). They are not answers, and were the "other" errors of earlier tables.
	cancelled := after.rejections["cancelled"] - before.rejections["cancelled"] +
		after.rejections["unavailable"] - before.rejections["unavailable"]
	shed := after.rejections["overloaded"] - before.rejections["overloaded"]
	total -= cancelled
	if total > 0 {
		r.cpu = time.Duration((after.cpuSeconds - before.cpuSeconds) / total * float64(time.Second))
	}
	r.cancelled = int(cancelled)
	r.ok, r.shed503, r.shed429 = codes["200"]/total, shed/total, codes["429"]/total
	r.other += int(total - codes["200"] - shed - codes["429"])
	// Served latency from the histogram of 200s.
	les, counts := okHistogram(before, after)
	if n := counts[len(counts)-1]; n > 0 {
		r.served = time.Duration(quantile(0.99, les, counts) * float64(time.Second))
		for i, le := range les {
			if le == 0.1 {
				r.over = (n - counts[i]) / n
			}
		}
	}
	return r, nil
}

// okHistogram is the latency histogram of the 200s answered between two scrapes: bucket edges (seconds,
// ascending) and cumulative counts.
func okHistogram(before, after *promSnapshot) (les, counts []float64) {
	for le := range after.okBuckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	counts = make([]float64, len(les))
	for i, le := range les {
		counts[i] = after.okBuckets[le] - before.okBuckets[le]
	}
	return les, counts
}

// quantile interpolates linearly inside the bucket holding rank q of cumulative counts (histogram_quantile).
func quantile(q float64, les, cum []float64) float64 {
	n := cum[len(cum)-1]
	rank := q * n
	prevLe, prevC := 0.0, 0.0
	for i, le := range les {
		if cum[i] >= rank {
			if math.IsInf(le, 1) {
				return prevLe
			}
			if cum[i] == prevC {
				return le
			}
			return prevLe + (le-prevLe)*(rank-prevC)/(cum[i]-prevC)
		}
		prevLe, prevC = le, cum[i]
	}
	return prevLe
}

// promSnapshot holds the server's prediction counters: answers by status and the latency buckets of 200s.
type promSnapshot struct {
	requests  map[string]float64 // code -> count, POST /v1/predict
	okBuckets map[float64]float64
	// rejections by reason: overloaded (load shedding, 503) and cancelled (499: requests wrk hangs up on when a
	// run ends; "unavailable" on older servers).
	rejections map[string]float64
	// cpuSeconds is the server process's CPU time so far (process_cpu_seconds_total).
	cpuSeconds float64
}

var promLabel = regexp.MustCompile(`(\w+)="([^"]*)"`)

func scrape(base string) (*promSnapshot, error) {
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer res.Body.Close()
	s := &promSnapshot{requests: map[string]float64{}, okBuckets: map[float64]float64{}, rejections: map[string]float64{}}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			s.cpuSeconds, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			continue
		}
		name, rest, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		labelText, valueText, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		labels := map[string]string{}
		for _, m := range promLabel.FindAllStringSubmatch(labelText, -1) {
			labels[m[1]] = m[2]
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(valueText), 64)
		if err != nil {
			continue
		}
		if name == "digitpad_rejections_total" {
			s.rejections[labels["reason"]] = v
			continue
		}
		if labels["route"] != "POST /v1/predict" {
			continue
		}
		switch name {
		case "digitpad_http_requests_total":
			s.requests[labels["code"]] = v
		case "digitpad_http_request_duration_seconds_bucket":
			if labels["code"] == "200" {
				le, err := strconv.ParseFloat(labels["le"], 64)
				if err == nil {
					s.okBuckets[le] = v
				}
			}
		}
	}
	return s, sc.Err()
}
