// Command dashdemo runs the real server (in-process, in-memory store, the shipped model) on 127.0.0.1 and streams
// labelled traffic through its HTTP API, for the dashboard's browser test and screenshot: MNIST test codes from
// two depots, shifted writing (slanted, thick pen, rotated, unsteady) from one kiosk, clerks' feedback for all,
// and a burst from one depot that gets partly shed. It prints "dashboard at URL" and stops after -duration or on SIGTERM.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"digitpad/assets"
	"digitpad/monitor"
	"digitpad/monitor/traffic"
	"digitpad/server"
	"digitpad/server/internal/memstore"
	"digitpad/shared/protocol"
	"digitpad/train/mnist"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dashdemo:", err)
		os.Exit(1)
	}
}

func run() error {
	duration := flag.Duration("duration", 2*time.Minute, "how long to run")
	rate := flag.Float64("rate", 40, "canvases per second across all clients")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()

	const token = "dashdemo-token"
	st := memstore.New()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Store: st, Token: token, OpenPredict: true,
		SeriesInterval: 500 * time.Millisecond, Monitor: monitor.Config{Window: 50, Every: 10},
		MaxInFlight: 2, LatencyObjective: -1})
	if err != nil {
		return err
	}
	if err := srv.SetModel(assets.Model(), assets.ModelCard()); err != nil {
		return err
	}
	if err := srv.Open(); err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("dashboard at %s/dashboard/\n", srv.URL())

	dir, err := mnist.Locate(ctx, "")
	if err != nil {
		return err
	}
	test, err := mnist.LoadTest(dir)
	if err != nil {
		return err
	}
	order := rand.New(rand.NewPCG(3, 3)).Perm(test.Len())
	canvas := func(client string, i int) (traffic.Canvas, error) {
		if client == "kiosk-7" {
			return traffic.WrittenCode(5, traffic.Shifted, uint64(i))
		}
		ds := make([][784]float32, 5)
		ls := make([]int, 5)
		for k := range 5 {
			j := order[(5*i+k)%len(order)]
			copy(ds[k][:], test.Image(j))
			ls[k] = int(test.Labels[j])
		}
		return traffic.MNISTCode(ds, ls, uint64(i))
	}
	clients := []string{"depot-a", "depot-b", "kiosk-7"}
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	burstAt := time.Now().Add(8 * time.Second)
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		client := clients[i%len(clients)]
		c, err := canvas(client, i)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, c.Image); err != nil {
			return err
		}
		if time.Now().After(burstAt) {
			burstAt = time.Now().Add(30 * time.Second)
			var imgs [][]byte
			for k := range 48 {
				c, err := canvas("depot-a", 5000+48*i+k)
				if err != nil {
					return err
				}
				var b bytes.Buffer
				if err := png.Encode(&b, c.Image); err != nil {
					return err
				}
				imgs = append(imgs, b.Bytes())
			}
			burst(srv.URL(), imgs)
		}
		go predictAndConfirm(srv.URL(), token, client, buf.Bytes(), c.Labels, i)
	}
}

// predictAndConfirm predicts one canvas and sends the clerk's feedback with the true code.
func predictAndConfirm(base, token, client string, img []byte, labels []int, i int) {
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/predict", bytes.NewReader(img))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("X-Client-ID", client)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return
	}
	var p protocol.Prediction
	if json.NewDecoder(res.Body).Decode(&p) != nil {
		return
	}
	code := ""
	for _, l := range labels {
		code += strconv.Itoa(l)
	}
	f := protocol.Feedback{IdempotencyKey: "demo-" + strconv.Itoa(i), PredictionID: p.ID, ClientID: client, Code: code,
		Predicted: p.Code, Digits: p.Digits, ModelSHA256: p.Model.SHA256}
	if len(labels) == len(p.Digits) {
		f.Labels = labels
	}
	b, _ := json.Marshal(f)
	req, _ = http.NewRequest(http.MethodPost, base+"/v1/feedback", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if r, err := http.DefaultClient.Do(req); err == nil {
		r.Body.Close()
	}
}

// burst sends predictions of depot-a all at once: beyond the in-flight bound they are shed with 503.
func burst(base string, imgs [][]byte) {
	var wg sync.WaitGroup
	for _, img := range imgs {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/predict", bytes.NewReader(img))
			req.Header.Set("Content-Type", "image/png")
			req.Header.Set("X-Client-ID", "depot-a")
			if r, err := http.DefaultClient.Do(req); err == nil {
				r.Body.Close()
			}
		})
	}
	wg.Wait()
}
