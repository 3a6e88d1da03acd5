package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"time"

	"digitpad/train/mnist"
)

// mnistCanvasName is the 76×64 grey canvas that holds an MNIST test digit (issue 16's "76×64 grey MNIST digit").
const mnistCanvasName = "76x64-gray-mnist"

// mnistScale is how many canvas pixels an MNIST pixel becomes: the 28×28 frame is drawn 56×56, about the size of
// the synthetic 76×64 digit's box.
const mnistScale = 2

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

// mnistPNG draws MNIST sample i dark on white, each pixel as a mnistScale square, centred on a 76×64 grey
// canvas, and encodes it as a PNG.
func mnistPNG(set *mnist.Set, i int) ([]byte, error) {
	const w, h = 76, 64
	g := image.NewGray(image.Rect(0, 0, w, h))
	for k := range g.Pix {
		g.Pix[k] = 255
	}
	x0, y0 := (w-set.Cols*mnistScale)/2, (h-set.Rows*mnistScale)/2
	for y, row := 0, set.Image(i); y < set.Rows*mnistScale; y++ {
		for x := 0; x < set.Cols*mnistScale; x++ {
			v := row[(y/mnistScale)*set.Cols+x/mnistScale]
			g.Pix[(y0+y)*g.Stride+x0+x] = 255 - uint8(v*255+0.5)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		return nil, fmt.Errorf("mnist canvas: %w", err)
	}
	return buf.Bytes(), nil
}

// mnistPayload is the first MNIST test digit labelled 8 (the digit the other load canvases carry) on its
// 76×64 canvas.
func mnistPayload() (*payload, error) {
	set, err := loadMNISTTest()
	if err != nil {
		return nil, err
	}
	for i, l := range set.Labels {
		if l == 8 {
			b, err := mnistPNG(set, i)
			if err != nil {
				return nil, err
			}
			return &payload{name: mnistCanvasName, code: "8", png: b}, nil
		}
	}
	return nil, errors.New("mnist: no 8 in the test set")
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
		b, err := mnistPNG(set, i)
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
