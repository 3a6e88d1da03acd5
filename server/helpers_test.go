package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"digitpad/assets"
	"digitpad/server"
	"digitpad/server/internal/memstore"
	"digitpad/shared/ink"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

const testToken = "test-token-0123456789"

// testServer is a real server on 127.0.0.1:0 with an in-memory store.
type testServer struct {
	*server.Server
	URL   string
	Store *memstore.Store
}

// mustOpen starts a server with the shipped model and open prediction; opts adjust the config.
func mustOpen(tb testing.TB, opts ...func(*server.Config)) *testServer {
	tb.Helper()
	st := memstore.New()
	cfg := server.Config{
		Addr: "127.0.0.1:0", Store: st, Token: testToken, OpenPredict: true,
		LogInterval: 10 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	if err := s.SetModel(assets.Model(), assets.ModelCard()); err != nil {
		tb.Fatalf("SetModel: %v", err)
	}
	if err := s.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return &testServer{Server: s, URL: s.URL(), Store: st}
}

// response is a decoded HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
}

// apiError decodes an error body, failing unless it has exactly the documented fields.
func (r *response) apiError(tb testing.TB) server.APIError {
	tb.Helper()
	var e server.APIError
	r.decode(tb, &e)
	if e.Code == "" || e.Message == "" {
		tb.Fatalf("error body %s lacks code or message", r.Body)
	}
	return e
}

func do(tb testing.TB, method, url, contentType string, body []byte, header ...string) *response {
	tb.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func postJSON(tb testing.TB, url string, v any, header ...string) *response {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return do(tb, http.MethodPost, url, "application/json", b, header...)
}

func bearer() []string { return []string{"Authorization", "Bearer " + testToken} }

// writeCode returns synthetic strokes of text centred on a w×h canvas.
func writeCode(tb testing.TB, text string, w, h int) []ink.Stroke {
	tb.Helper()
	p := synth.Centered(synth.Defaults(), len(text), w, h)
	p.Seed = 7
	c, err := synth.Write(text, p)
	if err != nil {
		tb.Fatalf("synth.Write(%q): %v", text, err)
	}
	return c.Strokes
}

func strokesJSON(strokes []ink.Stroke) [][][2]float64 {
	out := make([][][2]float64, len(strokes))
	for i, s := range strokes {
		for _, p := range s {
			out[i] = append(out[i], [2]float64{p.X, p.Y})
		}
	}
	return out
}

// codePNG renders text as dark ink on white, as a pad's canvas snapshot would be.
func codePNG(tb testing.TB, text string) []byte {
	tb.Helper()
	const w, h = 640, 160
	img, err := synth.Render(writeCode(tb, text, w, h), w, h, synth.Pen{Width: 8, Background: color.White})
	if err != nil {
		tb.Fatalf("render: %v", err)
	}
	return encodePNG(tb, img)
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func blankPNG(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewGray(image.Rect(0, 0, 200, 100))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	return encodePNG(tb, img)
}

// hugePNG is a valid PNG signature and IHDR claiming w×h pixels, followed by no image data: a decompression-bomb
// header that must be refused before anything is allocated.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grayscale
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// sampleFeedback is a valid feedback record for key.
func sampleFeedback(key, code string) protocol.Feedback {
	labels := make([]int, len(code))
	for i, c := range code {
		labels[i] = int(c - '0')
	}
	return protocol.Feedback{
		IdempotencyKey: key, ClientID: "pad-1", Code: code, Labels: labels, Predicted: code,
		ModelSHA256: strings.Repeat("ab", 32), CreatedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
	}
}

// wsClient is a test websocket client reading server messages into a channel.
type wsClient struct {
	conn *websocket.Conn
	msgs chan protocol.Envelope
	err  chan error // the read error that ended the connection
}

func dialWS(tb testing.TB, base string, header http.Header) *wsClient {
	tb.Helper()
	c, err := tryDialWS(base, header)
	if err != nil {
		tb.Fatalf("dial websocket: %v", err)
	}
	tb.Cleanup(func() { c.conn.Close() })
	return c
}

func tryDialWS(base string, header http.Header) (*wsClient, error) {
	url := "ws" + strings.TrimPrefix(base, "http") + "/v1/ws"
	conn, res, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		if res != nil {
			b, _ := io.ReadAll(res.Body)
			return nil, &dialError{status: res.StatusCode, body: b, err: err}
		}
		return nil, err
	}
	c := &wsClient{conn: conn, msgs: make(chan protocol.Envelope, 64), err: make(chan error, 1)}
	go func() {
		for {
			var env protocol.Envelope
			if err := conn.ReadJSON(&env); err != nil {
				c.err <- err
				close(c.msgs)
				return
			}
			c.msgs <- env
		}
	}()
	return c, nil
}

type dialError struct {
	status int
	body   []byte
	err    error
}

func (e *dialError) Error() string { return e.err.Error() + ": " + string(e.body) }

func (c *wsClient) send(tb testing.TB, typ, id string, data any) {
	tb.Helper()
	env, err := protocol.NewEnvelope(typ, id, data)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.conn.WriteJSON(env); err != nil {
		tb.Fatalf("write %s: %v", typ, err)
	}
}

// next returns the next message, failing after 10 s.
func (c *wsClient) next(tb testing.TB) protocol.Envelope {
	tb.Helper()
	select {
	case env, ok := <-c.msgs:
		if !ok {
			tb.Fatalf("connection closed: %v", <-c.err)
		}
		return env
	case <-time.After(10 * time.Second):
		tb.Fatal("no websocket message within 10s")
	}
	return protocol.Envelope{}
}

// nextOf skips model announcements.
func (c *wsClient) nextOf(tb testing.TB, typ string) protocol.Envelope {
	tb.Helper()
	for {
		env := c.next(tb)
		if env.Type == typ || env.Type == protocol.TypeError {
			return env
		}
		if env.Type != protocol.TypeModel {
			tb.Fatalf("got %s message %s, want %s", env.Type, env.Data, typ)
		}
	}
}

func decodeData[T any](tb testing.TB, env protocol.Envelope) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(env.Data, &v); err != nil {
		tb.Fatalf("decode %s data %s: %v", env.Type, env.Data, err)
	}
	return v
}

