package models

import (
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// FocusFold, as a manifest's input.focus, has the loader take YOLOX's Focus
// out of the graph and the preprocessing do its work. The Focus is the
// graph's first step: eight strided Slices and a Concat that stack the
// input's four 2×2-subsampled pictures on the channel axis (3×416×416 →
// 12×208×208). It only moves numbers, yet ONNX Runtime spends about 7 % of
// a YOLOX-Nano inference on it; the preprocessing writes each pixel where
// the Focus would have put it, so the folded graph gives exactly the
// published one's outputs. A graph whose Focus is not exactly YOLOX's is
// not folded: it runs as published, and Detector.FoldError says why.
const FocusFold = "fold"

// FocusOffsets are the (row, column) offsets of the four pictures a YOLOX
// Focus stacks, in its channel order: top-left, bottom-left, top-right,
// bottom-right. Channels 3i..3i+2 of the folded input hold picture i.
var FocusOffsets = [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}}

// Field numbers of onnx.proto (ONNX IR) read or written here.
const (
	pbModelGraph = 7 // ModelProto.graph

	pbGraphNode        = 1  // GraphProto.node
	pbGraphInitializer = 5  // GraphProto.initializer
	pbGraphInput       = 11 // GraphProto.input
	pbGraphOutput      = 12 // GraphProto.output
	pbGraphValueInfo   = 13 // GraphProto.value_info

	pbNodeInput     = 1 // NodeProto.input
	pbNodeOutput    = 2 // NodeProto.output
	pbNodeOpType    = 4 // NodeProto.op_type
	pbNodeAttribute = 5 // NodeProto.attribute

	pbAttrName = 1 // AttributeProto.name
	pbAttrInt  = 3 // AttributeProto.i

	pbTensorDims      = 1 // TensorProto.dims
	pbTensorDataType  = 2 // TensorProto.data_type
	pbTensorInt64Data = 7 // TensorProto.int64_data
	pbTensorName      = 8 // TensorProto.name
	pbTensorRawData   = 9 // TensorProto.raw_data

	pbValueInfoName = 1 // ValueInfoProto.name
	pbValueInfoType = 2 // ValueInfoProto.type
	pbTypeTensor    = 1 // TypeProto.tensor_type
	pbTensorElem    = 1 // TypeProto.Tensor.elem_type
	pbTensorShape   = 2 // TypeProto.Tensor.shape
	pbShapeDim      = 1 // TensorShapeProto.dim
	pbDimValue      = 1 // TensorShapeProto.Dimension.dim_value

	onnxFloat = 1 // TensorProto.DataType FLOAT
	onnxInt64 = 7 // TensorProto.DataType INT64
)

// pbField is one field of a protobuf message as it lies in the encoding.
type pbField struct {
	num  protowire.Number
	raw  []byte // the whole field: tag and value
	data []byte // the payload of a length-delimited field
	v    uint64 // the value of a varint field
}

// pbFields splits a protobuf message into its fields, in order.
func pbFields(b []byte) ([]pbField, error) {
	var fields []pbField
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		f := pbField{num: num, raw: b[:n+m]}
		switch typ {
		case protowire.BytesType:
			f.data, _ = protowire.ConsumeBytes(b[n:])
		case protowire.VarintType:
			f.v, _ = protowire.ConsumeVarint(b[n:])
		}
		fields = append(fields, f)
		b = b[n+m:]
	}
	return fields, nil
}

// pbFirst returns the payload of the first length-delimited field num of
// msg, nil when there is none.
func pbFirst(msg []byte, num protowire.Number) []byte {
	fields, _ := pbFields(msg)
	for _, f := range fields {
		if f.num == num && f.data != nil {
			return f.data
		}
	}
	return nil
}

// pbString returns the first length-delimited field num of msg as a string.
func pbString(msg []byte, num protowire.Number) string { return string(pbFirst(msg, num)) }

