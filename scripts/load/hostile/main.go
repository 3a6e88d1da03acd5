// Command hostile measures what hostile clients cost well-behaved ones: a few closed-loop clients post a real
// canvas (a 280×280 RGB PNG of one digit) for -duration alone, then again while attackers send the inputs of
// issue 18 — canvas-wide zigzag strokes, 64-item batches of 30-point zigzags and of 16-bit 2048² decompression
// bombs, bodies trickled a byte at a time, idle connections, and malformed requests (GIF, 1e300 coordinates,
// garbage). It prints the well-behaved clients' success rate and p99 for both phases, the attackers' outcomes
// and the server's peak RSS.
// Everything targets -url (127.0.0.1) and stops by itself.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:18090", "server base URL")
	duration := flag.Duration("duration", 10*time.Second, "length of each phase")
	good := flag.Int("good", 4, "well-behaved closed-loop clients")
	pid := flag.Int("pid", 0, "server process id, for its peak RSS (VmHWM)")
	attackerIP := flag.String("attacker-ip", "", "local address the attackers connect from (e.g. 127.0.0.2: another client "+
		"identity than the well-behaved clients'); empty: the same as theirs")
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil {
		log.Fatal(err)
	}
	canvas := digitPNG(280, 280)
	fmt.Printf("hostile clients: %d well-behaved closed-loop clients post a %d-byte 280×280 RGB one-digit PNG; %v per phase\n",
		*good, len(canvas), *duration)

	alone := runGood(*base, canvas, *good, *duration, nil)
	fmt.Printf("  alone:         %s\n", alone)

	stop := make(chan struct{})
	attackers := &outcomes{m: map[string]int{}}
	var wg sync.WaitGroup
	dialer := &net.Dialer{}
	if *attackerIP != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(*attackerIP)}
		fmt.Printf("  attackers connect from %s\n", *attackerIP)
	}
	attack(&wg, stop, dialer, u.Host, *base, attackers)
	time.Sleep(500 * time.Millisecond) // let the attack start
	under := runGood(*base, canvas, *good, *duration, nil)
	close(stop)
	wg.Wait()
	fmt.Printf("  under attack:  %s\n", under)
	fmt.Printf("  attackers' answers: %s\n", attackers)
	if *pid > 0 {
		fmt.Printf("  server peak RSS (VmHWM): %s\n", peakRSS(*pid))
	}
}

// stats is one phase's view from the well-behaved clients.
type stats struct {
	ok, total int
	lat       []time.Duration
	codes     map[int]int
}

func (s stats) String() string {
	if s.total == 0 {
		return "no requests"
	}
	slices.Sort(s.lat)
	p := func(q float64) time.Duration { return s.lat[min(len(s.lat)-1, int(q*float64(len(s.lat))))] }
	return fmt.Sprintf("%d requests, %.2f%% 200, p50 %v, p99 %v, statuses %v", s.total,
		100*float64(s.ok)/float64(s.total), p(0.5).Round(100*time.Microsecond), p(0.99).Round(100*time.Microsecond), s.codes)
}

func runGood(base string, canvas []byte, n int, d time.Duration, _ chan struct{}) stats {
	var mu sync.Mutex
	st := stats{codes: map[int]int{}}
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c := &http.Client{Timeout: 10 * time.Second}
			for time.Now().Before(end) {
				t0 := time.Now()
				res, err := c.Post(base+"/v1/predict", "image/png", bytes.NewReader(canvas))
				code := 0
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					code = res.StatusCode
				}
				el := time.Since(t0)
				mu.Lock()
				st.total++
				st.codes[code]++
				if code == http.StatusOK {
					st.ok++
				}
				st.lat = append(st.lat, el)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return st
}

type outcomes struct {
	mu sync.Mutex
	m  map[string]int
}

func (o *outcomes) add(k string) { o.mu.Lock(); o.m[k]++; o.mu.Unlock() }
func (o *outcomes) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	keys := make([]string, 0, len(o.m))
	for k := range o.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, o.m[k])
	}
	return b.String()
}