// fakeEngine recognises without a model: each canvas is one digit, the number of strokes mod 10 (images: 1).
// Gate, when set, blocks Classify until it is closed; Prepare panics for format "panic".
type fakeEngine struct {
	info    recognize.ModelInfo
	gate    chan struct{}
	mu      sync.Mutex
	batches []int
	entered chan int // receives each batch size as Classify starts, when set
}

type fakeJob struct{ res recognize.Result }

func (j *fakeJob) Result() *recognize.Result { return &j.res }

func (e *fakeEngine) Info() recognize.ModelInfo { return e.info }

func (e *fakeEngine) Prepare(in server.Input, opt recognize.Options) (server.Job, error) {
	if opt.Format == "panic" {
		panic("fake engine asked to panic")
	}
	d := 1
	if in.Image == nil && in.Mask == nil {
		if len(in.Strokes) == 0 {
			return nil, ink.ErrNoInk
		}
		d = len(in.Strokes) % 10
	}
	return &fakeJob{res: recognize.Result{Code: string(rune('0' + d)), Confidence: 0.99,
		Digits: []recognize.Digit{{Digit: d, Confidence: 0.99}}, Confirm: []int{}, Model: e.info}}, nil
}

func (e *fakeEngine) Classify(jobs []server.Job) error {
	if e.entered != nil {
		e.entered <- len(jobs)
	}
	if e.gate != nil {
		<-e.gate
	}
	e.mu.Lock()
	e.batches = append(e.batches, len(jobs))
	e.mu.Unlock()
	return nil
}

func withFake(e *fakeEngine) func(*server.Config) {
	if e.info.Name == "" {
		e.info = recognize.ModelInfo{Name: "fake", SHA256: strings.Repeat("0", 64)}
	}
	return func(c *server.Config) {
		c.Loader = func(onnx, card []byte) (server.Engine, error) { return e, nil }
	}
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	waitWithin(tb, 10*time.Second, what, cond)
}

func waitWithin(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// postLoop starts a closed-loop client on wg: it POSTs body to url until stop is closed or got returns false.
// got sees each answer (err: the request failed) before its body is closed.
func postLoop(wg *sync.WaitGroup, stop <-chan struct{}, url, contentType string, body []byte,
	got func(res *http.Response, err error) bool) {
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := http.Post(url, contentType, bytes.NewReader(body))
			more := got(res, err)
			if res != nil {
				res.Body.Close()
			}
			if !more {
				return
			}
		}
	})
}

// hangUp sends a request in the background and returns a function that cancels it — the client hanging up — and
// waits until the client call has returned.
func hangUp(tb testing.TB, url, contentType string, body []byte) (cancel func()) {
	tb.Helper()
	ctx, stop := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	return func() { stop(); <-done }
}

// waitCancelledCounted waits until the server has counted one client cancellation and returns its metrics,
// which must show a 499 for it.
func waitCancelledCounted(tb testing.TB, url string) string {
	tb.Helper()
	waitFor(tb, "the hang-up to be counted", func() bool {
		return strings.Contains(metricsText(tb, url), `digitpad_rejections_total{reason="cancelled"} 1`)
	})
	m := metricsText(tb, url)
	if !strings.Contains(m, `code="499"`) {
		tb.Errorf("no 499 for the abandoned request:\n%s", grepLines(m, "digitpad_http_requests_total"))
	}
	return m
}
