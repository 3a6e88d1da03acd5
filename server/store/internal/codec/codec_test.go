package codec

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"digitpad/shared/ink"
)

func TestFloatInputs_StoredAsBytesLikeFeedback(t *testing.T) {
	var a, b [784]float32
	for i := range a {
		a[i] = float32(i%256) / 255
		b[i] = float32(i%7) / 6.5 // not on the byte grid: rounds to the nearest k/255, clamped to 0..1
	}
	blob := PackFloatInputs([][784]float32{a, b})
	if len(blob) != 1+2*784 {
		t.Fatalf("blob of %d bytes, want %d", len(blob), 1+2*784)
	}
	got, err := UnpackFloatInputs(blob)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != a {
		t.Fatalf("byte-grid inputs changed in a round trip")
	}
	for i, v := range got[1] {
		want := float32(uint8(min(max(b[i], 0), 1)*255+0.5)) / 255
		if v != want || math.Abs(float64(v-min(b[i], 1))) > 0.5/255+1e-7 {
			t.Fatalf("pixel %d: %v -> %v, want %v", i, b[i], v, want)
		}
	}
}

func TestFloatInputs_ReadsFloat32BlobsOfEarlierVersions(t *testing.T) {
	old := make([]byte, 784*4)
	binary.LittleEndian.PutUint32(old[4*10:], math.Float32bits(0.123))
	got, err := UnpackFloatInputs(old)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0][10] != 0.123 || got[0][11] != 0 {
		t.Errorf("old blob read as %v", got[0][8:12])
	}
	if _, err := UnpackFloatInputs(make([]byte, 785*2)); err == nil || !strings.Contains(err.Error(), "28×28") {
		t.Errorf("bad length: error %v", err)
	}
	if in, err := UnpackFloatInputs(nil); in != nil || err != nil {
		t.Errorf("nil blob: %v, %v", in, err)
	}
}

// byteGrid is what a stored input reads back as: each pixel rounded to k/255 as protocol.InputBytes does.
func byteGrid(in [][784]float32) [][784]float32 {
	out := make([][784]float32, len(in))
	for i := range in {
		for j, v := range in[i] {
			out[i][j] = float32(ink.InputByte(v)) / 255
		}
	}
	return out
}

func TestFloatInputs_SparseDigitsStoredAsRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name    string
		density float64 // share of inked pixels
		n       int
	}{
		{"blank", 0, 1},
		{"one pixel", 1.0 / 784, 1},
		{"mnist-like", 0.2, 1},
		{"mnist-like code", 0.2, 5},
		{"half inked", 0.5, 2},
		{"dense", 0.95, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := make([][784]float32, c.n)
			for i := range in {
				// A blob of ink in the middle rows, like a centred digit, with grey anti-aliased edges.
				for j := range in[i] {
					if rng.Float64() < c.density*2 && j/28 > 4 && j/28 < 24 || c.density > 0.9 && rng.Float64() < c.density {
						in[i][j] = rng.Float32() * 1.1
					}
				}
			}
			blob := PackFloatInputs(in)
			if len(blob) > 1+c.n*784 || len(blob)%(784*4) == 0 {
				t.Fatalf("blob of %d bytes for %d inputs", len(blob), c.n)
			}
			if c.density <= 0.2 && len(blob) > 1+c.n*450 {
				t.Errorf("a sparse input takes %d bytes, want runs (< %d)", len(blob), 1+c.n*450)
			}
			got, err := UnpackFloatInputs(blob)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, byteGrid(in)) {
				t.Errorf("inputs read back differ from their byte rounding")
			}
		})
	}
}

// TestFloatInputs_RunsNeverLookLikeFloat32s builds run blobs of every length near 784*4 bytes: the one that would
// have that length gets a pad byte (a float32 blob's length is a multiple of 784*4), and all read back.
func TestFloatInputs_RunsNeverLookLikeFloat32s(t *testing.T) {
	var lead [784]float32
	for j := range 772 {
		lead[j] = 0.5
	}
	padded := false
	for m := 700; m <= 784; m++ {
		last := [784]float32{}
		for j := range m {
			last[j] = 1
		}
		in := [][784]float32{lead, lead, lead, last}
		blob := PackFloatInputs(in)
		if blob[0] != inputsRuns {
			continue
		}
		if len(blob)%(784*4) == 0 {
			t.Fatalf("m=%d: run blob of %d bytes, the length of a float32 blob", m, len(blob))
		}
		padded = padded || blob[len(blob)-1] == 0 && len(blob)%(784*4) == 1
		got, err := UnpackFloatInputs(blob)
		if err != nil {
			t.Fatalf("m=%d: %v", m, err)
		}
		if !reflect.DeepEqual(got, byteGrid(in)) {
			t.Fatalf("m=%d: inputs changed in a round trip", m)
		}
	}
	if !padded {
		t.Error("no blob needed the pad byte: the test no longer reaches the case it is for")
	}
}

func TestFloatInputs_BadRunBlobs(t *testing.T) {
	good := PackFloatInputs([][784]float32{{100: 1, 101: 0.5}})
	for _, c := range []struct {
		name string
		blob []byte
	}{
		{"no count", []byte{inputsRuns}},
		{"zero inputs", []byte{inputsRuns, 0, 255, 0}},
		{"more inputs than bytes", []byte{inputsRuns, 9, 0, 1}},
		{"truncated", good[:len(good)-1]},
		{"run past 784 pixels", []byte{inputsRuns, 1, 255, 0, 255, 0, 255, 0, 255, 0}},
		{"literal past the blob", []byte{inputsRuns, 1, 0, 5, 1, 2}},
		{"trailing bytes", append(bytes.Clone(good), 7)},
	} {
		if _, err := UnpackFloatInputs(c.blob); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// BenchmarkPackFloatInputs packs one input inked like an MNIST "0" (a fifth of its pixels), as the prediction
// log does for every one-digit answer.
func BenchmarkPackFloatInputs(b *testing.B) {
	var in [784]float32
	for y := range 28 {
		for x := range 28 {
			dx, dy := (float64(x)-13.5)/6, (float64(y)-13.5)/8.5
			d := math.Abs(math.Sqrt(dx*dx+dy*dy)-1) * 6
			in[y*28+x] = float32(min(1, max(0, 1.8-d)))
		}
	}
	ins := [][784]float32{in}
	b.ReportAllocs()
	for b.Loop() {
		PackFloatInputs(ins)
	}
}

// Values off the 0..1 grid read back as protocol.InputBytes rounds them, in runs as in dense blobs.
func TestFloatInputs_OddValuesRoundAsInputBytes(t *testing.T) {
	var in [784]float32
	odd := []float32{float32(math.Copysign(0, -1)), -0.3, float32(math.NaN()), float32(math.Inf(1)), 1.7, 0.001, 0.0019,
		0.002, 0.5 / 255, 1e-30}
	for i, v := range odd {
		in[100+3*i] = v
	}
	blob := PackFloatInputs([][784]float32{in})
	if blob[0] != inputsRuns {
		t.Fatalf("format %d, want runs", blob[0])
	}
	got, err := UnpackFloatInputs(blob)
	if err != nil {
		t.Fatal(err)
	}
	if want := byteGrid([][784]float32{in}); !reflect.DeepEqual(got, want) {
		for j := range in {
			if got[0][j] != want[0][j] {
				t.Errorf("pixel %d: %v read back as %v, want %v", j, in[j], got[0][j], want[0][j])
			}
		}
	}
}
