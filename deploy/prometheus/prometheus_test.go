//go:build prometheus

// The real Prometheus from Debian scrapes running digitpad servers and evaluates digitpad-rules.yml: the drift
// alert goes pending for the client writing differently (and not for the other), the no-model alert for a server
// without a model, and the recording rules produce series. Run by `make test-monitor` (which installs
// prometheus); the build tag keeps `go test ./...` from needing the binary.
package prometheus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/monitor"
	"digitpad/monitor/traffic"
	"digitpad/server"
	"digitpad/server/store/sqlite"
	"digitpad/train/mnist"
)

func startServer(t *testing.T, withModel bool) *server.Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Store: st, OpenPredict: true, Token: "t",
		Monitor: monitor.Config{Window: 25, Every: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if withModel {
		if err := srv.SetModel(assets.Model(), assets.ModelCard()); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv
}

func send(t *testing.T, base, client string, c traffic.Canvas) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, c.Image); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/predict", &buf)
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("X-Client-ID", client)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("predict: %d", res.StatusCode)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
}

func query(t *testing.T, addr, q string) []promResult {
	t.Helper()
	res, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil // not up yet
	}
	defer res.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Result []promResult `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Status != "success" {
		return nil
	}
	return body.Data.Result
}

// queryStatus returns the API status ("success", or the error) and the result of a query.
func queryStatus(addr, q string) (string, []promResult) {
	res, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return err.Error(), nil
	}
	defer res.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []promResult `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return err.Error(), nil
	}
	if body.Status != "success" {
		return body.Status + ": " + body.Error, nil
	}
	return body.Status, body.Data.Result
}

func TestPrometheus_ScrapesDigitpadAndEvaluatesRules(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed (make test-monitor installs Debian's prometheus)")
	}
	served := startServer(t, true)
	empty := startServer(t, false)

	dir, err := mnist.Locate(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	test, err := mnist.LoadTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	order := rand.New(rand.NewPCG(1, 1)).Perm(test.Len())
	for i := range 40 {
		c, err := traffic.WrittenCode(5, traffic.Shifted, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		send(t, served.URL(), "kiosk-7", c)
		ds := make([][784]float32, 5)
		ls := make([]int, 5)
		for k := range 5 {
			copy(ds[k][:], test.Image(order[5*i+k]))
			ls[k] = int(test.Labels[order[5*i+k]])
		}
		if c, err = traffic.MNISTCode(ds, ls, uint64(i)); err != nil {
			t.Fatal(err)
		}
		send(t, served.URL(), "depot-b", c)
	}

	rules, err := filepath.Abs("digitpad-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: digitpad
    static_configs:
      - targets: [%q, %q]
`, rules, served.Addr(), empty.Addr())
	if err := os.WriteFile(filepath.Join(tmp, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(tmp, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(tmp, "data"), "--web.listen-address="+addr, "--log.level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})

	type check struct {
		what, q string
		ok      func([]promResult) bool
	}
	checks := []check{
		{"both targets up", `up{job="digitpad"} == 1`, func(r []promResult) bool { return len(r) == 2 }},
		// kiosk-7's alert, and none for depot-b (checked below). The aggregate "all" is half shifted writing, so
		// an alert for it is right too (it may or may not have crossed its threshold after 80 predictions).
		{"drift alert pending for kiosk-7", `ALERTS{alertname="DigitpadDriftDetected",client!="all"}`, func(r []promResult) bool {
			return len(r) == 1 && r[0].Metric["client"] == "kiosk-7" && r[0].Metric["alertstate"] == "pending"
		}},
		{"no-model alert pending for the empty server", `ALERTS{alertname="DigitpadNoModelLoaded"}`, func(r []promResult) bool {
			return len(r) == 1 && r[0].Metric["instance"] == empty.Addr()
		}},
		{"recording rule series", `digitpad:predict_requests:rate5m`, func(r []promResult) bool { return len(r) == 1 }},
		{"drift score scraped", `digitpad_drift_score{client="kiosk-7",test="stroke_width_ks"} > digitpad_drift_threshold`,
			func(r []promResult) bool { return len(r) == 1 }},
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, c := range checks {
		for {
			r := query(t, addr, c.q)
			if c.ok(r) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: query %s gave %+v", c.what, c.q, r)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	// Every query of the Grafana dashboard is valid PromQL and returns data from this Prometheus.
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	b, err := os.ReadFile("../grafana/digitpad-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana dashboard: %v", err)
	}
	withData := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			q := strings.ReplaceAll(tg.Expr, "$job", "digitpad")
			st, r := queryStatus(addr, q)
			if st != "success" {
				t.Errorf("panel %q: query %s: %s", p.Title, q, st)
			}
			if len(r) > 0 {
				withData++
			}
		}
	}
	if withData < 12 {
		t.Errorf("only %d dashboard queries return data", withData)
	}
	// The depot writing like the reference has no drift alert at all.
	if r := query(t, addr, `ALERTS{alertname="DigitpadDriftDetected",client="depot-b"}`); len(r) != 0 {
		t.Errorf("drift alert for depot-b: %+v", r)
	}
}
