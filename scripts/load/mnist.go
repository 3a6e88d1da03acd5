package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"digitpad/internal/loadcanvas"
	"digitpad/train/mnist"
)

// mnistCanvasName is the 76×64 grey canvas that holds an MNIST test digit (issue 16's "76×64 grey MNIST digit").
const mnistCanvasName = loadcanvas.MNISTName

// loadMNISTTest reads the MNIST test set from where train/mnist finds it (the GoMNIST module; nothing is
// downloaded).
func loadMNISTTest() (*mnist.Set, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, err := mnist.Locate(ctx, "")
	if err != nil {
		return nil, err
	}
	return mnist.LoadTest(dir)
}

// mnistPayload is the first MNIST test digit labelled 8 (the digit the other load canvases carry) on its
// 76×64 canvas.
func mnistPayload() (*payload, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := loadcanvas.MNIST(ctx)
	if err != nil {
		return nil, err
	}
	return &payload{name: c.Name, code: c.Code, png: c.PNG}, nil
}

// answer is what a POST /v1/predict answer says was read: digitpad's "code", or the peer's "digit".
type answer struct {
	Code       string   `json:"code"`
	Digit      *int     `json:"digit"`
	Confidence *float64 `json:"confidence"`
}

func (a answer) text() string {
	if a.Digit != nil {
		return strconv.Itoa(*a.Digit)
	}
	return a.Code
}

// ask posts one PNG and returns what the server read.
func ask(client *http.Client, base string, body []byte) (string, error) {
	res, err := client.Post(base+"/v1/predict", "image/png", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("predict: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", fmt.Errorf("predict: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("predict: %s: %s", res.Status, bytes.TrimSpace(b))
	}
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		return "", fmt.Errorf("predict: answer %q: %w", b, err)
	}
	return a.text(), nil
}

// mnistCheck posts the first n MNIST test digits as 76×64 canvases and fails when fewer than min of them are
// read right (want: a share, 0..1): it shows a server (the peer of make load-peer) really reads digits before its speed is compared.
func mnistCheck(base string, n int, want float64) error {
	set, err := loadMNISTTest()
	if err != nil {
		return err
	}
	n = max(1, min(n, set.Len()))
	client := &http.Client{Timeout: 10 * time.Second}
	right := 0
	for i := range n {
		b, err := loadcanvas.MNISTPNG(set, i)
		if err != nil {
			return err
		}
		got, err := ask(client, base, b)
		if err != nil {
			return fmt.Errorf("MNIST test digit %d: %w", i, err)
		}
		if got == strconv.Itoa(int(set.Labels[i])) {
			right++
		}
	}
	acc := float64(right) / float64(n)
	fmt.Printf("%s read %d of the first %d MNIST test digits right (%.1f%%) as 76x64 grey canvases\n", base, right, n,
		100*acc)
	if acc < want {
		return fmt.Errorf("%.1f%% right, below the required %.1f%%", 100*acc, 100*want)
	}
	return nil
}
