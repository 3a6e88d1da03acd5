package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"digitpad/server/store"
	"digitpad/server/store/open"
	"digitpad/shared/protocol"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// testserverBinary builds server/internal/testserver (server.Main in its own process) once per test run.
func testserverBinary(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "digitpad-testserver-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "testserver")
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		out, err := exec.Command(goBin, "build", "-o", binPath, "digitpad/server/internal/testserver").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build testserver: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		tb.Fatal(binErr)
	}
	return binPath
}

// proc is one running server process.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	exited chan struct{} // closed once the process has exited; err is then what Wait returned
	err    error
}

// kill ends the process with SIGKILL, as a crash would, and waits until it has exited (a no-op once it has).
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop asks the process to stop (SIGTERM) and waits up to d: its exit error, or an error when it is still
// running by then (it is killed).
func (p *proc) stop(d time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(d):
		p.kill()
		return fmt.Errorf("still running %v after SIGTERM", d)
	}
}

// startProc runs the server binary and waits until it prints its URL (it prints once ready); the process is
// killed at the end of the test if it is still running.
func startProc(tb testing.TB, args ...string) *proc {
	tb.Helper()
	cmd := exec.Command(testserverBinary(tb), append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		tb.Fatalf("server printed no URL: %v; stderr:\n%s", err, p.stderr)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout); p.err = cmd.Wait(); close(p.exited) }()
	tb.Cleanup(p.kill)
	for _, w := range strings.Fields(line) {
		if strings.HasPrefix(w, "http://") {
			p.url = w
			break
		}
	}
	if p.url == "" {
		tb.Fatalf("no URL in %q", line)
	}
	tb.Logf("server pid %d ready at %s after %v", cmd.Process.Pid, p.url, time.Since(start).Round(time.Millisecond))
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestCrash_AckedFeedbackStoredExactlyOnce sends feedback from HTTP and websocket clients while the server process
// is killed with SIGKILL and restarted, several times. Clients resend until acknowledged and sometimes resend
// acknowledged records. At the end, every key the clients sent is in the store exactly once, with the id of its
// first acknowledgement — on SQLite, and on PostgreSQL when DIGITPAD_TEST_POSTGRES names one (make test sets it).
func TestCrash_AckedFeedbackStoredExactlyOnce(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { crashTest(t, "sqlite:"+filepath.Join(t.TempDir(), "feedback.db")) })
	t.Run("postgres", func(t *testing.T) { crashTest(t, postgresSchema(t)) })
}

