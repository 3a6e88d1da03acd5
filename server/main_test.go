package server_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"digitpad/server"
)

func TestProgram_DataDirGetsTokenAndSQLiteStore(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	p := server.NewProgram(&stdout, &stderr)
	if err := p.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data", dir, "--log-json"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	defer p.Close()
	url := p.Server.URL()
	if !strings.Contains(stdout.String(), url) {
		t.Errorf("stdout %q does not name %s", stdout.String(), url)
	}
	info, err := os.Stat(filepath.Join(dir, "token"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v mode %v, want 0600", err, info)
	}
	if _, err := os.Stat(filepath.Join(dir, "digitpad.db")); err != nil {
		t.Errorf("default SQLite store not created: %v", err)
	}
	tok, _ := os.ReadFile(filepath.Join(dir, "token"))
	f := sampleFeedback("prog-k", "12")
	if r := postJSON(t, url+"/v1/feedback", f, "Authorization", "Bearer "+strings.TrimSpace(string(tok))); r.Status != http.StatusCreated {
		t.Errorf("feedback with the generated token: %d %s", r.Status, r.Body)
	}
	if r := do(t, http.MethodGet, url+"/readyz", "", nil); r.Status != 200 {
		t.Errorf("readyz: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(stderr.String(), `"msg":"ready"`) {
		t.Errorf("no JSON ready log line in %s", stderr.String())
	}
}

func TestProgram_RejectsBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"--nope"}},
		{"stray argument", []string{"extra"}},
		{"bad duration", []string{"--batch-wait", "soon"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := server.NewProgram(&out, &out).ParseFlags(c.args); err == nil {
				t.Errorf("ParseFlags(%q) = nil, want an error", c.args)
			}
		})
	}
}

func TestProgram_BadModelFileFailsToStart(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(model, []byte("not a model"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := server.Main(t.Context(), []string{"--addr", "127.0.0.1:0", "--db", "mem:", "--data", dir, "--model", model}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "model") {
		t.Errorf("Main with a bad model = %v, want a model error", err)
	}
}
