package export_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"digitpad/onnxpb"
	"digitpad/shared/model/onnxload"
	"digitpad/train/cnn"
	"digitpad/train/export"
)

// randomNet returns a net whose BatchNorm statistics are not the identity, so folding is exercised.
func randomNet(t *testing.T, spec string, seed uint64) *cnn.Net {
	t.Helper()
	arch, err := cnn.ParseArch(spec)
	if err != nil {
		t.Fatal(err)
	}
	net, err := cnn.New(arch, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, p := range net.Params {
		switch {
		case len(p.Name) > 4 && p.Name[len(p.Name)-4:] == "_var":
			for i := range p.Data {
				p.Data[i] = 0.5 + rng.Float32()
			}
		case !p.Decay:
			for i := range p.Data {
				p.Data[i] = rng.Float32() - 0.5 + map[bool]float32{true: 1}[p.Name[len(p.Name)-6:] == "_gamma"]
			}
		}
	}
	return net
}

func TestFold_MatchesTrainerForward(t *testing.T) {
	for _, spec := range []string{cnn.DefaultArch, "conv3x4p1-relu-pool-fc16-relu-fc10", "conv3x6-bn-relu-pool-conv5x8p2-bn-relu-pool-fc10"} {
		t.Run(spec, func(t *testing.T) {
			net := randomNet(t, spec, 3)
			const n = 3
			rng := rand.New(rand.NewPCG(1, 1))
			x := make([]float32, n*784)
			for i := range x {
				x[i] = rng.Float32()
			}
			want := net.NewReplica(0, 0).Probabilities(x, n)
			layers, err := export.Fold(net)
			if err != nil {
				t.Fatal(err)
			}
			got := export.Forward(layers, x, n)
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
					t.Fatalf("prob %d: folded %v, trainer %v", i, got[i], want[i])
				}
			}
		})
	}
}

func mustExport(t *testing.T, net *cnn.Net, opt export.Options) []byte {
	t.Helper()
	b, err := export.ONNX(net, opt)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestONNX_ParsesBackAsStandardGraph(t *testing.T) {
	net := randomNet(t, cnn.DefaultArch, 2)
	for _, tc := range []struct {
		name      string
		batch     int
		wantBatch string
	}{
		{"symbolic batch", 0, "N"},
		{"fixed batch 1", 1, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m onnxpb.ModelProto
			if err := proto.Unmarshal(mustExport(t, net, export.Options{Name: "t", FixedBatch: tc.batch}), &m); err != nil {
				t.Fatal(err)
			}
			if m.GetIrVersion() != 8 || len(m.GetOpsetImport()) != 1 || m.GetOpsetImport()[0].GetVersion() != 13 {
				t.Errorf("ir_version %d opset %v, want 8 and 13", m.GetIrVersion(), m.GetOpsetImport())
			}
			var ops []string
			for _, n := range m.GetGraph().GetNode() {
				ops = append(ops, n.GetOpType())
				if n.GetOpType() == "Conv" {
					attrs := map[string][]int64{}
					for _, a := range n.GetAttribute() {
						attrs[a.GetName()] = a.GetInts()
					}
					if len(attrs["kernel_shape"]) != 2 || len(attrs["pads"]) != 4 || attrs["pads"][0] != attrs["pads"][2] {
						t.Errorf("conv %s: kernel_shape %v pads %v, want explicit and symmetric", n.GetName(),
							attrs["kernel_shape"], attrs["pads"])
					}
				}
			}
			wantOps := []string{"Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Conv", "Relu", "Flatten",
				"MatMul", "Add", "Relu", "MatMul", "Add", "Softmax"}
			if !slices.Equal(ops, wantOps) {
				t.Errorf("ops = %v\nwant %v", ops, wantOps)
			}
			in, out := m.GetGraph().GetInput(), m.GetGraph().GetOutput()
			if len(in) != 1 || in[0].GetName() != "input" || len(out) != 1 || out[0].GetName() != "probs" {
				t.Fatalf("inputs %v outputs %v, want input and probs", in, out)
			}
			dims := in[0].GetType().GetTensorType().GetShape().GetDim()
			var got []string
			for _, d := range dims {
				if d.GetDimParam() != "" {
					got = append(got, d.GetDimParam())
				} else {
					got = append(got, strconv.FormatInt(d.GetDimValue(), 10))
				}
			}
			if want := []string{tc.wantBatch, "1", "28", "28"}; !slices.Equal(got, want) {
				t.Errorf("input dims %v, want %v", got, want)
			}
			meta := map[string]string{}
			for _, kv := range m.GetMetadataProps() {
				meta[kv.GetKey()] = kv.GetValue()
			}
			if meta["name"] != "t" || meta["input_range"] != "0..1" {
				t.Errorf("metadata %v lacks name and input range", meta)
			}
		})
	}
}

func TestONNX_RuntimeMatchesTrainer(t *testing.T) {
	net := randomNet(t, cnn.DefaultArch, 4)
	m, err := onnxload.Load(mustExport(t, net, export.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if !m.OutputIsProbability() || m.InputSize() != 784 || m.OutputSize() != 10 {
		t.Fatalf("model: probability %v, input %d, output %d", m.OutputIsProbability(), m.InputSize(), m.OutputSize())
	}
	for _, n := range []int{1, 5} {
		rng := rand.New(rand.NewPCG(uint64(n), 3))
		x := make([]float32, n*784)
		for i := range x {
			x[i] = rng.Float32()
		}
		want := net.NewReplica(0, 0).Probabilities(x, n)
		got := make([]float32, n*10)
		if err := m.Run(x, n, got); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
				t.Fatalf("batch %d prob %d: runtime %v, trainer %v", n, i, got[i], want[i])
			}
		}
	}
}

// TestONNX_GorgonnxMatchesTrainer runs the fixed-batch export through onnx-go's gorgonia backend, an
// independent ONNX implementation.
func TestONNX_GorgonnxMatchesTrainer(t *testing.T) {
	net := randomNet(t, cnn.DefaultArch, 6)
	backend := gorgonnx.NewGraph()
	m := onnx.NewModel(backend)
	if err := m.UnmarshalBinary(mustExport(t, net, export.Options{FixedBatch: 1})); err != nil {
		t.Fatalf("gorgonnx decode: %v", err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	x := make([]float32, 784)
	for i := range x {
		x[i] = rng.Float32()
	}
	if err := m.SetInput(0, tensor.New(tensor.WithShape(1, 1, 28, 28), tensor.WithBacking(slices.Clone(x)))); err != nil {
		t.Fatal(err)
	}
	if err := backend.Run(); err != nil {
		t.Fatalf("gorgonnx run: %v", err)
	}
	outs, err := m.GetOutputTensors()
	if err != nil {
		t.Fatal(err)
	}
	got := outs[0].Data().([]float32)
	want := net.NewReplica(0, 0).Probabilities(x, 1)
	if len(got) != 10 {
		t.Fatalf("gorgonnx returned %d values, want 10", len(got))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
			t.Fatalf("prob %d: gorgonnx %v, trainer %v", i, got[i], want[i])
		}
	}
}
