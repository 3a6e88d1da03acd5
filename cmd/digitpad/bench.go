package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// benchResult is the JSON printed by `digitpad bench --json`.
type benchResult struct {
	Model      string  `json:"model"`
	Batch      int     `json:"batch"`
	Threads    int     `json:"threads"`
	Calls      int     `json:"calls"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	UsPerDigit float64 `json:"us_per_digit"`
	DigitsPerS float64 `json:"digits_per_s"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [--model FILE] [--batch N] [--threads N] [--duration D] [--json]", stderr)
	modelPath := fs.String("model", "", "ONNX model file, or models:/NAME@ALIAS or models:/NAME/VERSION from --registry (default: the embedded shipped model)")
	variant := fs.String("variant", "fp32", "model variant (embedded model or models:/ URI): fp32, int8 or fp16")
	rf := addRegistryFlags(fs)
	batch := fs.Int("batch", 1, "digits per model call")
	threads := fs.Int("threads", 1, "goroutines calling the model at once (1 = single-thread latency)")
	dur := fs.Duration("duration", 2*time.Second, "how long to measure (after a short warm-up)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *batch < 1 || *threads < 1 {
		return fmt.Errorf("bench: --batch and --threads must be >= 1")
	}
	lm, err := loadModelFrom(ctx, *modelPath, *variant, rf)
	if err != nil {
		return err
	}
	m := lm.Model
	in := make([]float32, *batch*m.InputSize())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range in {
		if rng.Float32() < 0.2 {
			in[i] = rng.Float32() * lm.Card.InputScale
		}
	}
	// Warm up: fill pools, page in weights.
	warm := make([]float32, *batch*m.OutputSize())
	for range 20 {
		if err := m.Run(in, *batch, warm); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	var (
		mu    sync.Mutex
		lats  []time.Duration
		wg    sync.WaitGroup
		start = time.Now()
		stop  = start.Add(*dur)
	)
	for range *threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]float32, *batch*m.OutputSize())
			local := make([]time.Duration, 0, 1<<16)
			for time.Now().Before(stop) && ctx.Err() == nil {
				t := time.Now()
				if err := m.Run(in, *batch, out); err != nil {
					return
				}
				local = append(local, time.Since(t))
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(lats) == 0 {
		return fmt.Errorf("bench: no call finished")
	}
	slices.Sort(lats)
	pct := func(p float64) float64 {
		return float64(lats[min(len(lats)-1, int(p*float64(len(lats))))].Nanoseconds()) / 1e3
	}
	digits := float64(len(lats) * *batch)
	r := benchResult{
		Model: lm.Card.Name, Batch: *batch, Threads: *threads, Calls: len(lats),
		P50us: pct(0.50), P99us: pct(0.99),
		DigitsPerS: digits / elapsed.Seconds(),
	}
	r.UsPerDigit = 1e6 / r.DigitsPerS * float64(*threads)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	_, err = fmt.Fprintf(stdout, "model %s\nbatch %d, threads %d, %d calls\np50 %.1f µs, p99 %.1f µs per call\n%.2f µs per digit per thread, %.0f digits/s\n",
		r.Model, r.Batch, r.Threads, r.Calls, r.P50us, r.P99us, r.UsPerDigit, r.DigitsPerS)
	return err
}
