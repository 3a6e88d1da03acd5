package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestSplitRetrainFlags(t *testing.T) {
	rest, s, err := splitRetrainFlags([]string{"--addr", "127.0.0.1:0", "--retrain-every", "24h", "--retrain-promote", "-data=x"})
	if err != nil || s.every != 24*time.Hour || !s.promote || !reflect.DeepEqual(rest, []string{"--addr", "127.0.0.1:0", "-data=x"}) {
		t.Fatalf("rest %q schedule %+v err %v", rest, s, err)
	}
	for _, bad := range [][]string{{"--retrain-every"}, {"--retrain-every", "daily"}, {"--retrain-every=-1h"}, {"--retrain-promote=maybe"}} {
		if _, _, err := splitRetrainFlags(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// serve --retrain-every runs retrains on the server's own store and registry while it serves.
func TestServe_RetrainEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--db", "sqlite:" + filepath.Join(dir, "digitpad.db"),
			"--variant", "fp32", "--retrain-every", "200ms"}, io.Discard, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "no feedback since version 1") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no scheduled retrain reported:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}
