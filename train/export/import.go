package export

import (
	"fmt"
	"math"
	"strings"

	"google.golang.org/protobuf/proto"

	"digitpad/onnxpb"
	"digitpad/train/cnn"
)

// Import reads an ONNX model written by ONNX (BatchNorm already folded) back into a trainable Net without
// BatchNorm layers, so a shipped model can be fine-tuned: exporting the imported net gives the same graph and
// the same weights.
func Import(b []byte) (*cnn.Net, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("export: import: %w", err)
	}
	g := m.GetGraph()
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t
	}
	type wb struct{ w, b *onnxpb.TensorProto }
	var spec []string
	var weights []wb
	addOf := map[string]string{} // MatMul output -> its weight
	for _, n := range g.GetNode() {
		in := n.GetInput()
		switch n.GetOpType() {
		case "Conv":
			if len(in) != 3 || inits[in[1]] == nil || inits[in[2]] == nil {
				return nil, fmt.Errorf("export: import: conv %s without weight and bias", n.GetName())
			}
			w := inits[in[1]]
			d := w.GetDims()
			var pad int64
			for _, a := range n.GetAttribute() {
				if a.GetName() == "pads" && len(a.GetInts()) > 0 {
					pad = a.GetInts()[0]
				}
			}
			s := fmt.Sprintf("conv%dx%d", d[2], d[0])
			if pad > 0 {
				s += fmt.Sprintf("p%d", pad)
			}
			spec = append(spec, s)
			weights = append(weights, wb{w, inits[in[2]]})
		case "Relu":
			spec = append(spec, "relu")
		case "MaxPool":
			spec = append(spec, "pool")
		case "Flatten", "Softmax":
		case "MatMul":
			if len(in) != 2 || inits[in[1]] == nil {
				return nil, fmt.Errorf("export: import: matmul %s without weight", n.GetName())
			}
			addOf[n.GetOutput()[0]] = in[1]
		case "Add":
			w, ok := addOf[in[0]]
			if !ok || inits[in[1]] == nil {
				return nil, fmt.Errorf("export: import: add %s is not a dense bias", n.GetName())
			}
			spec = append(spec, fmt.Sprintf("fc%d", inits[w].GetDims()[1]))
			weights = append(weights, wb{inits[w], inits[in[1]]})
		default:
			return nil, fmt.Errorf("export: import: unsupported op %s", n.GetOpType())
		}
	}
	arch, err := cnn.ParseArch(strings.Join(spec, "-"))
	if err != nil {
		return nil, fmt.Errorf("export: import: %w", err)
	}
	net, err := cnn.New(arch, 1)
	if err != nil {
		return nil, fmt.Errorf("export: import: %w", err)
	}
	shapes := net.LayerShapes()
	in := cnn.InputShape
	k := 0
	for i, l := range arch {
		if l.Kind != cnn.KindConv && l.Kind != cnn.KindDense {
			in = shapes[i]
			continue
		}
		w, b := floats(weights[k].w), floats(weights[k].b)
		k++
		ps := net.LayerParams(i)
		if len(ps) < 2 || len(ps[0].Data) != len(w) || len(ps[1].Data) != len(b) {
			return nil, fmt.Errorf("export: import: layer %d weight sizes do not match", i)
		}
		dst := ps[0].Data
		if l.Kind == cnn.KindConv {
			kk, cin := l.K, in.C
			for ky := 0; ky < kk; ky++ {
				for kx := 0; kx < kk; kx++ {
					for ci := 0; ci < cin; ci++ {
						r := (ky*kk+kx)*cin + ci
						for co := 0; co < l.Out; co++ {
							dst[r*l.Out+co] = w[((co*cin+ci)*kk+ky)*kk+kx]
						}
					}
				}
			}
		} else {
			hw := in.H * in.W
			for p := 0; p < hw; p++ {
				for c := 0; c < in.C; c++ {
					copy(dst[(p*in.C+c)*l.Out:(p*in.C+c+1)*l.Out], w[(c*hw+p)*l.Out:(c*hw+p+1)*l.Out])
				}
			}
		}
		copy(ps[1].Data, b)
		in = shapes[i]
	}
	return net, nil
}

func floats(t *onnxpb.TensorProto) []float32 {
	if len(t.GetFloatData()) > 0 {
		return t.GetFloatData()
	}
	raw := t.GetRawData()
	out := make([]float32, len(raw)/4)
	for i := range out {
		u := uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24
		out[i] = math.Float32frombits(u)
	}
	return out
}
