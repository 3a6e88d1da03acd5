package quantize

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"digitpad/onnxpb"
	"digitpad/shared/model/onnxload"
	"google.golang.org/protobuf/proto"
)

// Int8Report says what Int8 quantised.
type Int8Report struct {
	Weights     []string              // Conv/MatMul weights stored as int8
	Activations map[string]Activation // quantised activations (inputs of those operators)
	Float       []string              // operators left in float32
}

// Activation is the calibrated quantisation of one activation tensor.
type Activation struct {
	Min       float32 `json:"min"`
	Max       float32 `json:"max"`
	Scale     float32 `json:"scale"`
	ZeroPoint uint8   `json:"zero_point"`
}

// viewOps pass their input through unchanged (values, not layout), so quantising before them is equivalent.
var viewOps = []string{"Flatten", "Reshape", "Identity", "Dropout"}

// sameBeforeOpset13 are the operators whose meaning does not change between their pre-13 versions and 13, so
// an older model can be raised to opset 13 (per-channel DequantizeLinear needs it).
var sameBeforeOpset13 = []string{"Conv", "Relu", "MaxPool", "Reshape", "Flatten", "MatMul", "Add", "Sub", "Mul",
	"Identity", "Dropout", "Constant", "AveragePool", "Transpose"}

// Int8 returns src quantised to int8 in QDQ form: each Conv (group 1) and MatMul whose weights are initializers
// gets its weights as int8 with one symmetric scale per output channel (DequantizeLinear, axis 0 for Conv and 1
// for MatMul) and its input activation passed through QuantizeLinear/DequantizeLinear to uint8, with scales
// calibrated on calib (n samples in the model's input layout and range). Biases, Softmax and any other operator
// stay float. The quantisation point of an activation is moved back through Flatten/Reshape to the tensor that
// was computed, which lets a runtime keep the whole chain in uint8.
func Int8(src []byte, calib []float32, n int) ([]byte, *Int8Report, error) {
	gr, err := parse(src)
	if err != nil {
		return nil, nil, err
	}
	if gr.opset() < 13 {
		for _, nd := range gr.g.Node {
			if !slices.Contains(sameBeforeOpset13, nd.GetOpType()) {
				return nil, nil, fmt.Errorf("opset %d model with %s: cannot raise it to opset 13 for per-channel quantisation", gr.opset(), nd.GetOpType())
			}
		}
	}
	gr.foldWeightReshapes()
	folded, err := gr.bytes()
	if err != nil {
		return nil, nil, err
	}
	rep := &Int8Report{Activations: map[string]Activation{}, Float: []string{}}
	type target struct {
		nd   *onnxpb.NodeProto
		axis int64
	}
	var targets []target
	var roots []string
	for _, nd := range gr.g.Node {
		var axis int64
		var rank int
		switch nd.GetOpType() {
		case "Conv":
			if g := attrInt(nd, "group", 1); g != 1 {
				rep.Float = append(rep.Float, nd.GetName())
				continue
			}
			axis, rank = 0, 4
		case "MatMul":
			axis, rank = 1, 2
		default:
			if nd.GetOpType() != "Softmax" && !slices.Contains(viewOps, nd.GetOpType()) && nd.GetOpType() != "Relu" &&
				nd.GetOpType() != "MaxPool" && nd.GetOpType() != "Add" {
				rep.Float = append(rep.Float, nd.GetOpType()+" "+nd.GetName())
			}
			continue
		}
		if len(nd.Input) < 2 {
			continue
		}
		w, ok := gr.inits[nd.Input[1]]
		if !ok || len(w.Dims) != rank || onnxpb.TensorProto_DataType(w.GetDataType()) != onnxpb.TensorProto_FLOAT {
			rep.Float = append(rep.Float, nd.GetOpType()+" "+nd.GetName())
			continue
		}
		if _, isInit := gr.inits[nd.Input[0]]; isInit {
			continue
		}
		targets = append(targets, target{nd, axis})
		root := nd.Input[0]
		for {
			p, _ := gr.producer(root)
			if p == nil || !slices.Contains(viewOps, p.GetOpType()) || len(p.Input) == 0 {
				break
			}
			root = p.Input[0]
		}
		if !slices.Contains(roots, root) {
			roots = append(roots, root)
		}
	}
	if len(targets) == 0 {
		return nil, nil, errors.New("no Conv or MatMul with initializer weights to quantise")
	}
	ranges, err := calibrate(folded, roots, calib, n)
	if err != nil {
		return nil, nil, fmt.Errorf("calibrating: %w", err)
	}
	for _, root := range roots {
		r := ranges[root]
		a := activationParams(r[0], r[1])
		rep.Activations[root] = a
		q, dq := gr.fresh(root+"_quantized"), gr.fresh(root+"_dequantized")
		sc, zp := gr.fresh(root+"_scale"), gr.fresh(root+"_zero_point")
		gr.addInit(floatTensor(sc, nil, []float32{a.Scale}))
		gr.addInit(&onnxpb.TensorProto{Name: proto.String(zp), DataType: proto.Int32(int32(onnxpb.TensorProto_UINT8)), RawData: []byte{a.ZeroPoint}})
		qn := node("QuantizeLinear", q, []string{root, sc, zp}, []string{q})
		dqn := node("DequantizeLinear", dq, []string{q, sc, zp}, []string{dq})
		gr.rename(root, dq, qn)
		_, at := gr.producer(root)
		gr.insertAt(at+1, qn, dqn)
	}
	done := map[string]bool{}
	var wnodes []*onnxpb.NodeProto
	for _, t := range targets {
		name := t.nd.Input[1]
		if done[name] {
			continue
		}
		done[name] = true
		w := gr.inits[name]
		data, err := floats(w)
		if err != nil {
			return nil, nil, err
		}
		q, scales := quantizeWeights(data, w.Dims, int(t.axis))
		wq, sc, dq := gr.fresh(name+"_int8"), gr.fresh(name+"_scale"), gr.fresh(name+"_dequantized")
		raw := make([]byte, len(q))
		for i, v := range q {
			raw[i] = byte(v)
		}
		gr.removeInit(name)
		gr.addInit(&onnxpb.TensorProto{Name: proto.String(wq), Dims: w.Dims, DataType: proto.Int32(int32(onnxpb.TensorProto_INT8)), RawData: raw})
		gr.addInit(floatTensor(sc, []int64{int64(len(scales))}, scales))
		wnodes = append(wnodes, node("DequantizeLinear", dq, []string{wq, sc}, []string{dq}, intAttr("axis", t.axis)))
		gr.rename(name, dq)
		rep.Weights = append(rep.Weights, name)
	}
	gr.insertAt(0, wnodes...)
	gr.requireOpset(13)
	gr.setMeta("variant", "int8")
	gr.setMeta("quantization", fmt.Sprintf("int8 QDQ: per-output-channel symmetric int8 weights, uint8 activations calibrated (min/max) on %d MNIST training samples; bias and softmax float", n))
	out, err := gr.bytes()
	if err != nil {
		return nil, nil, err
	}
	return out, rep, nil
}