// postgresSchema returns a DSN for a fresh schema in the test database (dropped afterwards), skipping when none
// is configured outside CI.
func postgresSchema(t *testing.T) string {
	dsn := os.Getenv("DIGITPAD_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("DIGITPAD_TEST_POSTGRES is not set: CI must run the crash test on PostgreSQL")
		}
		t.Skip("DIGITPAD_TEST_POSTGRES is not set; make test starts a throwaway PostgreSQL")
	}
	admin, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	name := fmt.Sprintf("crash_%d", rand.Uint64())
	if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func crashTest(t *testing.T, db string) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--db", db, "--token-file", tokenFile, "--data", dir, "--rate", "0"}

	var current atomic.Pointer[string]
	p := startProc(t, args...)
	current.Store(&p.url)

	const clients, perClient = 4, 40
	var mu sync.Mutex
	acked := map[string]string{} // key -> feedback id from its first ack
	record := func(t *testing.T, key string, a protocol.Ack) {
		mu.Lock()
		defer mu.Unlock()
		if first, ok := acked[key]; ok && first != a.FeedbackID {
			t.Errorf("key %s acked as %s, earlier as %s", key, a.FeedbackID, first)
		}
		if _, ok := acked[key]; !ok {
			acked[key] = a.FeedbackID
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			send := httpSender(testToken)
			if c == 0 {
				send = wsSender(testToken)
			}
			for i := range perClient {
				key := fmt.Sprintf("client%d-rec%02d", c, i)
				f := sampleFeedback(key, fmt.Sprintf("%05d", rng.IntN(100000)))
				for ctx.Err() == nil {
					a, err := send(*current.Load(), f)
					if err == nil {
						record(t, key, a)
						break
					}
					time.Sleep(10 * time.Millisecond) // server down or restarting: resend the same record
				}
				if i > 0 && rng.IntN(4) == 0 { // resend an acknowledged record: must not duplicate
					old := fmt.Sprintf("client%d-rec%02d", c, rng.IntN(i))
					mu.Lock()
					_, ok := acked[old]
					mu.Unlock()
					if a, err := send(*current.Load(), sampleFeedbackKey(old)); ok && err == nil {
						record(t, old, a)
					}
				}
			}
		})
	}

	for kill := range 3 {
		// Kill at a quarter, half and three quarters of the records, while every client is mid-stream.
		n := 0
		waitWithin(t, time.Minute, "clients to make progress", func() bool {
			mu.Lock()
			defer mu.Unlock()
			n = len(acked)
			return n >= (kill+1)*clients*perClient/4
		})
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
		p.kill()
		t.Logf("kill %d: SIGKILL with %d records acked", kill+1, n)
		p = startProc(t, args...)
		current.Store(&p.url)
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("clients did not finish in time")
	}

	// A clean stop this time: SIGTERM must exit 0.
	if err := p.stop(30 * time.Second); err != nil {
		t.Errorf("server exit after SIGTERM: %v; stderr:\n%s", err, p.stderr)
	}

	st, err := open.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var all []store.Feedback
	after := ""
	for {
		page, err := st.Feedback(context.Background(), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	count := map[string]int{}
	for _, f := range all {
		count[f.IdempotencyKey]++
		if id, ok := acked[f.IdempotencyKey]; ok && id != f.ID {
			t.Errorf("key %s stored as %s, acked as %s", f.IdempotencyKey, f.ID, id)
		}
	}
	for key, n := range count {
		if n != 1 {
			t.Errorf("key %s stored %d times", key, n)
		}
	}
	if len(acked) != clients*perClient {
		t.Errorf("%d keys acked, want %d", len(acked), clients*perClient)
	}
	for key := range acked {
		if count[key] != 1 {
			t.Errorf("acked key %s stored %d times", key, count[key])
		}
	}
	t.Logf("%d records acked and stored once each across 3 SIGKILLs", len(all))
}

// sampleFeedbackKey rebuilds the record a client sent for key (the code does not matter for idempotency).
func sampleFeedbackKey(key string) protocol.Feedback { return sampleFeedback(key, "1") }

type sender func(base string, f protocol.Feedback) (protocol.Ack, error)

func httpSender(token string) sender {
	client := &http.Client{Timeout: 5 * time.Second}
	return func(base string, f protocol.Feedback) (protocol.Ack, error) {
		b, _ := json.Marshal(f)
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/feedback", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return protocol.Ack{}, err
		}
		defer res.Body.Close()
		var a protocol.Ack
		if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
			return a, fmt.Errorf("status %d", res.StatusCode)
		}
		return a, json.NewDecoder(res.Body).Decode(&a)
	}
}

// wsSender keeps one websocket, reconnecting after failures, and waits for each record's ack.
func wsSender(token string) sender {
	var conn *websocket.Conn
	var connURL string
	seq := 0
	return func(base string, f protocol.Feedback) (protocol.Ack, error) {
		if conn != nil && connURL != base {
			conn.Close()
			conn = nil
		}
		if conn == nil {
			url := "ws" + strings.TrimPrefix(base, "http") + "/v1/ws"
			c, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
			if err != nil {
				return protocol.Ack{}, err
			}
			conn, connURL = c, base
		}
		seq++
		id := fmt.Sprint(seq)
		env, _ := protocol.NewEnvelope(protocol.TypeFeedback, id, f)
		fail := func(err error) (protocol.Ack, error) {
			conn.Close()
			conn = nil
			return protocol.Ack{}, err
		}
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := conn.WriteJSON(env); err != nil {
			return fail(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			var got protocol.Envelope
			if err := conn.ReadJSON(&got); err != nil {
				return fail(err)
			}
			if got.ID != id {
				continue // announcements, late replies
			}
			if got.Type != protocol.TypeAck {
				return protocol.Ack{}, fmt.Errorf("%s: %s", got.Type, got.Data)
			}
			var a protocol.Ack
			return a, json.Unmarshal(got.Data, &a)
		}
	}
}

// TestProcess_SIGTERMClosesWebsocketsWith1001 checks the real signal path: a connected client is told the server
// is going away, and the process exits 0.
func TestProcess_SIGTERMClosesWebsocketsWith1001(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, "--db", "mem:", "--data", dir)
	ws, err := tryDialWS(p.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.conn.Close()
	ws.next(t) // announcement: the connection is registered
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ws.msgs:
	case <-time.After(10 * time.Second):
		t.Fatal("websocket not closed after SIGTERM")
	}
	if err := <-ws.err; !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("websocket ended with %v, want 1001", err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("exit: %v; stderr:\n%s", p.err, p.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("process still running 10s after SIGTERM")
	}
}
