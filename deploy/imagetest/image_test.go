//go:build podman

// Package imagetest runs the container image that `make image` builds with podman on 127.0.0.1, the way a
// cluster would: read-only root filesystem, no capabilities, a non-root user, a tmpfs for the SQLite default.
// `make test-image` builds the image and runs this test with DIGITPAD_IMAGE set.
package imagetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// podmanLogs returns the container's stdout and stderr (podman logs replays each on its own stream).
func podmanLogs(name string) string {
	out, _ := exec.Command("podman", "logs", name).CombinedOutput()
	return string(out)
}

func podman(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "podman", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

func TestImage_ServesPredictsAndDrainsOnSIGTERM(t *testing.T) {
	image := os.Getenv("DIGITPAD_IMAGE")
	if image == "" {
		t.Fatal("DIGITPAD_IMAGE is not set: run `make test-image`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The image's own configuration: non-root user and the serve command.
	cfg, err := podman(ctx, "image", "inspect", "--format", "{{.Config.User}} {{json .Config.Entrypoint}} {{.Size}}", image)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(cfg)
	if len(f) != 3 || f[0] != "65532:65532" || f[1] != `["/digitpad"]` {
		t.Fatalf("image config = %q, want user 65532:65532 and entrypoint /digitpad", cfg)
	}
	t.Logf("image %s: %s bytes uncompressed", image, f[2])

	name := fmt.Sprintf("digitpad-imagetest-%d", time.Now().UnixNano())
	args := []string{"run", "-d", "--name", name}
	args = append(args, strings.Fields(os.Getenv("DIGITPAD_PODMAN_RUN_FLAGS"))...)
	args = append(args, "--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges",
		"--tmpfs", "/data:rw,size=64m,U", "-p", "127.0.0.1::8080", image)
	if _, err := podman(ctx, args...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container logs:\n%s", podmanLogs(name))
		}
		_, _ = podman(context.Background(), "rm", "-f", "-t", "0", name)
	})

	hostPort, err := podman(ctx, "port", name, "8080/tcp")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hostPort, "127.0.0.1:") {
		t.Fatalf("published on %q, want 127.0.0.1 only", hostPort)
	}
	base := "http://" + hostPort

	// Ready: model loaded and store reachable.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 60 s (last: %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The process inside runs as the image's user, not root.
	if top, err := podman(ctx, "top", name, "user", "args"); err != nil {
		t.Fatal(err)
	} else if lines := strings.Split(top, "\n"); len(lines) != 2 || !slices.Contains([]string{"digitpad", "65532"}, strings.Fields(lines[1])[0]) {
		t.Fatalf("podman top:\n%s\nwant one process, running as uid 65532 (digitpad)", top)
	}

	// A prediction through the published port, with the embedded model.
	png, err := os.ReadFile("../../assets/samples/20500_mnist.png")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"image": base64.StdEncoding.EncodeToString(png)})
	resp, err := http.Post(base+"/v1/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var pred struct {
		Code  string                  `json:"code"`
		Model struct{ SHA256 string } `json:"model"`
	}
	err = json.NewDecoder(resp.Body).Decode(&pred)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("predict: status %d, %v", resp.StatusCode, err)
	}
	if pred.Code != "20500" || len(pred.Model.SHA256) != 64 {
		t.Fatalf("predict = %+v, want code 20500 from the embedded model", pred)
	}

	// The web pad is embedded: the page and its wasm.
	for _, p := range []string{"/", "/gen/app.wasm"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
	}

	// SIGTERM with a websocket open: the server says "going away" (1001) and the container exits 0.
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+hostPort+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, _, err := ws.ReadMessage(); err != nil { // the model announcement
		t.Fatal(err)
	}
	if _, err := podman(ctx, "kill", "--signal", "TERM", name); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	var closeErr *websocket.CloseError
	for {
		if _, _, err = ws.ReadMessage(); err != nil {
			break
		}
	}
	if !errors.As(err, &closeErr) || closeErr.Code != websocket.CloseGoingAway {
		t.Errorf("websocket ended with %v, want close 1001", err)
	}
	code, err := podman(ctx, "wait", name)
	if err != nil {
		t.Fatal(err)
	}
	if code != "0" {
		t.Errorf("exit code after SIGTERM = %s, want 0", code)
	}
	logs := podmanLogs(name)
	if !strings.Contains(logs, `"msg":"ready"`) {
		t.Errorf("logs lack the JSON ready line:\n%s", logs)
	}
}