// pbInt64s returns the values of a repeated int64 field, packed or not.
func pbInt64s(fields []pbField, num protowire.Number) []int64 {
	var vs []int64
	for _, f := range fields {
		if f.num != num {
			continue
		}
		if f.data == nil {
			vs = append(vs, int64(f.v))
			continue
		}
		for b := f.data; len(b) > 0; {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil
			}
			vs, b = append(vs, int64(v)), b[n:]
		}
	}
	return vs
}

// onnxNode is what the Focus search reads of a NodeProto.
type onnxNode struct {
	field   int // index among the graph's fields
	op      string
	inputs  []string
	outputs []string
	attrs   map[string]int64 // integer attributes
}

func parseNode(field int, msg []byte) (onnxNode, error) {
	fields, err := pbFields(msg)
	if err != nil {
		return onnxNode{}, err
	}
	n := onnxNode{field: field, attrs: map[string]int64{}}
	for _, f := range fields {
		switch f.num {
		case pbNodeInput:
			n.inputs = append(n.inputs, string(f.data))
		case pbNodeOutput:
			n.outputs = append(n.outputs, string(f.data))
		case pbNodeOpType:
			n.op = string(f.data)
		case pbNodeAttribute:
			af, err := pbFields(f.data)
			if err != nil {
				return onnxNode{}, err
			}
			var name string
			var v int64
			set := false
			for _, a := range af {
				switch a.num {
				case pbAttrName:
					name = string(a.data)
				case pbAttrInt:
					v, set = int64(a.v), true
				}
			}
			if set {
				n.attrs[name] = v
			}
		}
	}
	return n, nil
}

// int64Scalar returns the value of a one-element INT64 initializer.
func int64Scalar(msg []byte) (int64, bool) {
	fields, err := pbFields(msg)
	if err != nil {
		return 0, false
	}
	dims := pbInt64s(fields, pbTensorDims)
	if len(dims) > 1 || len(dims) == 1 && dims[0] != 1 {
		return 0, false
	}
	var dataType uint64
	var raw []byte
	for _, f := range fields {
		switch f.num {
		case pbTensorDataType:
			dataType = f.v
		case pbTensorRawData:
			raw = f.data
		}
	}
	if dataType != onnxInt64 {
		return 0, false
	}
	if vs := pbInt64s(fields, pbTensorInt64Data); len(vs) == 1 {
		return vs[0], true
	}
	if len(raw) == 8 {
		var v uint64
		for i := 7; i >= 0; i-- {
			v = v<<8 | uint64(raw[i])
		}
		return int64(v), true
	}
	return 0, false
}

