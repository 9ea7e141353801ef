package models_test

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// The batch probe is a tiny ONNX graph with a dynamic batch axis, for the
// Scheduler's batching tests (every zoo model has batch 1). It is written
// here, field by field in the ONNX protobuf encoding, rather than kept as a
// binary file:
//
//	input  images [N, 3, 32, 32] float32
//	Flatten(axis 1) → Slice([0, 126) on axis 1) → Reshape([-1, 21, 6])
//	output output [N, 21, 6] float32
//
// With one class the output is a YOLOX head over a 32×32 input (21 = 4×4 +
// 2×2 + 1×1 grid cells; 6 = x, y, log w, log h, objectness, class score), so
// a test writes the detection it wants into an input and gets it back: any
// mix-up of batch items shows as a wrong box for that caller.
const (
	probeRows = 21
	probeCols = 6
)

// ONNX protobuf field numbers and enum values used by the probe.
const (
	onnxFloat   = 1 // TensorProto.FLOAT
	onnxInt64   = 7 // TensorProto.INT64
	onnxAttrInt = 2 // AttributeProto.INT
)

// writeBatchProbe writes batch_probe.onnx into dir.
func writeBatchProbe(t testing.TB, dir string) {
	t.Helper()
	bytesField := func(b []byte, num protowire.Number, v []byte) []byte {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, v)
	}
	str := func(b []byte, num protowire.Number, s string) []byte { return bytesField(b, num, []byte(s)) }
	varint := func(b []byte, num protowire.Number, v int64) []byte {
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v))
	}
	packed := func(vs ...int64) []byte {
		var p []byte
		for _, v := range vs {
			p = protowire.AppendVarint(p, uint64(v))
		}
		return p
	}
	// TensorProto: dims 1, data_type 2, int64_data 7, name 8.
	int64Tensor := func(name string, vs ...int64) []byte {
		var b []byte
		b = bytesField(b, 1, packed(int64(len(vs))))
		b = varint(b, 2, onnxInt64)
		b = bytesField(b, 7, packed(vs...))
		return str(b, 8, name)
	}
	// ValueInfoProto: name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1,
	// shape 2 → TensorShapeProto.dim 1 → dim_value 1 | dim_param 2.
	valueInfo := func(name string, dims ...any) []byte {
		var shape []byte
		for _, d := range dims {
			var dim []byte
			switch d := d.(type) {
			case int:
				dim = varint(dim, 1, int64(d))
			case string:
				dim = str(dim, 2, d)
			}
			shape = bytesField(shape, 1, dim)
		}
		var tensor []byte
		tensor = varint(tensor, 1, onnxFloat)
		tensor = bytesField(tensor, 2, shape)
		var typ []byte
		typ = bytesField(typ, 1, tensor)
		var b []byte
		b = str(b, 1, name)
		return bytesField(b, 2, typ)
	}
	// NodeProto: input 1, output 2, op_type 4, attribute 5 → name 1, i 3, type 20.
	node := func(op string, inputs []string, output string, intAttr string, attrValue int64) []byte {
		var b []byte
		for _, in := range inputs {
			b = str(b, 1, in)
		}
		b = str(b, 2, output)
		b = str(b, 4, op)
		if intAttr != "" {
			var a []byte
			a = str(a, 1, intAttr)
			a = varint(a, 3, attrValue)
			a = varint(a, 20, onnxAttrInt)
			b = bytesField(b, 5, a)
		}
		return b
	}
	// GraphProto: node 1, name 2, initializer 5, input 11, output 12.
	var graph []byte
	graph = bytesField(graph, 1, node("Flatten", []string{"images"}, "flat", "axis", 1))
	graph = bytesField(graph, 1, node("Slice", []string{"flat", "starts", "ends", "axes"}, "head", "", 0))
	graph = bytesField(graph, 1, node("Reshape", []string{"head", "shape"}, "output", "", 0))
	graph = str(graph, 2, "batch_probe")
	graph = bytesField(graph, 5, int64Tensor("starts", 0))
	graph = bytesField(graph, 5, int64Tensor("ends", probeRows*probeCols))
	graph = bytesField(graph, 5, int64Tensor("axes", 1))
	graph = bytesField(graph, 5, int64Tensor("shape", -1, probeRows, probeCols))
	graph = bytesField(graph, 11, valueInfo("images", "N", 3, 32, 32))
	graph = bytesField(graph, 12, valueInfo("output", "N", probeRows, probeCols))
	// ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 → version 2.
	var model []byte
	model = varint(model, 1, 8)
	model = str(model, 2, "matthan-tests")
	model = bytesField(model, 7, graph)
	model = bytesField(model, 8, varint(nil, 2, 13))
	if err := os.WriteFile(filepath.Join(dir, "batch_probe.onnx"), model, 0o600); err != nil {
		t.Fatal(err)
	}
}
