package model_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
)

// testModels are the models every runtime property is checked on.
func testModels(t *testing.T) map[string][]byte {
	t.Helper()
	ms := map[string][]byte{
		"zoo":                  zooModel(t),
		"trainer symbolic N":   trainerShaped(t, 3, -1, 8, 16, 32),
		"trainer conv16/32":    trainerShaped(t, 4, -1, 16, 32, 40), // 40 outputs: a partial column tile
		"trainer fixed batch1": trainerShaped(t, 5, 1, 6, 12, 20),
		"int8 trainer":         int8Shaped(t, 8, 8, 16, 40),
	}
	if b := shippedModel(t); b != nil {
		ms["assets/model.onnx"] = b
	}
	for _, v := range []string{"model-int8.onnx", "model-fp16.onnx"} {
		if b := shippedFile(t, v); b != nil {
			ms["assets/"+v] = b
		}
	}
	return ms
}

func TestLoad_DescribesZooModel(t *testing.T) {
	b := zooModel(t)
	m := mustLoad(t, b)
	if got, want := m.InputShape(), []int{1, 28, 28}; !slices.Equal(got, want) {
		t.Errorf("InputShape = %v, want %v", got, want)
	}
	if got := m.InputSize(); got != 784 {
		t.Errorf("InputSize = %d, want 784", got)
	}
	if got := m.OutputSize(); got != 10 {
		t.Errorf("OutputSize = %d, want 10", got)
	}
	if m.OutputIsProbability() {
		t.Error("OutputIsProbability = true for a model ending in Add (logits)")
	}
	sum := sha256.Sum256(b)
	if got, want := m.SHA256(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("SHA256 = %s, want %s", got, want)
	}
}

func TestLoad_TrainerModelEndsInProbabilities(t *testing.T) {
	m := mustLoad(t, trainerShaped(t, 1, -1, 8, 16, 32))
	if !m.OutputIsProbability() {
		t.Error("OutputIsProbability = false for a model ending in Softmax")
	}
	if got, want := m.InputShape(), []int{1, 28, 28}; !slices.Equal(got, want) {
		t.Errorf("InputShape = %v, want %v (symbolic batch dropped)", got, want)
	}
	out := make([]float32, 10)
	if err := m.Run(digitLike(1, 1, 784), 1, out); err != nil {
		t.Fatal(err)
	}
	var sum float32
	for _, p := range out {
		sum += p
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("probabilities sum to %v, want 1", sum)
	}
}

func TestLoad_ProbabilityThroughViews(t *testing.T) {
	b := newGraph(1, -1, 4)
	y := b.op("Identity", []string{b.op("Softmax", []string{"x"}, intAttr("axis", 1))})
	if m := mustLoad(t, b.bytes(t, y, -1, 4)); !m.OutputIsProbability() {
		t.Error("OutputIsProbability = false for Softmax followed by Identity")
	}
	b = newGraph(1, -1, 4)
	y = b.op("Relu", []string{b.op("Softmax", []string{"x"}, intAttr("axis", 1))})
	if m := mustLoad(t, b.bytes(t, y, -1, 4)); m.OutputIsProbability() {
		t.Error("OutputIsProbability = true for Softmax followed by Relu")
	}
}

func TestLoadWith_UnknownKernel(t *testing.T) {
	_, err := onnxload.Load(zooModel(t), model.WithKernel("quantum"))
	if err == nil || !strings.Contains(err.Error(), `kernel "quantum" not available`) {
		t.Errorf("LoadWith error = %v, want unknown kernel", err)
	}
}

func TestOps_FusesConvolutionEpilogues(t *testing.T) {
	ops := mustLoad(t, zooModel(t)).Ops()
	// Conv, Add, Relu and MaxPool run as one step each time; Reshape is a view; MatMul absorbs Add.
	want := []string{"Conv +bias +relu +maxpool2x2/2", "Conv +bias +relu +maxpool3x3/3", "(view)", "MatMul +bias"}
	if len(ops) != len(want) {
		t.Fatalf("Ops = %q, want %d steps", ops, len(want))
	}
	for i, w := range want {
		for _, part := range strings.Fields(w) {
			if !strings.Contains(ops[i], part) {
				t.Errorf("Ops[%d] = %q, want it to contain %q", i, ops[i], part)
			}
		}
	}
}

// TestRun_BatchesMatchSingleSamples checks batch sizes (including ones past the internal chunk of 64)
// gives, per sample, what a batch of one gives.
func TestRun_BatchesMatchSingleSamples(t *testing.T) {
	for name, b := range testModels(t) {
		for _, kernel := range model.Kernels() {
			t.Run(name+"/"+kernel, func(t *testing.T) {
				m := mustLoad(t, b, model.WithKernel(kernel))
				const maxN = 70
				in := digitLike(9, maxN, m.InputSize())
				single := make([]float32, maxN*m.OutputSize())
				for i := 0; i < maxN; i++ {
					if err := m.Run(in[i*m.InputSize():(i+1)*m.InputSize()], 1, single[i*m.OutputSize():(i+1)*m.OutputSize()]); err != nil {
						t.Fatal(err)
					}
				}
				for _, n := range []int{1, 3, 8, 9, 64, 65, 70} {
					got := make([]float32, n*m.OutputSize())
					if err := m.Run(in[:n*m.InputSize()], n, got); err != nil {
						t.Fatal(err)
					}
					if err := closeTo(got, single[:n*m.OutputSize()], 1e-5); err != nil {
						t.Errorf("batch %d: %v", n, err)
					}
				}
			})
		}
	}
}