// foldFocus returns model (an ONNX ModelProto) with the Focus on its input
// taken out: the Concat's output becomes the graph's input, of shape
// [N, 4C, H/2, W/2] for the input's [N, C, H, W] (N kept as it is). The
// Focus must be exactly YOLOX's: the input feeds only four chains of two
// Slices, each taking every second row and every second column from
// offset 0 or 1 to the end, joined on axis 1 by one Concat in the order of
// FocusOffsets. Anything else is refused, saying what differs.
func foldFocus(model []byte, input string, c, h, w int64) (folded []byte, newInput string, err error) {
	top, err := pbFields(model)
	if err != nil {
		return nil, "", fmt.Errorf("read model: %w", err)
	}
	gi := slices.IndexFunc(top, func(f pbField) bool { return f.num == pbModelGraph })
	if gi < 0 {
		return nil, "", errors.New("model has no graph")
	}
	g, err := pbFields(top[gi].data)
	if err != nil {
		return nil, "", fmt.Errorf("read graph: %w", err)
	}

	var nodes []onnxNode
	inits := map[string]int{}       // initializer name → field index
	consumers := map[string][]int{} // tensor → indices into nodes
	inputField := -1
	for i, f := range g {
		switch f.num {
		case pbGraphNode:
			n, err := parseNode(i, f.data)
			if err != nil {
				return nil, "", fmt.Errorf("read node: %w", err)
			}
			for _, in := range n.inputs {
				consumers[in] = append(consumers[in], len(nodes))
			}
			nodes = append(nodes, n)
		case pbGraphInitializer:
			inits[pbString(f.data, pbTensorName)] = i
		case pbGraphInput:
			if pbString(f.data, pbValueInfoName) == input {
				inputField = i
			}
		}
	}
	if inputField < 0 {
		return nil, "", fmt.Errorf("graph has no input %s", input)
	}
	constant := func(name string) (int64, bool) {
		i, ok := inits[name]
		if !ok {
			return 0, false
		}
		return int64Scalar(g[i].data)
	}
	// slice reads a Slice's axis, start and step; its end must reach the
	// end of the axis.
	slice := func(n onnxNode) (axis, start int64, err error) {
		if n.op != "Slice" || len(n.inputs) != 5 || len(n.outputs) != 1 {
			return 0, 0, fmt.Errorf("%s node with %d inputs where a Slice(data, starts, ends, axes, steps) was expected", n.op, len(n.inputs))
		}
		var v [4]int64
		for k := range v {
			var ok bool
			if v[k], ok = constant(n.inputs[k+1]); !ok {
				return 0, 0, fmt.Errorf("Slice input %s is not a one-value int64 initializer", n.inputs[k+1])
			}
		}
		start, end, axis, step := v[0], v[1], v[2], v[3]
		if axis < 0 {
			axis += 4
		}
		dim := map[int64]int64{2: h, 3: w}[axis]
		switch {
		case axis != 2 && axis != 3:
			return 0, 0, fmt.Errorf("Slice on axis %d, not a picture axis", v[2])
		case step != 2:
			return 0, 0, fmt.Errorf("Slice with step %d, not 2", step)
		case start != 0 && start != 1:
			return 0, 0, fmt.Errorf("Slice from %d, not 0 or 1", start)
		case end < dim:
			return 0, 0, fmt.Errorf("Slice ends at %d before the end of the axis (%d)", end, dim)
		}
		return axis, start, nil
	}
	only := func(tensor string) (onnxNode, error) {
		users := consumers[tensor]
		if len(users) != 1 {
			return onnxNode{}, fmt.Errorf("%s is used by %d nodes, not one", tensor, len(users))
		}
		return nodes[users[0]], nil
	}

	firsts := consumers[input]
	if len(firsts) != 4 {
		return nil, "", fmt.Errorf("input %s is used by %d nodes, not the 4 Slices of a Focus", input, len(firsts))
	}
	removed := map[int]bool{}       // field indices of the Focus's nodes
	offset := map[string][2]int64{} // branch output → (row, column) offset
	var concat onnxNode
	for b, fi := range firsts {
		first := nodes[fi]
		if _, _, err := slice(first); err != nil {
			return nil, "", err
		}
		second, err := only(first.outputs[0])
		if err != nil {
			return nil, "", err
		}
		var off [2]int64
		var seen [2]bool
		for _, n := range []onnxNode{first, second} {
			axis, start, err := slice(n)
			if err != nil {
				return nil, "", err
			}
			data := input // what the first Slice reads, and the second the first's output
			if n.field != first.field {
				data = first.outputs[0]
			}
			if n.inputs[0] != data {
				return nil, "", fmt.Errorf("a Slice of the Focus reads %s as its data, not %s", n.inputs[0], data)
			}
			if seen[axis-2] {
				return nil, "", fmt.Errorf("two Slices on axis %d in one branch", axis)
			}
			seen[axis-2], off[axis-2] = true, start
			removed[n.field] = true
		}
		if !seen[0] || !seen[1] {
			return nil, "", errors.New("a branch does not slice both picture axes")
		}
		next, err := only(second.outputs[0])
		if err != nil {
			return nil, "", err
		}
		if b == 0 {
			concat = next
		}
		if next.op != "Concat" || next.field != concat.field {
			return nil, "", fmt.Errorf("branch %d ends in %s, not the Concat of the others", b, next.op)
		}
		offset[second.outputs[0]] = off
	}
	if axis, ok := concat.attrs["axis"]; !ok || axis != 1 && axis != -3 {
		return nil, "", fmt.Errorf("Concat on axis %d, not the channel axis", axis)
	}
	if len(concat.inputs) != 4 || len(concat.outputs) != 1 {
		return nil, "", fmt.Errorf("Concat of %d inputs, not the 4 branches", len(concat.inputs))
	}
	for i, in := range concat.inputs {
		if got, want := offset[in], FocusOffsets[i]; got != [2]int64{int64(want[0]), int64(want[1])} {
			return nil, "", fmt.Errorf("Concat input %d is the picture at (row, column) offset %v, YOLOX's order is %v", i, got, FocusOffsets)
		}
	}
	removed[concat.field] = true
	newInput = concat.outputs[0]

	// Tensors only the Focus made or read go too: its constants, and the
	// shapes a graph may record of its intermediate tensors.
	gone := map[string]bool{}
	for _, n := range nodes {
		if removed[n.field] {
			for _, t := range append(n.inputs[1:], n.outputs...) {
				gone[t] = true
			}
		}
	}
	for _, n := range nodes {
		if !removed[n.field] {
			for _, t := range n.inputs {
				delete(gone, t)
			}
		}
	}

	var out []byte
	for i, f := range g {
		switch {
		case removed[i]:
			continue
		case i == inputField:
			vi, err := foldedInput(f.data, newInput, 4*c, h/2, w/2)
			if err != nil {
				return nil, "", err
			}
			out = pbAppendBytes(out, pbGraphInput, vi)
			continue
		case f.num == pbGraphInitializer && gone[pbString(f.data, pbTensorName)],
			f.num == pbGraphValueInfo && gone[pbString(f.data, pbValueInfoName)]:
			continue
		case f.num == pbGraphOutput && gone[pbString(f.data, pbValueInfoName)]:
			return nil, "", fmt.Errorf("graph output %s is made by the Focus", pbString(f.data, pbValueInfoName))
		}
		out = append(out, f.raw...)
	}
	var m []byte
	for i, f := range top {
		if i == gi {
			m = pbAppendBytes(m, pbModelGraph, out)
			continue
		}
		m = append(m, f.raw...)
	}
	return m, newInput, nil
}

