// Package export writes a trained cnn.Net as a standard ONNX model (opset 13, IR version 8): BatchNorm is folded
// into the preceding Conv or MatMul, weights move from the trainer's NHWC layout to ONNX's NCHW, dense layers
// become MatMul + Add (onnx-go's gorgonnx Gemm is wrong at batch 1) and the graph ends in Softmax, so the
// output is probabilities.
package export

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"digitpad/onnxpb"
	"digitpad/train/cnn"
)

// ONNX names and versions of the exported graph.
const (
	InputName  = "input"
	OutputName = "probs"
	Opset      = 13
	IRVersion  = 8
	// InputSpec and OutputSpec describe the tensors for model cards and metadata.
	InputSpec  = "float32 [N,1,28,28], 0..1, ink=1"
	OutputSpec = "probabilities [N,10]"
)

// Options tune the export.
type Options struct {
	// Name is the graph and model name (metadata "name").
	Name string
	// FixedBatch, when > 0, writes that number as the batch dimension instead of the symbolic "N"
	// (gorgonnx needs fixed input dims; use 1 for reference tests).
	FixedBatch int
	// Metadata adds metadata_props entries (sorted by the caller if order matters).
	Metadata [][2]string
	// DocString is stored on the model.
	DocString string
}

// Layer is one inference-graph layer with ONNX-layout weights, as written to the file.
type Layer struct {
	Op string // Conv, Relu, MaxPool, Flatten, Dense (MatMul+Add)
	// Conv: W [Cout][Cin][K][K], B [Cout]; Dense: W [In][Out] (In in NCHW-flatten order), B [Out].
	W, B            []float32
	K, Pad, In, Out int
}

// Fold turns net into the inference layer list: BatchNorm folded into the previous Conv or Dense, dropout
// dropped, a Flatten inserted before the first Dense, weights in ONNX layout.
func Fold(net *cnn.Net) ([]Layer, error) {
	arch := net.Arch
	shapes := net.LayerShapes()
	in := cnn.InputShape
	var out []Layer
	for i := 0; i < len(arch); i++ {
		l := arch[i]
		ps := net.LayerParams(i)
		switch l.Kind {
		case cnn.KindConv, cnn.KindDense:
			fanIn := in.Size()
			if l.Kind == cnn.KindConv {
				fanIn = l.K * l.K * in.C
			}
			w := append([]float32(nil), ps[0].Data...) // [fanIn][Out]
			b := make([]float32, l.Out)
			if l.Bias {
				copy(b, ps[1].Data)
			}
			if i+1 < len(arch) && arch[i+1].Kind == cnn.KindBatchNorm {
				bn := net.LayerParams(i + 1)
				gamma, beta, mean, vari := bn[0].Data, bn[1].Data, bn[2].Data, bn[3].Data
				for o := 0; o < l.Out; o++ {
					s := float64(gamma[o]) / math.Sqrt(float64(vari[o])+1e-5)
					for r := 0; r < fanIn; r++ {
						w[r*l.Out+o] = float32(float64(w[r*l.Out+o]) * s)
					}
					b[o] = float32((float64(b[o])-float64(mean[o]))*s + float64(beta[o]))
				}
				i++
			}
			if l.Kind == cnn.KindConv {
				// trainer row index (ky*K+kx)*Cin+ci -> ONNX [co][ci][ky][kx]
				k, cin := l.K, in.C
				ow := make([]float32, len(w))
				for ky := 0; ky < k; ky++ {
					for kx := 0; kx < k; kx++ {
						for ci := 0; ci < cin; ci++ {
							r := (ky*k+kx)*cin + ci
							for co := 0; co < l.Out; co++ {
								ow[((co*cin+ci)*k+ky)*k+kx] = w[r*l.Out+co]
							}
						}
					}
				}
				out = append(out, Layer{Op: "Conv", W: ow, B: b, K: k, Pad: l.Pad, In: cin, Out: l.Out})
			} else {
				if !hasFlatten(out) {
					out = append(out, Layer{Op: "Flatten"})
				}
				// NHWC flatten index (y*W+x)*C+c -> NCHW flatten index c*H*W+y*W+x.
				ow := make([]float32, len(w))
				hw := in.H * in.W
				for p := 0; p < hw; p++ {
					for c := 0; c < in.C; c++ {
						copy(ow[(c*hw+p)*l.Out:(c*hw+p+1)*l.Out], w[(p*in.C+c)*l.Out:(p*in.C+c+1)*l.Out])
					}
				}
				out = append(out, Layer{Op: "Dense", W: ow, B: b, In: fanIn, Out: l.Out})
			}
		case cnn.KindReLU:
			out = append(out, Layer{Op: "Relu"})
		case cnn.KindMaxPool:
			out = append(out, Layer{Op: "MaxPool"})
		case cnn.KindDropout:
		case cnn.KindBatchNorm:
			return nil, fmt.Errorf("layer %d: BatchNorm must follow a conv or dense layer to be folded", i)
		default:
			return nil, fmt.Errorf("layer %d: cannot export %q", i, l.Kind)
		}
		in = shapes[i]
	}
	return out, nil
}

