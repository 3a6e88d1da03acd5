package quantize_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"digitpad/internal/zoo"
	"digitpad/onnxpb"
	"digitpad/quantize"
	"digitpad/shared/model/onnxload"
	"digitpad/train/mnist"
	"google.golang.org/protobuf/proto"
)

var loadMNIST = sync.OnceValues(func() ([2]*mnist.Set, error) {
	dir, err := mnist.Locate(context.Background(), "")
	if err != nil {
		return [2]*mnist.Set{}, err
	}
	tr, te, err := mnist.Load(dir)
	return [2]*mnist.Set{tr, te}, err
})

func mustMNIST(tb testing.TB) (train, test *mnist.Set) {
	tb.Helper()
	s, err := loadMNIST()
	if err != nil {
		tb.Fatalf("MNIST: %v", err)
	}
	return s[0], s[1]
}

// sources are the float models the quantiser is checked on: the ONNX zoo's (0..255 input), and the shipped
// digitpad model when training has produced it.
func sources(tb testing.TB) map[string]struct {
	b     []byte
	scale float32
} {
	tb.Helper()
	out := map[string]struct {
		b     []byte
		scale float32
	}{"zoo mnist-7": {zooModel(tb), 255}}
	if b, err := os.ReadFile("../assets/model.onnx"); err == nil && isDigitpad(b) {
		out["assets/model.onnx"] = struct {
			b     []byte
			scale float32
		}{b, 1}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		tb.Fatal(err)
	}
	return out
}

func isDigitpad(b []byte) bool {
	var m onnxpb.ModelProto
	if proto.Unmarshal(b, &m) != nil {
		return false
	}
	return strings.HasPrefix(m.GetGraph().GetName(), "digitpad")
}

func zooModel(tb testing.TB) []byte {
	tb.Helper()
	b, err := zoo.Model()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func scaled(s *mnist.Set, f float32) []float32 {
	out := make([]float32, len(s.Images))
	for i, v := range s.Images {
		out[i] = v * f
	}
	return out
}

// The int8 model predicts what the float model predicts on at least 99.8% of MNIST test, with calibration on
// the training set only.
func TestInt8_AgreesWithFloatOnMNISTTest(t *testing.T) {
	train, test := mustMNIST(t)
	for name, src := range sources(t) {
		t.Run(name, func(t *testing.T) {
			calib := train.Slice(0, 1000)
			q, rep, err := quantize.Int8(src.b, scaled(calib, src.scale), calib.Len())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Weights) < 2 || len(rep.Activations) < 2 {
				t.Errorf("report %+v: want the model's Conv/MatMul weights and their inputs quantised", rep)
			}
			fm, err := onnxload.Load(src.b)
			if err != nil {
				t.Fatal(err)
			}
			qm, err := onnxload.Load(q)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := quantize.Score(fm, test, src.scale)
			if err != nil {
				t.Fatal(err)
			}
			qs, err := quantize.Score(qm, test, src.scale)
			if err != nil {
				t.Fatal(err)
			}
			if got := quantize.Agreement(qs.Preds, fs.Preds); got < 0.998 {
				t.Errorf("int8 agrees with float on %.4f of MNIST test, want >= 0.998", got)
			}
			t.Logf("float %.4f, int8 %.4f, %d -> %d bytes", fs.Accuracy, qs.Accuracy, len(src.b), len(q))
			if name == "assets/model.onnx" && float64(len(q)) > 0.3*float64(len(src.b)) {
				t.Errorf("int8 file is %d bytes, %.0f%% of float: want <= 30%%", len(q), 100*float64(len(q))/float64(len(src.b)))
			}
		})
	}
}

func TestFP16_AgreesWithFloatOnMNISTTest(t *testing.T) {
	_, test := mustMNIST(t)
	src := zooModel(t)
	h, err := quantize.FP16(src)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := onnxload.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	hm, err := onnxload.Load(h)
	if err != nil {
		t.Fatal(err)
	}
	sub := test.Slice(0, 2000)
	fs, err := quantize.Score(fm, sub, 255)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := quantize.Score(hm, sub, 255)
	if err != nil {
		t.Fatal(err)
	}
	if got := quantize.Agreement(hs.Preds, fs.Preds); got < 0.999 {
		t.Errorf("fp16 agrees with float on %.4f, want >= 0.999", got)
	}
}

func TestInt8_RejectsModelsWithoutWeights(t *testing.T) {
	g := &onnxpb.GraphProto{Name: proto.String("relu"),
		Node:   []*onnxpb.NodeProto{{OpType: proto.String("Relu"), Input: []string{"x"}, Output: []string{"y"}}},
		Input:  []*onnxpb.ValueInfoProto{{Name: proto.String("x")}},
		Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y")}}}
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(13)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := quantize.Int8(b, make([]float32, 4), 1); err == nil || !strings.Contains(err.Error(), "no Conv or MatMul") {
		t.Errorf("Int8 error = %v, want no Conv or MatMul", err)
	}
	if _, _, err := quantize.Int8([]byte("not onnx"), nil, 0); err == nil || !strings.Contains(err.Error(), "not an ONNX model") {
		t.Errorf("Int8 error = %v, want not an ONNX model", err)
	}
}
