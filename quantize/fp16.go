package quantize

import (
	"encoding/binary"

	"digitpad/onnxpb"
	"digitpad/shared/model/fp16"
	"google.golang.org/protobuf/proto"
)

// FP16 returns src with every float initializer stored as float16 and cast back to float by a Cast node, so the
// file is about half the size while every operator still computes in float32 (onnxruntime folds the casts at
// load; digitpad's runtime widens the halves when it loads the file).
func FP16(src []byte) ([]byte, error) {
	gr, err := parse(src)
	if err != nil {
		return nil, err
	}
	gr.foldWeightReshapes()
	var casts []*onnxpb.NodeProto
	for _, t := range append([]*onnxpb.TensorProto(nil), gr.g.Initializer...) {
		if onnxpb.TensorProto_DataType(t.GetDataType()) != onnxpb.TensorProto_FLOAT {
			continue
		}
		data, err := floats(t)
		if err != nil {
			return nil, err
		}
		name := t.GetName()
		half := gr.fresh(name + "_fp16")
		raw := make([]byte, 2*len(data))
		for i, v := range data {
			binary.LittleEndian.PutUint16(raw[2*i:], fp16.FromFloat32(v))
		}
		gr.removeInit(name)
		gr.addInit(&onnxpb.TensorProto{Name: proto.String(half), Dims: t.Dims,
			DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT16)), RawData: raw})
		casts = append(casts, node("Cast", name+"_cast", []string{half}, []string{name},
			intAttr("to", int64(onnxpb.TensorProto_FLOAT))))
	}
	gr.insertAt(0, casts...)
	gr.setMeta("variant", "fp16")
	gr.setMeta("quantization", "float16 weights cast to float32; computed in float32")
	return gr.bytes()
}