func hasFlatten(ls []Layer) bool {
	for _, l := range ls {
		if l.Op == "Flatten" {
			return true
		}
	}
	return false
}

// ONNX serialises net as an ONNX model.
func ONNX(net *cnn.Net, opt Options) ([]byte, error) {
	layers, err := Fold(net)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	m := Model(layers, opt)
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("export: marshal ONNX: %w", err)
	}
	return b, nil
}

// Model builds the ONNX ModelProto for folded layers.
func Model(layers []Layer, opt Options) *onnxpb.ModelProto {
	name := opt.Name
	if name == "" {
		name = "digitpad"
	}
	g := &onnxpb.GraphProto{Name: proto.String(name)}
	cur := InputName
	for i, l := range layers {
		outName := fmt.Sprintf("%s_%d", l.Op, i)
		node := func(op string, inputs []string, output string, attrs ...*onnxpb.AttributeProto) {
			g.Node = append(g.Node, &onnxpb.NodeProto{Name: proto.String(output), OpType: proto.String(op),
				Input: inputs, Output: []string{output}, Attribute: attrs})
		}
		switch l.Op {
		case "Conv":
			w, b := outName+"_W", outName+"_B"
			g.Initializer = append(g.Initializer,
				floatTensor(w, []int64{int64(l.Out), int64(l.In), int64(l.K), int64(l.K)}, l.W),
				floatTensor(b, []int64{int64(l.Out)}, l.B))
			p := int64(l.Pad)
			node("Conv", []string{cur, w, b}, outName,
				ints("kernel_shape", int64(l.K), int64(l.K)), ints("pads", p, p, p, p), ints("strides", 1, 1),
				ints("dilations", 1, 1), intAttr("group", 1))
		case "Relu":
			node("Relu", []string{cur}, outName)
		case "MaxPool":
			node("MaxPool", []string{cur}, outName, ints("kernel_shape", 2, 2), ints("strides", 2, 2),
				ints("pads", 0, 0, 0, 0))
		case "Flatten":
			node("Flatten", []string{cur}, outName, intAttr("axis", 1))
		case "Dense":
			w, b := outName+"_W", outName+"_B"
			g.Initializer = append(g.Initializer,
				floatTensor(w, []int64{int64(l.In), int64(l.Out)}, l.W),
				floatTensor(b, []int64{int64(l.Out)}, l.B))
			mm := outName + "_matmul"
			node("MatMul", []string{cur, w}, mm)
			node("Add", []string{mm, b}, outName)
		}
		cur = outName
	}
	g.Node = append(g.Node, &onnxpb.NodeProto{Name: proto.String("softmax"), OpType: proto.String("Softmax"),
		Input: []string{cur}, Output: []string{OutputName}, Attribute: []*onnxpb.AttributeProto{intAttr("axis", 1)}})
	batch := &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
	if opt.FixedBatch > 0 {
		batch = &onnxpb.TensorShapeProto_Dimension{
			Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(opt.FixedBatch)}}
	}
	g.Input = []*onnxpb.ValueInfoProto{valueInfo(InputName, batch, 1, 28, 28)}
	g.Output = []*onnxpb.ValueInfoProto{valueInfo(OutputName, batch, cnn.Classes)}
	m := &onnxpb.ModelProto{
		IrVersion:       proto.Int64(IRVersion),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName:    proto.String("digitpad"),
		ProducerVersion: proto.String("1"),
		ModelVersion:    proto.Int64(1),
		Graph:           g,
	}
	if opt.DocString != "" {
		m.DocString = proto.String(opt.DocString)
	}
	meta := append([][2]string{{"name", name}, {"input", InputSpec}, {"input_range", "0..1"},
		{"output", OutputSpec}}, opt.Metadata...)
	for _, kv := range meta {
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(kv[0]),
			Value: proto.String(kv[1])})
	}
	return m
}

