//go:build scale

// Package scaletest runs digitpad the way a cluster does, on one machine: three `digitpad serve` replicas behind
// a real HAProxy on 127.0.0.1, sharing one PostgreSQL. HTTP clients and kiosk clients (the real kiosk outbox and
// websocket syncer from desktop/kiosk) keep working while one replica is SIGKILLed and another restarted, then
// all three are restarted one by one as a rolling update does (taken out of the balancer, SIGTERM, drain, start,
// back in once its health check passes), and finally a new model version is promoted in the registry
// (PostgreSQL + a real S3 server process). `make test-scale` runs it with a throwaway PostgreSQL.
//
// What must hold: every feedback record a client created is acknowledged in the end and stored exactly once (the
// database is checked); the rolling restart and the promotion fail no request; every replica serves the promoted
// model and every kiosk is told; failures during the crash are counted and reported.
package scaletest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"digitpad/desktop/kiosk"
	"digitpad/internal/s3test"
	"digitpad/shared/protocol"
)

const token = "scale-test-token"

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// replica is one `digitpad serve` process.
type replica struct {
	name string
	port int
	args []string
	log  *os.File

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
}

func (r *replica) url() string { return fmt.Sprintf("http://127.0.0.1:%d", r.port) }

func (r *replica) start(t *testing.T, bin string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", r.port)}, r.args...)...)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	waitUntil(t, 60*time.Second, r.name+" ready", func() bool {
		resp, err := http.Get(r.url() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// stop signals the process and waits for it; it returns the exit error (nil = exit 0).
func (r *replica) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit within 30 s of %v", r.name, sig)
		return nil
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// balancer is HAProxy in front of the replicas, with its runtime API on a unix socket.
type balancer struct {
	port int
	sock string
	cmd  *exec.Cmd
}

const haproxyConfig = `global
	maxconn 4000
	stats socket %[1]s mode 600 level admin
	# Requests up to 64 KB stay buffered, so L7 retries can resend them (a 5-digit canvas is ~23 KB of JSON).
	tune.bufsize 65536
	log stderr format short local0 info
defaults
	mode http
	log global
	option httplog
	option dontlog-normal
	timeout connect 1s
	timeout client 30s
	timeout server 30s
	timeout tunnel 1h
	timeout http-keep-alive 5s
	# Health checks on a busy shared box: a slow /readyz (it pings PostgreSQL) is not a dead replica.
	timeout check 2s
	option forwardfor
	# A request that found a dead or closing server goes to another one (predictions are side-effect free,
	# feedback carries an idempotency key).
	retries 3
	option redispatch 1
	retry-on conn-failure empty-response junk-response
frontend digitpad
	bind 127.0.0.1:%[2]d
	default_backend replicas
backend replicas
	balance leastconn
	option httpchk GET /readyz
	http-check expect status 200
	default-server inter 500ms fastinter 250ms downinter 250ms fall 3 rise 2
%[3]s`

func startBalancer(t *testing.T, dir string, replicas []*replica) *balancer {
	t.Helper()
	b := &balancer{port: freePort(t), sock: filepath.Join(dir, "haproxy.sock")}
	var servers strings.Builder
	for _, r := range replicas {
		fmt.Fprintf(&servers, "\tserver %s 127.0.0.1:%d check\n", r.name, r.port)
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(haproxyConfig, b.sock, b.port, servers.String())), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("haproxy", "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	log, _ := os.Create(filepath.Join(dir, "haproxy.log"))
	b.cmd = exec.Command("haproxy", "-db", "-f", cfg)
	b.cmd.Stdout, b.cmd.Stderr = log, log
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.cmd.Process.Kill(); _ = b.cmd.Wait() })
	waitUntil(t, 10*time.Second, "all replicas UP in HAProxy", func() bool { return b.up(t) == len(replicas) })
	return b
}

func (b *balancer) url() string { return fmt.Sprintf("http://127.0.0.1:%d", b.port) }

// admin sends one runtime API command.
func (b *balancer) admin(t *testing.T, command string) string {
	t.Helper()
	c, err := net.Dial("unix", b.sock)
	if err != nil {
		return ""
	}
	defer c.Close()
	_, _ = io.WriteString(c, command+"\n")
	out, _ := io.ReadAll(c)
	return string(out)
}

// status maps server name to its HAProxy status (UP, DOWN, MAINT, ...) from `show stat`.
func (b *balancer) status(t *testing.T) map[string]string {
	st := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(b.admin(t, "show stat")))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) > 17 && f[0] == "replicas" && f[1] != "BACKEND" {
			st[f[1]] = f[17]
		}
	}
	return st
}