func TestRun_KernelsAgree(t *testing.T) {
	for name, b := range testModels(t) {
		t.Run(name, func(t *testing.T) {
			var ref []float32
			for _, kernel := range model.Kernels() {
				m := mustLoad(t, b, model.WithKernel(kernel))
				in := digitLike(4, 5, m.InputSize())
				got := make([]float32, 5*m.OutputSize())
				if err := m.Run(in, 5, got); err != nil {
					t.Fatal(err)
				}
				if ref == nil {
					ref = got
				} else if err := closeTo(got, ref, 1e-5); err != nil {
					t.Errorf("kernel %s differs from %s: %v", kernel, model.Kernels()[0], err)
				}
			}
		})
	}
}

func TestRun_ConcurrentCallsGiveSameResults(t *testing.T) {
	t.Run("float", func(t *testing.T) { testConcurrentRuns(t, trainerShaped(t, 6, -1, 8, 16, 32)) })
	t.Run("int8", func(t *testing.T) { testConcurrentRuns(t, int8Shaped(t, 6, 8, 16, 32)) })
}

func testConcurrentRuns(t *testing.T, b []byte) {
	m := mustLoad(t, b)
	const n = 5
	in := digitLike(2, n, m.InputSize())
	want := make([]float32, n*m.OutputSize())
	if err := m.Run(in, n, want); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			got := make([]float32, n*m.OutputSize())
			for iter := 0; iter < 20; iter++ {
				batch := 1 + (g+iter)%n // different batch sizes share the scratch pool
				if err := m.Run(in[:batch*m.InputSize()], batch, got[:batch*m.OutputSize()]); err != nil {
					errs <- err
					return
				}
				if err := closeTo(got[:batch*m.OutputSize()], want[:batch*m.OutputSize()], 0); err != nil {
					errs <- fmt.Errorf("goroutine %d batch %d: %w", g, batch, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRun_SteadyStateAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop scratch buffers at random")
	}
	for name, b := range testModels(t) {
		t.Run(name, func(t *testing.T) {
			m := mustLoad(t, b)
			for _, n := range []int{1, 64} {
				in := digitLike(1, n, m.InputSize())
				out := make([]float32, n*m.OutputSize())
				if err := m.Run(in, n, out); err != nil { // warms the scratch pool
					t.Fatal(err)
				}
				allocs := testing.AllocsPerRun(20, func() {
					if err := m.Run(in, n, out); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("batch %d: %v allocations per Run, want 0", n, allocs)
				}
			}
		})
	}
}

func TestRun_RejectsBadArguments(t *testing.T) {
	m := mustLoad(t, zooModel(t))
	cases := []struct {
		name    string
		in, out int
		n       int
		want    string
	}{
		{"input too short", 783, 10, 1, "input has 783 floats, want 784"},
		{"input too long", 785, 10, 1, "input has 785 floats, want 784"},
		{"input for fewer samples", 784, 20, 2, "want 1568"},
		{"output too short", 784, 9, 1, "output has room for 9 floats, want 10"},
		{"zero batch", 0, 0, 0, "batch size 0"},
		{"negative batch", 784, 10, -1, "batch size -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Run(make([]float32, tc.in), tc.n, make([]float32, tc.out))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoad_RejectsBadFiles(t *testing.T) {
	zoo := zooModel(t)
	lstm := newGraph(1, 1, 4)
	lstmOut := lstm.op("LSTM", []string{"x", lstm.weights(1, 1, 16, 4), lstm.weights(1, 1, 16, 4)}, intAttr("hidden_size", 4))
	group := newGraph(1, 1, 2, 8, 8)
	groupOut := group.op("Conv", []string{"x", group.weights(1, 2, 1, 3, 3)}, intsAttr("kernel_shape", 3, 3), intAttr("group", 2))
	fixedBatch := newGraph(1, 4, 1, 28, 28)
	fbOut := fixedBatch.op("Relu", []string{"x"})
	badShape := newGraph(1, 1, 784)
	bsOut := badShape.op("Reshape", []string{"x", badShape.ints(3, 100)})
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"not protobuf", []byte("hello, this is not an onnx file at all"), "not an ONNX protobuf"},
		{"truncated", zoo[:len(zoo)/2], "not an ONNX protobuf"},
		{"unsupported op", lstm.bytes(t, lstmOut, 1, 1, 1, 4), "LSTM"},
		{"grouped conv", group.bytes(t, groupOut, 1, 2, 6, 6), "group=2"},
		{"fixed batch size", fixedBatch.bytes(t, fbOut, 4, 1, 28, 28), "fixed batch size of 4"},
		{"impossible reshape", badShape.bytes(t, bsOut, 3, 100), "cannot reshape"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := onnxload.Load(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load error = %v (model %v), want it to contain %q", err, m != nil, tc.want)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	zoo := zooModel(f)
	f.Add(zoo)
	for _, n := range []int{1, 10, 100, 1000, len(zoo) / 2, len(zoo) - 1} {
		f.Add(zoo[:n])
	}
	f.Add(trainerShaped(f, 1, -1, 2, 2, 4))
	f.Add(int8Shaped(f, 1, 2, 4, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnxload.Load(data)
		if err != nil {
			return
		}
		// A model that loads must run without panicking.
		in := make([]float32, 2*m.InputSize())
		out := make([]float32, 2*m.OutputSize())
		if err := m.Run(in, 2, out); err != nil {
			t.Fatalf("Run after successful Load: %v", err)
		}
	})
}
