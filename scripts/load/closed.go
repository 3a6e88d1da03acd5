package main

import (
	"bufio"
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

// closedLoop runs wrk (one thread, a pre-encoded POST) at each connection count and prints one table row per
// run; rows are appended to o.tsv when set.
func closedLoop(o options, canvasName string, body []byte) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk not installed (apt-get install wrk)")
	}
	dir, err := os.MkdirTemp("", "load-wrk")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bodyFile := filepath.Join(dir, "body")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return err
	}
	script := filepath.Join(dir, "post.lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"image/png\"\n"+
		"local f = io.open(%q, \"rb\")\nwrk.body = f:read(\"*a\")\nf:close()\n", bodyFile)
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return err
	}
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
		before, err := scrape(o.base)
		if err != nil {
			return err
		}
		out, err := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(c), "-d"+o.duration.String(), "--latency",
			"-s", script, o.base+"/v1/predict").CombinedOutput()
		if err != nil {
			return fmt.Errorf("wrk: %v: %s", err, out)
		}
		after, err := scrape(o.base)
		if err != nil {
			return err
		}
		row, err := rowFrom(canvasName, c, string(out), before, after)
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
)

func rowFrom(canvas string, conns int, out string, before, after *promSnapshot) (closedRow, error) {
	r := closedRow{canvas: canvas, conns: conns}
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
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
