// Package s3test runs internal/s3server as its own process on 127.0.0.1 for tests: Start builds it with `go build`
// into a temporary directory and starts it; Env returns the AWS SDK environment that points clients at it.
package s3test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Server is a running s3server process.
type Server struct {
	// Endpoint is http://127.0.0.1:PORT.
	Endpoint string
	// Bucket exists on the server.
	Bucket string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	dir    string
	done   chan error
}

// Start builds and starts an s3server with one bucket; its data lives in a temporary directory removed by Close.
func Start(bucket string) (*Server, error) {
	dir, err := os.MkdirTemp("", "digitpad-s3test-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "s3server")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "digitpad/internal/s3server")
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("build s3server: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "s3.db"), "-bucket", bucket, "-exit-on-stdin-eof")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start s3server: %w", err)
	}
	s := &Server{Bucket: bucket, cmd: cmd, stdin: stdin, dir: dir, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "s3server listening on "); ok {
				lines <- u
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case u := <-lines:
		s.Endpoint = u
		return s, nil
	case err := <-s.done:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("s3server exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("s3server did not start within 30 s")
	}
}

// Env is the AWS SDK environment for clients of this server (static test credentials, region, endpoint).
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":         "digitpad-test",
		"AWS_SECRET_ACCESS_KEY":     "digitpad-test-secret",
		"AWS_REGION":                "us-east-1",
		"AWS_ENDPOINT_URL_S3":       s.Endpoint,
		"AWS_EC2_METADATA_DISABLED": "true",
	}
}

// Setenv applies Env to this process (for TestMain, before any client is made).
func (s *Server) Setenv() {
	for k, v := range s.Env() {
		os.Setenv(k, v)
	}
}

// URL is s3://BUCKET/PREFIX on this server.
func (s *Server) URL(prefix string) string { return "s3://" + s.Bucket + "/" + prefix }

// Close stops the server (closing its stdin, then killing it after 5 s) and removes its data.
func (s *Server) Close() error {
	s.stdin.Close()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return os.RemoveAll(s.dir)
}