func (b *balancer) up(t *testing.T) int {
	n := 0
	for _, s := range b.status(t) {
		if s == "UP" {
			n++
		}
	}
	return n
}

// counters are the outcomes of client requests during one phase.
type counters struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errors     map[string]int
}

func (c *counters) fail(why string) {
	c.failed.Add(1)
	c.mu.Lock()
	if c.errors == nil {
		c.errors = map[string]int{}
	}
	c.errors[why]++
	c.mu.Unlock()
}

func (c *counters) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%d ok, %d failed %v", c.ok.Load(), c.failed.Load(), c.errors)
}

// phases lets clients attribute each outcome to the phase in which the request started.
type phases struct {
	mu     sync.Mutex
	cur    string
	order  []string
	byName map[string]*counters
}

func (p *phases) set(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byName == nil {
		p.byName = map[string]*counters{}
	}
	if p.byName[name] == nil {
		p.byName[name] = &counters{}
		p.order = append(p.order, name)
	}
	p.cur = name
}

func (p *phases) now() *counters {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byName[p.cur]
}

func feedbackRecord(key, client string, n int) protocol.Feedback {
	code := fmt.Sprintf("%05d", n%100000)
	labels := make([]int, len(code))
	for i, c := range code {
		labels[i] = int(c - '0')
	}
	return protocol.Feedback{
		IdempotencyKey: key, ClientID: client, Code: code, Labels: labels, Predicted: code,
		ModelSHA256: strings.Repeat("ab", 32), CreatedAt: time.Now().UTC(),
	}
}