// quantizeWeights quantises w (shape dims) symmetrically to int8 with one scale per index along axis:
// scale = max|w|/127, q = round-half-even(w/scale). An all-zero channel gets scale 1.
func quantizeWeights(w []float32, dims []int64, axis int) ([]int8, []float32) {
	ch := int(dims[axis])
	inner := 1
	for _, d := range dims[axis+1:] {
		inner *= int(d)
	}
	maxAbs := make([]float64, ch)
	for i, v := range w {
		c := (i / inner) % ch
		maxAbs[c] = math.Max(maxAbs[c], math.Abs(float64(v)))
	}
	scales := make([]float32, ch)
	for c, m := range maxAbs {
		scales[c] = float32(m / 127)
		if !(scales[c] > 0) || math.IsInf(float64(scales[c]), 0) {
			scales[c] = 1
		}
	}
	q := make([]int8, len(w))
	for i, v := range w {
		c := (i / inner) % ch
		q[i] = int8(max(-127, min(127, math.RoundToEven(float64(v)/float64(scales[c])))))
	}
	return q, scales
}

// activationParams maps a calibrated range to uint8: zero point 0 for non-negative tensors (after ReLU, and
// the input), otherwise an asymmetric range that contains 0 exactly.
func activationParams(lo, hi float32) Activation {
	lo, hi = min(lo, 0), max(hi, 0)
	a := Activation{Min: lo, Max: hi}
	if hi-lo <= 0 {
		a.Scale = 1
		return a
	}
	a.Scale = (hi - lo) / 255
	a.ZeroPoint = uint8(max(0, min(255, math.RoundToEven(float64(-lo/a.Scale)))))
	return a
}

// calibrate runs the float model on the calibration inputs and returns each tensor's [min, max]. Each tensor is
// read by loading the model with that tensor as the graph output.
func calibrate(src []byte, tensors []string, calib []float32, n int) (map[string][2]float32, error) {
	gr, err := parse(src)
	if err != nil {
		return nil, err
	}
	if len(gr.g.Input) == 0 {
		return nil, errors.New("model has no input")
	}
	out := map[string][2]float32{}
	for _, name := range tensors {
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		if isGraphInput(gr.g, name) {
			for _, v := range calib {
				lo, hi = min(lo, v), max(hi, v)
			}
			out[name] = [2]float32{lo, hi}
			continue
		}
		saved := gr.g.Output
		gr.g.Output = []*onnxpb.ValueInfoProto{{Name: proto.String(name)}}
		b, err := gr.bytes()
		gr.g.Output = saved
		if err != nil {
			return nil, err
		}
		m, err := onnxload.Load(b)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		if len(calib) != n*m.InputSize() {
			return nil, fmt.Errorf("calibration data has %d floats, want %d samples of %d", len(calib), n, m.InputSize())
		}
		res := make([]float32, n*m.OutputSize())
		if err := m.Run(calib, n, res); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		for _, v := range res {
			lo, hi = min(lo, v), max(hi, v)
		}
		out[name] = [2]float32{lo, hi}
	}
	return out, nil
}

func isGraphInput(g *onnxpb.GraphProto, name string) bool {
	for _, v := range g.Input {
		if v.GetName() == name {
			return true
		}
	}
	return false
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	for _, a := range n.Attribute {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return def
}