// attack starts the attackers; each loops until stop is closed.
func attack(wg *sync.WaitGroup, stop chan struct{}, dialer *net.Dialer, host, base string, o *outcomes) {
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	post := func(kind, ct string, body []byte) {
		path := "/v1/predict"
		if strings.HasSuffix(kind, "-batch") {
			path += "/batch"
		}
		res, err := client.Post(base+path, ct, bytes.NewReader(body))
		if err != nil {
			o.add(kind + ":error")
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		o.add(fmt.Sprintf("%s:%d", kind, res.StatusCode))
	}
	loop := func(n int, f func()) {
		for range n {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						f()
					}
				}
			})
		}
	}
	// 8 connections of 200-point zigzags across a 2048×2048 canvas (2.2 KB each).
	zz := make([][2]float64, 200)
	for i := range zz {
		zz[i] = [2]float64{float64(i%2) * 2047, float64((i/2)%2) * 2047}
	}
	zigzag, _ := json.Marshal(map[string]any{"strokes": [][][2]float64{zz}, "width": 2048, "height": 2048})
	loop(8, func() { post("zigzag", "application/json", zigzag) })
	// 2 connections of 64-item batches of 30-point zigzags across 2048×2048 (20 KB each).
	zz30 := make([]map[string]any, 64)
	for i := range zz30 {
		zz30[i] = map[string]any{"strokes": [][][2]float64{zz[:30]}, "width": 2048, "height": 2048}
	}
	zzBatch, _ := json.Marshal(map[string]any{"items": zz30})
	loop(2, func() { post("zigzag-batch", "application/json", zzBatch) })
	// 2 connections of 64-item bomb batches.
	bomb := base64.StdEncoding.EncodeToString(bombPNG())
	items := make([]map[string]string, 64)
	for i := range items {
		items[i] = map[string]string{"image": bomb}
	}
	batch, _ := json.Marshal(map[string]any{"items": items})
	loop(2, func() { post("bomb-batch", "application/json", batch) })
	// 2 connections of malformed requests.
	var gb bytes.Buffer
	gif.Encode(&gb, image.NewPaletted(image.Rect(0, 0, 64, 64), color.Palette{color.White, color.Black}), nil)
	huge := []byte(`{"strokes":[[[1,1],[1e300,-1e300]]],"width":100,"height":50}`)
	loop(2, func() {
		post("gif", "image/gif", gb.Bytes())
		post("1e300", "application/json", huge)
		post("garbage", "image/png", []byte("\x89PNG\r\n\x1a\nnot really"))
	})
	// 32 slow bodies, a byte every 200 ms, reconnecting when cut off.
	loop(32, func() { slowBody(dialer, host, stop, o) })
	// 256 idle connections held for the whole phase.
	wg.Go(func() {
		var conns []net.Conn
		for range 256 {
			if c, err := dialer.Dial("tcp", host); err == nil {
				conns = append(conns, c)
			}
		}
		o.add(fmt.Sprintf("idle-conns-held:%d", len(conns)))
		<-stop
		for _, c := range conns {
			c.Close()
		}
	})
}

func slowBody(dialer *net.Dialer, host string, stop chan struct{}, o *outcomes) {
	c, err := dialer.Dial("tcp", host)
	if err != nil {
		o.add("slow:error")
		return
	}
	defer c.Close()
	body := `{"strokes":[[[10,10],[20,40]]],"width":100,"height":50}`
	fmt.Fprintf(c, "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	for i := range len(body) {
		select {
		case <-stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := c.Write([]byte{body[i]}); err != nil {
			break
		}
	}
	buf := make([]byte, 32)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := c.Read(buf)
	if f := strings.Fields(string(buf[:n])); len(f) > 1 {
		o.add("slow:" + f[1])
	} else {
		o.add("slow:cut")
	}
}

func digitPNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := h / 5; y < 4*h/5; y++ { // a slanted "1", 16 px wide
		x0 := w/2 - 8 + (h/2-y)/6
		for x := x0; x < x0+16; x++ {
			img.SetRGBA(x, y, color.RGBA{20, 20, 20, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// bombPNG is a 16-bit 2048×2048 RGBA PNG of a digit: 32 MB of pixels in ~30 KB.
func bombPNG() []byte {
	img := image.NewRGBA64(image.Rect(0, 0, 2048, 2048))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := 700; y < 1400; y++ {
		for x := 1000; x < 1100; x++ {
			copy(img.Pix[img.PixOffset(x, y):], []byte{0, 0, 0, 0, 0, 0, 0xff, 0xff})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