// foldedInput encodes the ValueInfoProto of the folded input: float, the
// batch dimension of the original input info vi, then c, h, w.
func foldedInput(vi []byte, name string, c, h, w int64) ([]byte, error) {
	var batch []byte // the first Dimension of vi, as it is
	shape := pbFirst(pbFirst(pbFirst(vi, pbValueInfoType), pbTypeTensor), pbTensorShape)
	if dims, _ := pbFields(shape); len(dims) == 4 && dims[0].num == pbShapeDim {
		batch = dims[0].data
	}
	if batch == nil {
		return nil, fmt.Errorf("input info of the graph has no 4-dimensional float shape")
	}
	shape = pbAppendBytes(nil, pbShapeDim, batch)
	for _, d := range []int64{c, h, w} {
		shape = pbAppendBytes(shape, pbShapeDim, pbAppendVarint(nil, pbDimValue, uint64(d)))
	}
	tensor := pbAppendBytes(pbAppendVarint(nil, pbTensorElem, onnxFloat), pbTensorShape, shape)
	out := pbAppendBytes(nil, pbValueInfoName, []byte(name))
	return pbAppendBytes(out, pbValueInfoType, pbAppendBytes(nil, pbTypeTensor, tensor)), nil
}

// pbAppendBytes appends length-delimited field num holding v to b.
func pbAppendBytes(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

// pbAppendVarint appends varint field num holding v to b.
func pbAppendVarint(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}