func TestScale_ThreeReplicasBehindHAProxy(t *testing.T) {
	bin, pg := os.Getenv("DIGITPAD_BIN"), os.Getenv("DIGITPAD_TEST_POSTGRES")
	if bin == "" || pg == "" {
		t.Fatal("DIGITPAD_BIN and DIGITPAD_TEST_POSTGRES must be set: run `make test-scale`")
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	png, err := os.ReadFile("../../assets/samples/20500_mnist.png")
	if err != nil {
		t.Fatal(err)
	}
	predictBody, _ := json.Marshal(map[string]string{"image": base64.StdEncoding.EncodeToString(png)})

	// The registry as a cluster has it: metadata in the same PostgreSQL, model files in a real S3 server process
	// (internal/s3server). The replicas follow models:/digitpad@production (serve's default).
	s3, err := s3test.Start("digitpad-registry")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s3.Close() })
	for k, v := range s3.Env() {
		t.Setenv(k, v) // inherited by the replicas and the registry CLI
	}
	registryFlags := []string{"--registry", pg, "--registry-blobs", s3.URL("scaletest")}

	// Three replicas on one PostgreSQL (each migrates on start, under the store's advisory lock).
	var reps []*replica
	for i := range 3 {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("s%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		r := &replica{name: fmt.Sprintf("s%d", i), port: freePort(t), log: f, args: append([]string{
			"--db", pg, "--data", filepath.Join(dir, fmt.Sprintf("data%d", i)), "--token-file", tokenFile,
			"--shutdown-timeout", "10s", "--rate", "0", "--log-level", "warn"}, registryFlags...)}
		reps = append(reps, r)
	}
	var wg sync.WaitGroup
	for _, r := range reps {
		wg.Add(1)
		go func() { defer wg.Done(); r.start(t, bin) }()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, r := range reps {
			r.mu.Lock()
			if r.cmd != nil {
				_ = r.cmd.Process.Kill()
			}
			r.mu.Unlock()
		}
		if t.Failed() {
			for _, r := range reps {
				b, _ := os.ReadFile(r.log.Name())
				t.Logf("%s log (tail):\n%s", r.name, tail(string(b), 2000))
			}
		}
	})
	lb := startBalancer(t, dir, reps)

	ctx, stopClients := context.WithCancel(context.Background())
	var ph phases
	ph.set("warm-up")
	var clients sync.WaitGroup
	client := &http.Client{Timeout: 15 * time.Second}

	// HTTP prediction clients, paced so the box (shared, 2 cores) is not saturated.
	for range 4 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for ctx.Err() == nil {
				c := ph.now()
				resp, err := client.Post(lb.url()+"/v1/predict", "application/json", bytes.NewReader(predictBody))
				switch {
				case err != nil:
					c.fail("predict: " + errClass(err))
				case resp.StatusCode != http.StatusOK:
					c.fail(fmt.Sprintf("predict: HTTP %d %s", resp.StatusCode, who(resp)))
				default:
					c.ok.Add(1)
				}
				if resp != nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}

	// HTTP feedback clients: each record is sent until the server acknowledges it (201, or 200 duplicate).
	var created sync.Map // idempotency key -> true, every record any client made
	var httpAcked, duplicates atomic.Int64
	for i := range 2 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for n := 0; ctx.Err() == nil; n++ {
				key := fmt.Sprintf("scale-http%d-%d", i, n)
				rec := feedbackRecord(key, fmt.Sprintf("scale-http%d", i), n)
				created.Store(key, true)
				body, _ := json.Marshal(rec)
				for {
					c := ph.now()
					req, _ := http.NewRequest(http.MethodPost, lb.url()+"/v1/feedback", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+token)
					resp, err := client.Do(req)
					if err == nil {
						var ack struct {
							protocol.Ack
							Code string `json:"code"`
						}
						_ = json.NewDecoder(resp.Body).Decode(&ack)
						resp.Body.Close()
						if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
							c.ok.Add(1)
							httpAcked.Add(1)
							if ack.Duplicate {
								duplicates.Add(1)
							}
							break
						}
						c.fail(fmt.Sprintf("feedback: HTTP %d %s", resp.StatusCode, ack.Code))
					} else {
						c.fail("feedback: " + errClass(err))
					}
					time.Sleep(100 * time.Millisecond) // resend, as the pad's outbox does
				}
				time.Sleep(40 * time.Millisecond)
			}
		}()
	}

	// Websocket prediction clients, as a server-mode pad uses the socket: one prediction at a time, matched by id; a
	// connection that ends before the reply (a replica going away) is redialled through the balancer and the same
	// prediction resent (predictions have no side effects). A prediction fails only if it gets an error reply or
	// no reply within 10 s across reconnections.
	var wsResent atomic.Int64
	wsURL := strings.Replace(lb.url(), "http://", "ws://", 1) + "/v1/ws"
	predictData, _ := json.Marshal(protocol.Predict{Image: base64.StdEncoding.EncodeToString(png)})
	for i := range 2 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			var conn *websocket.Conn
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			for n := 0; ctx.Err() == nil; n++ {
				c := ph.now()
				id := fmt.Sprintf("ws%d-%d", i, n)
				deadline := time.Now().Add(10 * time.Second)
				outcome := ""
				for attempt := 0; outcome == "" && time.Now().Before(deadline); attempt++ {
					if attempt > 0 {
						wsResent.Add(1)
						time.Sleep(50 * time.Millisecond)
					}
					if conn == nil {
						d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
						var err error
						if conn, _, err = d.Dial(wsURL, nil); err != nil {
							conn = nil
							continue
						}
					}
					env := protocol.Envelope{V: protocol.Version, Type: protocol.TypePredict, ID: id, Data: predictData}
					_ = conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
					if err := conn.WriteJSON(env); err != nil {
						conn.Close()
						conn = nil
						continue
					}
					_ = conn.SetReadDeadline(deadline)
					for outcome == "" {
						var reply protocol.Envelope
						if err := conn.ReadJSON(&reply); err != nil {
							conn.Close()
							conn = nil
							break
						}
						switch {
						case reply.ID != id: // the model announcement
						case reply.Type == protocol.TypePrediction:
							outcome = "ok"
						default:
							outcome = "ws predict: " + reply.Type + " " + string(reply.Data)
						}
					}
				}
				switch outcome {
				case "ok":
					c.ok.Add(1)
				case "":
					c.fail("ws predict: no reply within 10 s")
				default:
					c.fail(outcome)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}

	// Kiosks: the real outbox (bbolt) and websocket syncer; a clerk confirms a code every 60 ms each.
	var outboxes []*kiosk.Outbox
	var reconnects atomic.Int64
	announced := make([]atomic.Value, 4) // the sha256 each kiosk was last told about
	syncCtx, stopSync := context.WithCancel(context.Background())
	var syncers sync.WaitGroup
	for i := range 4 {
		o, err := kiosk.OpenOutbox(filepath.Join(dir, fmt.Sprintf("kiosk%d.db", i)), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		outboxes = append(outboxes, o)
		s, err := kiosk.NewSyncer(kiosk.SyncConfig{
			Server: lb.url(), Token: token, ClientID: fmt.Sprintf("scale-kiosk%d", i), Outbox: o,
			Backoff: kiosk.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond}, RetryAfter: 200 * time.Millisecond,
			AckTimeout: 5 * time.Second,
			OnStatus: func(online bool) {
				if online {
					reconnects.Add(1)
				}
			},
			OnModel: func(m protocol.ModelAnnouncement) { announced[i].Store(m.SHA256) },
		})
		if err != nil {
			t.Fatal(err)
		}
		syncers.Add(1)
		go func() { defer syncers.Done(); s.Run(syncCtx) }()
		clients.Add(1)
		go func() {
			defer clients.Done()
			for n := 0; ctx.Err() == nil; n++ {
				key := fmt.Sprintf("scale-kiosk%d-%d", i, n)
				created.Store(key, true)
				if err := o.Put(feedbackRecord(key, fmt.Sprintf("scale-kiosk%d", i), n)); err != nil {
					t.Error(err)
					return
				}
				s.Kick()
				time.Sleep(60 * time.Millisecond)
			}
		}()
	}
	t.Cleanup(func() {
		stopClients() // on a failed test: the clients stop before their outboxes close
		clients.Wait()
		stopSync()
		syncers.Wait()
		for _, o := range outboxes {
			_ = o.Close()
		}
	})

	time.Sleep(2 * time.Second)

	// Crash: s0 is SIGKILLed (no drain at all) and comes back a second later.
	ph.set("s0 SIGKILL")
	_ = reps[0].stop(t, syscall.SIGKILL)
	time.Sleep(time.Second)
	reps[0].start(t, bin)
	waitUntil(t, 10*time.Second, "s0 UP again", func() bool { return lb.status(t)["s0"] == "UP" })

	// Restart: s1 gets SIGTERM while still in the balancer (a process restarted on its host).
	ph.set("s1 restart")
	if err := reps[1].stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("s1 exit after SIGTERM: %v, want 0", err)
	}
	reps[1].start(t, bin)
	waitUntil(t, 10*time.Second, "s1 UP again", func() bool { return lb.status(t)["s1"] == "UP" })
	time.Sleep(time.Second)

	// Rolling restart, as a Deployment does it: out of the balancer (endpoint removed; preStop), SIGTERM, drain,
	// start, back in once the health check passes, next.
	ph.set("rolling restart")
	for _, r := range reps {
		lb.admin(t, "set server replicas/"+r.name+" state maint")
		time.Sleep(300 * time.Millisecond) // in-flight requests through HAProxy finish; no new ones come
		if err := r.stop(t, syscall.SIGTERM); err != nil {
			t.Errorf("%s exit after SIGTERM: %v, want 0", r.name, err)
		}
		r.start(t, bin)
		lb.admin(t, "set server replicas/"+r.name+" state ready")
		waitUntil(t, 10*time.Second, r.name+" UP after the rolling restart", func() bool { return lb.status(t)[r.name] == "UP" })
	}
	time.Sleep(time.Second)

	// Promotion: a new version is registered and production moved to it with the registry CLI, as the retraining
	// job or an operator would; every replica must follow, with no failed request, and every kiosk be told.
	ph.set("model promotion")
	newModel := filepath.Join(dir, "promoted", "model.onnx")
	onnx, err := os.ReadFile("../../assets/model-fp16.onnx")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(filepath.Dir(newModel), 0o755)
	if err := os.WriteFile(newModel, onnx, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(onnx)
	newSHA := hex.EncodeToString(sum[:])
	out, err := exec.Command(bin, append([]string{"registry", "register", "--json"}, append(registryFlags, newModel)...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("registry register: %v\n%s", err, out)
	}
	var reg struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(out[max(0, bytes.IndexByte(out, '{')):], &reg); err != nil || reg.Version < 2 {
		t.Fatalf("registry register printed %s (%v), want a version >= 2", out, err)
	}
	if out, err := exec.Command(bin, append([]string{"registry", "promote", "--reason", "scale test"},
		append(registryFlags, "production", fmt.Sprint(reg.Version))...)...).CombinedOutput(); err != nil {
		t.Fatalf("registry promote: %v\n%s", err, out)
	}
	for _, r := range reps {
		waitUntil(t, 30*time.Second, r.name+" serving the promoted model", func() bool {
			resp, err := http.Get(r.url() + "/v1/model")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var m struct {
				SHA256 string `json:"sha256"`
			}
			return json.NewDecoder(resp.Body).Decode(&m) == nil && m.SHA256 == newSHA
		})
	}
	waitUntil(t, 30*time.Second, "every kiosk told about the promoted model", func() bool {
		for i := range announced {
			if v, _ := announced[i].Load().(string); v != newSHA {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second)

	// Stop creating work; every outbox must empty (all acknowledged) within a bounded time.
	ph.set("settle")
	stopClients()
	clients.Wait()
	waitUntil(t, 60*time.Second, "every kiosk outbox acknowledged", func() bool {
		for _, o := range outboxes {
			if n, err := o.Len(); err != nil || n > 0 {
				return false
			}
		}
		return true
	})
	for i, o := range outboxes {
		if rej, _ := o.RejectedRecords(); len(rej) > 0 {
			t.Errorf("kiosk %d: %d records rejected by the server: %+v", i, len(rej), rej[0])
		}
	}

	// The database: every record created is stored, exactly once.
	var keys []string
	created.Range(func(k, _ any) bool { keys = append(keys, k.(string)); return true })
	conn, err := pgx.Connect(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var stored, distinct, missing int
	err = conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT idempotency_key) FROM feedback
		WHERE client_id LIKE 'scale-%'`).Scan(&stored, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(context.Background(), `SELECT count(*) FROM unnest($1::text[]) AS k
		WHERE NOT EXISTS (SELECT 1 FROM feedback f WHERE f.idempotency_key = k)`, keys).Scan(&missing)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("feedback: %d records created (%d over HTTP, %d duplicate acks after resends), %d stored, %d distinct, %d missing; kiosk websocket (re)connections %d",
		len(keys), httpAcked.Load(), duplicates.Load(), stored, distinct, missing, reconnects.Load())
	if missing != 0 || stored != len(keys) || distinct != stored {
		t.Errorf("feedback lost or duplicated: created %d, stored %d (%d distinct), missing %d", len(keys), stored, distinct, missing)
	}
	if reconnects.Load() <= int64(len(outboxes)) {
		t.Errorf("kiosks connected %d times: the restarts should have made them reconnect", reconnects.Load())
	}

	if b, err := os.ReadFile(filepath.Join(dir, "haproxy.log")); err == nil {
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			if haproxyNotable(l) {
				keep = append(keep, l)
			}
		}
		t.Logf("HAProxy: requests answered 5xx or cut short (termination state not ----, SD--, CR--), %d:\n%s",
			len(keep), strings.Join(keep, "\n"))
	}
	t.Logf("websocket predictions resent after their connection ended: %d", wsResent.Load())
	for _, name := range ph.order {
		t.Logf("phase %-16s %s", name, ph.byName[name])
	}
	for _, name := range []string{"rolling restart", "model promotion"} {
		if c := ph.byName[name]; c.failed.Load() != 0 {
			t.Errorf("%s failed %d requests (%s), want none", name, c.failed.Load(), c)
		}
	}
	if c := ph.byName["rolling restart"]; c.ok.Load() == 0 {
		t.Error("no request completed during the rolling restart")
	}

}

// who tells a replica's refusal (JSON with an error code) from the balancer's own (HTML).
func who(resp *http.Response) string {
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var e protocol.Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return "replica " + e.Code
	}
	return "balancer"
}

// haproxyLine picks the status and the termination state out of an httplog line.
var haproxyLine = regexp.MustCompile(`\] \S+ \S+ \S+ (\d{3}) \d+ \S+ \S+ (\S{4}) `)

// haproxyNotable: a 5xx status, or a termination state other than normal (----), server closed a finished
// websocket (SD--) and client closed an idle connection (CR--).
func haproxyNotable(line string) bool {
	m := haproxyLine.FindStringSubmatch(line)
	return m != nil && (m[1][0] == '5' || !slices.Contains([]string{"----", "SD--", "CR--"}, m[2]))
}

func errClass(err error) string {
	s := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "EOF", "timeout", "broken pipe"} {
		if strings.Contains(s, k) {
			return k
		}
	}
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
