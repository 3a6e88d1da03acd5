package onnxload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"digitpad/onnxpb"
	"digitpad/shared/model/fp16"
	"google.golang.org/protobuf/proto"
)

// widen rewrites narrow tensors in m so onnx-go can decode the model, recording their original types in info.
//
// Why: onnx-go v0.5.0 turns initializers into gorgonia tensors and only knows bool, float, double, int32 and
// int64; an int8 weight or a float16 initializer makes UnmarshalBinary fail. Quantised (int8) and half-precision
// (fp16) models are standard ONNX and must stay loadable by onnxruntime too, so the file keeps its narrow types
// and Load widens them losslessly in memory before onnx-go sees them: INT8/UINT8/INT16/UINT16 become INT32 and
// FLOAT16 becomes FLOAT (every half value is exactly a float32). compile uses info.narrowed to narrow them back,
// e.g. int8 weights are packed as int8 for the int8 kernels. Value infos of narrow types are widened the same
// way because onnx-go also builds (empty) tensors for them.
func widen(m *onnxpb.ModelProto, info *protoInfo) (bool, error) {
	g := m.GetGraph()
	changed := false
	for _, t := range g.GetInitializer() {
		orig := onnxpb.TensorProto_DataType(t.GetDataType())
		w, err := widenTensor(t)
		if err != nil {
			return false, fmt.Errorf("initializer %q: %w", t.GetName(), err)
		}
		if w {
			info.narrowed[t.GetName()] = orig
			changed = true
		}
	}
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			if a.GetT() == nil {
				continue
			}
			orig := onnxpb.TensorProto_DataType(a.GetT().GetDataType())
			w, err := widenTensor(a.GetT())
			if err != nil {
				return false, fmt.Errorf("operator %s attribute %s: %w", n.GetOpType(), a.GetName(), err)
			}
			if w {
				for _, o := range n.GetOutput() {
					info.narrowed[o] = orig
				}
				changed = true
			}
		}
	}
	values := append(append(append([]*onnxpb.ValueInfoProto(nil), g.GetInput()...), g.GetOutput()...), g.GetValueInfo()...)
	for _, v := range values {
		tt := v.GetType().GetTensorType()
		if tt == nil {
			continue
		}
		if wide, ok := widerType(onnxpb.TensorProto_DataType(tt.GetElemType())); ok {
			tt.ElemType = proto.Int32(int32(wide))
			changed = true
		}
	}
	return changed, nil
}

// widerType is the type widen stores a narrow type as.
func widerType(t onnxpb.TensorProto_DataType) (onnxpb.TensorProto_DataType, bool) {
	switch t {
	case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16:
		return onnxpb.TensorProto_INT32, true
	case onnxpb.TensorProto_FLOAT16:
		return onnxpb.TensorProto_FLOAT, true
	}
	return t, false
}

// widenTensor converts a narrow tensor in place (checkTensor has validated its length), reporting whether it
// was narrow.
func widenTensor(t *onnxpb.TensorProto) (bool, error) {
	typ := onnxpb.TensorProto_DataType(t.GetDataType())
	wide, ok := widerType(typ)
	if !ok {
		return false, nil
	}
	vals, err := narrowValues(t, typ)
	if err != nil {
		return false, err
	}
	t.RawData, t.Int32Data = nil, nil
	t.DataType = proto.Int32(int32(wide))
	if wide == onnxpb.TensorProto_FLOAT {
		t.FloatData = make([]float32, len(vals))
		for i, v := range vals {
			t.FloatData[i] = fp16.ToFloat32(uint16(v))
		}
	} else {
		t.Int32Data = vals
	}
	return true, nil
}

// narrowValues returns a narrow tensor's elements as int32 (float16 as its bit pattern).
func narrowValues(t *onnxpb.TensorProto, typ onnxpb.TensorProto_DataType) ([]int32, error) {
	var lo, hi int64
	size := 1
	switch typ {
	case onnxpb.TensorProto_INT8:
		lo, hi = math.MinInt8, math.MaxInt8
	case onnxpb.TensorProto_UINT8:
		lo, hi = 0, math.MaxUint8
	case onnxpb.TensorProto_INT16:
		lo, hi, size = math.MinInt16, math.MaxInt16, 2
	default: // UINT16, FLOAT16 (bit patterns)
		lo, hi, size = 0, math.MaxUint16, 2
	}
	raw := t.GetRawData()
	if raw == nil {
		vals := t.GetInt32Data()
		for i, v := range vals {
			if int64(v) < lo || int64(v) > hi {
				return nil, fmt.Errorf("element %d = %d is out of range for %v", i, v, typ)
			}
		}
		return append([]int32(nil), vals...), nil
	}
	if len(raw)%size != 0 {
		return nil, errors.New("raw data of the wrong length")
	}
	vals := make([]int32, len(raw)/size)
	for i := range vals {
		switch typ {
		case onnxpb.TensorProto_INT8:
			vals[i] = int32(int8(raw[i]))
		case onnxpb.TensorProto_UINT8:
			vals[i] = int32(raw[i])
		case onnxpb.TensorProto_INT16:
			vals[i] = int32(int16(binary.LittleEndian.Uint16(raw[2*i:])))
		default:
			vals[i] = int32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	}
	return vals, nil
}