func floatTensor(name string, dims []int64, data []float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: append([]float32(nil), data...)}
}

func ints(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func valueInfo(name string, batch *onnxpb.TensorShapeProto_Dimension, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{batch}}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{
			Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
		Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}}}
}

// Forward runs folded layers on n NCHW samples (n×784 floats) with plain loops and returns n×10 probabilities;
// it is the reference the exported file must agree with.
func Forward(layers []Layer, x []float32, n int) []float32 {
	c, h, w := 1, 28, 28
	cur := append([]float32(nil), x...)
	for _, l := range layers {
		switch l.Op {
		case "Conv":
			oh, ow := h+2*l.Pad-l.K+1, w+2*l.Pad-l.K+1
			next := make([]float32, n*l.Out*oh*ow)
			for b := 0; b < n; b++ {
				for co := 0; co < l.Out; co++ {
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							s := l.B[co]
							for ci := 0; ci < c; ci++ {
								for ky := 0; ky < l.K; ky++ {
									iy := oy + ky - l.Pad
									if iy < 0 || iy >= h {
										continue
									}
									for kx := 0; kx < l.K; kx++ {
										ix := ox + kx - l.Pad
										if ix < 0 || ix >= w {
											continue
										}
										s += cur[((b*c+ci)*h+iy)*w+ix] * l.W[((co*c+ci)*l.K+ky)*l.K+kx]
									}
								}
							}
							next[((b*l.Out+co)*oh+oy)*ow+ox] = s
						}
					}
				}
			}
			cur, c, h, w = next, l.Out, oh, ow
		case "Relu":
			for i, v := range cur {
				cur[i] = max(v, 0)
			}
		case "MaxPool":
			oh, ow := h/2, w/2
			next := make([]float32, n*c*oh*ow)
			for bc := 0; bc < n*c; bc++ {
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						p := cur[(bc*h+2*oy)*w+2*ox:]
						next[(bc*oh+oy)*ow+ox] = max(p[0], p[1], p[w], p[w+1])
					}
				}
			}
			cur, h, w = next, oh, ow
		case "Dense":
			next := make([]float32, n*l.Out)
			for b := 0; b < n; b++ {
				for o := 0; o < l.Out; o++ {
					s := l.B[o]
					for i := 0; i < l.In; i++ {
						s += cur[b*l.In+i] * l.W[i*l.Out+o]
					}
					next[b*l.Out+o] = s
				}
			}
			cur, c, h, w = next, l.Out, 1, 1
		}
	}
	for b := 0; b < n; b++ {
		z := cur[b*c : (b+1)*c]
		m := z[0]
		for _, v := range z {
			m = max(m, v)
		}
		var s float64
		for i, v := range z {
			e := math.Exp(float64(v - m))
			z[i] = float32(e)
			s += e
		}
		for i := range z {
			z[i] = float32(float64(z[i]) / s)
		}
	}
	return cur
}
