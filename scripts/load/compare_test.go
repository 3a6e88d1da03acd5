package main

import (
	"bufio"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wrkOut is wrk's output for a run where a quarter of the answers were not 2xx.
const wrkOut = `Running 2s test @ http://127.0.0.1:18093/v1/predict
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    1.20ms  30.00ms   90.00%
    Req/Sec   500.00     20.00   600.00     70.00%
  Latency Distribution
     50%    4.00ms
     75%    5.00ms
     90%    6.00ms
     99%   12.50ms
  1000 requests in 2.00s, 150.00KB read
  Non-2xx or 3xx responses: 250
Requests/sec:    500.00
Transfer/sec:     75.00KB
`

func TestRowFromWrk_CountsNon2xxAsNotServed(t *testing.T) {
	r, err := rowFromWrk("c", 8, wrkOut, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.answers != 500 || r.ok != 0.75 || r.other != 250 {
		t.Errorf("answers %v, 200 share %v, other %d; want 500, 0.75, 250", r.answers, r.ok, r.other)
	}
	if r.cpu != 2*time.Millisecond || r.served != 12500*time.Microsecond {
		t.Errorf("cpu per answer %v, p99 %v; want 2ms (2 s over 1000 answers), 12.5ms", r.cpu, r.served)
	}
	all := strings.Replace(wrkOut, "  Non-2xx or 3xx responses: 250\n", "", 1)
	if r, err := rowFromWrk("c", 8, all, time.Second); err != nil || r.ok != 1 || r.other != 0 {
		t.Errorf("without non-2xx answers: 200 share %v, other %d, err %v; want 1, 0, nil", r.ok, r.other, err)
	}
	if _, err := rowFromWrk("c", 8, "wrk: connection refused", time.Second); err == nil {
		t.Error("output without a rate: no error")
	}
}

// TestProcTreeCPU_CountsChildren: the peer is a cluster (a primary and its workers), so its CPU per answer must
// include its children's CPU time.
func TestProcTreeCPU_CountsChildren(t *testing.T) {
	cmd := exec.Command("sh", "-c", `i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo done; sleep 30`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "done\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	child, err := procTreeCPU(cmd.Process.Pid) // sleeping now: its CPU time no longer moves
	if err != nil {
		t.Fatal(err)
	}
	if child < 50*time.Millisecond {
		t.Fatalf("the child's busy loop counted %v of CPU; want at least 50ms", child)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	tree, err := procTreeCPU(syscall.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in clock ticks (10 ms), rounded down, for user and system time each.
	if want := self + child - 20*time.Millisecond; tree < want {
		t.Errorf("tree CPU %v; want >= %v (this process %v + its child %v)", tree, want, self, child)
	}
}

func TestPrintSideBySide_RatioOnRightAnswers(t *testing.T) {
	row := func(conns int, answers, ok float64) closedRow {
		return closedRow{conns: conns, answers: answers, ok: ok, cpu: time.Second / time.Duration(answers)}
	}
	pairs := []pair{
		{canvas: "one", code: "8", dRead: "8", pRead: "8", d: row(8, 1000, 1), p: row(8, 500, 1)},
		{canvas: "one", code: "8", dRead: "8", pRead: "8", d: row(16, 2500, 0.8), p: row(16, 1000, 1)},
		{canvas: "code", code: "80331", dRead: "80331", pRead: "7", d: row(8, 1500, 1), p: row(8, 3000, 1)},
	}
	var b strings.Builder
	printSideBySide(&b, pairs)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header, a rule and one line per canvas:\n%s", b.String())
	}
	if want := "| one (8) | 8 / 16 | 1,000 / 2,000 | 500 / 1,000 | 2.00 / 2.00 | 100.0% / 80.0%; 100.0% / 100.0% | " +
		"1,000 / 400; 2,000 / 1,000 |"; lines[2] != want {
		t.Errorf("got  %s\nwant %s", lines[2], want)
	}
	// The peer answers the five-digit code fast, but with one digit: none of its answers are right.
	if want := "| code (80331), reads: digitpad 80331, peer 7 | 8 | 1,500 | 3,000 | ∞ |"; !strings.HasPrefix(lines[3], want) {
		t.Errorf("got  %s\nwant %s...", lines[3], want)
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestMNISTCheck_FailsAServerThatDoesNotRead: a server that answers 7 whatever it is sent reads only the 7s.
func TestMNISTCheck_FailsAServerThatDoesNotRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := png.Decode(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `{"digit":7,"confidence":0.9}`)
	}))
	defer srv.Close()
	err := mnistCheck(srv.URL, 20, 0.95)
	if err == nil || !strings.Contains(err.Error(), "below the required 95.0%") {
		t.Errorf("err = %v; want the check to fail below 95%%", err)
	}
	if err := mnistCheck(srv.URL, 20, 0); err != nil {
		t.Errorf("with no share required: %v", err)
	}
}
