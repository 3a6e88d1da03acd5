package retrain

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"google.golang.org/protobuf/proto"

	"digitpad/onnxpb"
	"digitpad/train/cnn"
)

// NetFromONNX turns an ONNX model written by train/export (Conv, Relu, MaxPool, Flatten, MatMul+Add, Softmax;
// BatchNorm already folded into the weights) back into trainer weights, so a registered version can be
// fine-tuned. The returned net has the exported layer stack without BatchNorm (every conv and dense layer has a
// bias) and computes the same function as the file. Other graphs are refused with the operator that does not fit.
func NetFromONNX(b []byte) (*cnn.Net, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("retrain: parse ONNX: %w", err)
	}
	g := m.GetGraph()
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t
	}
	weights := func(name string, want int) ([]float32, error) {
		t, ok := inits[name]
		if !ok {
			return nil, fmt.Errorf("retrain: weight %q is not an initializer", name)
		}
		v, err := tensorFloats(t)
		if err != nil {
			return nil, err
		}
		if want >= 0 && len(v) != want {
			return nil, fmt.Errorf("retrain: weight %q has %d values, want %d", name, len(v), want)
		}
		return v, nil
	}
	type layer struct {
		spec string
		w, b []float32 // ONNX layout
	}
	var layers []layer
	nodes := g.GetNode()
	for i := 0; i < len(nodes); i++ {
		nd := nodes[i]
		switch nd.GetOpType() {
		case "Conv":
			if len(nd.Input) != 3 {
				return nil, fmt.Errorf("retrain: Conv %q without bias", nd.GetName())
			}
			t, ok := inits[nd.Input[1]]
			if !ok || len(t.Dims) != 4 || t.Dims[2] != t.Dims[3] {
				return nil, fmt.Errorf("retrain: Conv %q: want square [Cout,Cin,K,K] weights", nd.GetName())
			}
			pad := int64(0)
			for _, a := range nd.Attribute {
				switch a.GetName() {
				case "pads":
					for _, p := range a.Ints {
						if p != a.Ints[0] {
							return nil, fmt.Errorf("retrain: Conv %q: asymmetric padding", nd.GetName())
						}
					}
					if len(a.Ints) > 0 {
						pad = a.Ints[0]
					}
				case "strides", "dilations":
					for _, s := range a.Ints {
						if s != 1 {
							return nil, fmt.Errorf("retrain: Conv %q: %s %v unsupported", nd.GetName(), a.GetName(), a.Ints)
						}
					}
				case "group":
					if a.GetI() != 1 {
						return nil, fmt.Errorf("retrain: Conv %q: grouped convolution unsupported", nd.GetName())
					}
				}
			}
			w, err := weights(nd.Input[1], -1)
			if err != nil {
				return nil, err
			}
			bias, err := weights(nd.Input[2], int(t.Dims[0]))
			if err != nil {
				return nil, err
			}
			spec := fmt.Sprintf("conv%dx%d", t.Dims[2], t.Dims[0])
			if pad > 0 {
				spec += fmt.Sprintf("p%d", pad)
			}
			layers = append(layers, layer{spec: spec, w: w, b: bias})
		case "Relu":
			layers = append(layers, layer{spec: "relu"})
		case "MaxPool":
			layers = append(layers, layer{spec: "pool"})
		case "Flatten", "Softmax", "Identity", "Dropout":
		case "MatMul":
			t, ok := inits[nd.Input[1]]
			if !ok || len(t.Dims) != 2 {
				return nil, fmt.Errorf("retrain: MatMul %q: want [In,Out] weights", nd.GetName())
			}
			if i+1 >= len(nodes) || nodes[i+1].GetOpType() != "Add" {
				return nil, fmt.Errorf("retrain: MatMul %q is not followed by its bias Add", nd.GetName())
			}
			add := nodes[i+1]
			bname := add.Input[1]
			if bname == nd.Output[0] {
				bname = add.Input[0]
			}
			w, err := weights(nd.Input[1], -1)
			if err != nil {
				return nil, err
			}
			bias, err := weights(bname, int(t.Dims[1]))
			if err != nil {
				return nil, err
			}
			layers = append(layers, layer{spec: fmt.Sprintf("fc%d", t.Dims[1]), w: w, b: bias})
			i++
		default:
			return nil, fmt.Errorf("retrain: cannot fine-tune a graph with %s (only train/export's operators)", nd.GetOpType())
		}
	}
	specs := make([]string, len(layers))
	for i, l := range layers {
		specs[i] = l.spec
	}
	arch, err := cnn.ParseArch(strings.Join(specs, "-"))
	if err != nil {
		return nil, fmt.Errorf("retrain: %w", err)
	}
	net, err := cnn.New(arch, 1)
	if err != nil {
		return nil, fmt.Errorf("retrain: %w", err)
	}
	shapes := net.LayerShapes()
	in := cnn.InputShape
	for i, l := range arch {
		ps := net.LayerParams(i)
		switch l.Kind {
		case cnn.KindConv:
			k, cin := l.K, in.C
			w := ps[0].Data
			if len(layers[i].w) != len(w) {
				return nil, fmt.Errorf("retrain: layer %d (%s): %d weights, want %d", i, l, len(layers[i].w), len(w))
			}
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					for ci := 0; ci < cin; ci++ {
						r := (ky*k+kx)*cin + ci
						for co := 0; co < l.Out; co++ {
							w[r*l.Out+co] = layers[i].w[((co*cin+ci)*k+ky)*k+kx]
						}
					}
				}
			}
			copy(ps[1].Data, layers[i].b)
		case cnn.KindDense:
			w := ps[0].Data
			if len(layers[i].w) != len(w) {
				return nil, fmt.Errorf("retrain: layer %d (%s): %d weights, want %d", i, l, len(layers[i].w), len(w))
			}
			hw := in.H * in.W
			for p := 0; p < hw; p++ {
				for c := 0; c < in.C; c++ {
					copy(w[(p*in.C+c)*l.Out:(p*in.C+c+1)*l.Out], layers[i].w[(c*hw+p)*l.Out:(c*hw+p+1)*l.Out])
				}
			}
			copy(ps[1].Data, layers[i].b)
		}
		in = shapes[i]
	}
	return net, nil
}

// tensorFloats reads a float32 initializer stored as float_data or raw_data (little-endian).
func tensorFloats(t *onnxpb.TensorProto) ([]float32, error) {
	if t.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
		return nil, fmt.Errorf("retrain: initializer %q is not float32", t.GetName())
	}
	if raw := t.GetRawData(); raw != nil {
		if len(raw)%4 != 0 {
			return nil, fmt.Errorf("retrain: initializer %q: raw data of %d bytes", t.GetName(), len(raw))
		}
		out := make([]float32, len(raw)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return out, nil
	}
	return append([]float32(nil), t.GetFloatData()...), nil
}
