package codec

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
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
