package model_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
)

func graphFile(tb testing.TB, onnxBytes []byte) []byte {
	tb.Helper()
	g, err := onnxload.GraphFile(onnxBytes)
	if err != nil {
		tb.Fatalf("GraphFile: %v", err)
	}
	return g
}

// A model travelling as a graph file must be the same model: same plan, same outputs bit for bit, same identity.
func TestGraphFile_RunsExactlyLikeTheONNXFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for name, b := range testModels(t) {
		t.Run(name, func(t *testing.T) {
			direct := mustLoad(t, b)
			gf := graphFile(t, b)
			viaGraph, err := model.LoadGraph(gf)
			if err != nil {
				t.Fatalf("LoadGraph: %v", err)
			}
			sum := sha256.Sum256(b)
			if got, want := viaGraph.SHA256(), hex.EncodeToString(sum[:]); got != want {
				t.Errorf("SHA256 = %s, want the ONNX file's %s", got, want)
			}
			if !slices.Equal(viaGraph.Ops(), direct.Ops()) {
				t.Errorf("plans differ:\n%s\nvs\n%s", strings.Join(viaGraph.Ops(), "\n"), strings.Join(direct.Ops(), "\n"))
			}
			const n = 3
			in := make([]float32, n*direct.InputSize())
			for i := range in {
				in[i] = rng.Float32()
			}
			a, c := make([]float32, n*direct.OutputSize()), make([]float32, n*direct.OutputSize())
			if err := direct.Run(in, n, a); err != nil {
				t.Fatal(err)
			}
			if err := viaGraph.Run(in, n, c); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a, c) {
				t.Errorf("outputs differ: %v vs %v", a[:10], c[:10])
			}
			again := graphFile(t, b)
			if !bytes.Equal(gf, again) {
				t.Error("graph file bytes differ between two encodings of one model")
			}
		})
	}
}

// The int8 graph file is what the browser downloads: it must stay about as small as the ONNX file.
func TestGraphFile_Int8IsNoBiggerThanItsONNXFile(t *testing.T) {
	b := shippedFile(t, "model-int8.onnx")
	if b == nil {
		t.Fatal("assets/model-int8.onnx missing")
	}
	if gf := graphFile(t, b); len(gf) > len(b) {
		t.Errorf("graph file %d bytes, ONNX file %d bytes", len(gf), len(b))
	}
}

func TestUnmarshalGraph_RejectsBadBytes(t *testing.T) {
	good := graphFile(t, trainerShaped(t, 2, -1, 2, 4, 8))
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	newer := slices.Clone(good)
	newer[7] = 99
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a digitpad graph file"},
		{"ONNX file", zooModel(t), "not a digitpad graph file"},
		{"newer version", newer, "version 99"},
		{"flipped byte", flipped, "checksum"},
		{"huge tensor", hostileGraph(t, 1<<25, 1<<25), "tensor too large"},
		{"dimension beyond the file", hostileGraph(t, 1<<20), "truncated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := model.UnmarshalGraph(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
			if tc.name == "ONNX file" && !errors.Is(err, model.ErrNotGraph) {
				t.Errorf("error = %v, want ErrNotGraph", err)
			}
		})
	}
	// Every truncation is an error, never a panic.
	for n := 0; n < len(good); n += 1 + n/16 {
		if _, err := model.UnmarshalGraph(good[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
		}
	}
}

// hostileGraph is a well-formed graph file (right checksum) declaring one initializer of the given dimensions
// without the data for it.
func hostileGraph(t *testing.T, dims ...uint64) []byte {
	t.Helper()
	str := func(b []byte, s string) []byte { return append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	var body []byte
	body = str(body, "")
	body = binary.AppendVarint(body, 13)
	body = str(body, "x")
	body = str(body, "y")
	body = append(body, 1, 4) // input shape [4]
	body = append(body, 1)    // one constant
	body = str(body, "w")
	body = append(body, byte(model.Float), byte(len(dims)))
	for _, d := range dims {
		body = binary.AppendUvarint(body, d)
	}
	out := append([]byte("DPGRAPH\x01"), body...)
	return binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
}

func TestCompile_RejectsBadGraphs(t *testing.T) {
	valid := func() *model.Graph {
		g, err := onnxload.Decode(trainerShaped(t, 2, -1, 2, 4, 8))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	cases := []struct {
		name   string
		change func(g *model.Graph)
		want   string
	}{
		{"no nodes", func(g *model.Graph) { g.Nodes = nil }, "no graph"},
		{"missing initializer", func(g *model.Graph) { delete(g.Constants, usedConstant(t, g)) }, "no producer and no initializer"},
		{"data shorter than shape", func(g *model.Graph) {
			c := g.Constants[usedConstant(t, g)]
			c.Shape = append(c.Shape, 2)
		}, "needs"},
		{"value produced twice", func(g *model.Graph) { g.Nodes = append(g.Nodes, g.Nodes[len(g.Nodes)-1]) }, "produced twice"},
		{"cycle", func(g *model.Graph) { g.Nodes[0].Inputs[0] = g.Nodes[1].Output }, "cycle"},
		{"unknown attribute type", func(g *model.Graph) { g.Nodes[0].Attrs["x"] = []string{"a"} }, "unsupported type"},
		{"zero input dimension", func(g *model.Graph) { g.InputShape[0] = 0 }, "only the batch dimension"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := valid()
			tc.change(g)
			_, err := model.Compile(g)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// usedConstant names the first initializer an operation reads.
func usedConstant(t *testing.T, g *model.Graph) string {
	for _, nd := range g.Nodes {
		for _, in := range nd.Inputs {
			if _, ok := g.Constants[in]; ok {
				return in
			}
		}
	}
	t.Fatal("graph reads no initializer")
	return ""
}

func FuzzUnmarshalGraph(f *testing.F) {
	good := graphFile(f, trainerShaped(f, 1, -1, 2, 2, 4))
	f.Add(good)
	f.Add(graphFile(f, int8Shaped(f, 1, 2, 4, 4)))
	for _, n := range []int{8, 20, len(good) / 2, len(good) - 1} {
		f.Add(good[:n])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Fuzzed bytes rarely keep the checksum; recompute it so the decoder itself is exercised.
		if len(data) >= 12 && string(data[:7]) == "DPGRAPH" {
			data = slices.Clone(data)
			binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.ChecksumIEEE(data[8:len(data)-4]))
		}
		m, err := model.LoadGraph(data)
		if err != nil || m.InputSize() > 4096 {
			return // big inputs are legal but make a run too slow for fuzzing
		}
		in := make([]float32, 2*m.InputSize())
		out := make([]float32, 2*m.OutputSize())
		if err := m.Run(in, 2, out); err != nil {
			t.Fatalf("Run after successful LoadGraph: %v", err)
		}
	})
}
