package models

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// testNode is a node of a hand-built graph.
type testNode struct {
	op      string
	inputs  []string
	outputs []string
	axis    *int64
}

// focusGraph builds the nodes and constants of YOLOX's Focus on input
// "images" (3×416×416), as the published export has them, followed by a
// Conv on its output.
func focusGraph() ([]testNode, map[string]int64) {
	consts := map[string]int64{"zero": 0, "one": 1, "two": 2, "end": math.MaxInt64, "ax2": 2, "ax3": 3}
	var nodes []testNode
	var cat []string
	for i, off := range FocusOffsets {
		row, col := []string{"zero", "one"}[off[0]], []string{"zero", "one"}[off[1]]
		a, b := "rows"+string(rune('0'+i)), "pic"+string(rune('0'+i))
		nodes = append(nodes,
			testNode{op: "Slice", inputs: []string{"images", row, "end", "ax2", "two"}, outputs: []string{a}},
			testNode{op: "Slice", inputs: []string{a, col, "end", "ax3", "two"}, outputs: []string{b}})
		cat = append(cat, b)
	}
	one := int64(1)
	nodes = append(nodes,
		testNode{op: "Concat", inputs: cat, outputs: []string{"focus"}, axis: &one},
		testNode{op: "Conv", inputs: []string{"focus", "w"}, outputs: []string{"output"}})
	return nodes, consts
}

// encodeModel encodes a ModelProto of the nodes, with the constants as
// one-value INT64 initializers (alternately int64_data and raw_data), a
// float initializer "w", the float input "images" [1, 3, 416, 416] and the
// output "output".
func encodeModel(nodes []testNode, consts map[string]int64) []byte {
	bytesField, varintField := pbAppendBytes, pbAppendVarint
	valueInfo := func(name string, dims ...uint64) []byte {
		var shape []byte
		for _, d := range dims {
			shape = bytesField(shape, pbShapeDim, varintField(nil, pbDimValue, d))
		}
		tensor := bytesField(varintField(nil, pbTensorElem, onnxFloat), pbTensorShape, shape)
		return bytesField(bytesField(nil, pbValueInfoName, []byte(name)), pbValueInfoType, bytesField(nil, pbTypeTensor, tensor))
	}
	var g []byte
	for _, n := range nodes {
		var nb []byte
		for _, in := range n.inputs {
			nb = bytesField(nb, pbNodeInput, []byte(in))
		}
		for _, out := range n.outputs {
			nb = bytesField(nb, pbNodeOutput, []byte(out))
		}
		nb = bytesField(nb, pbNodeOpType, []byte(n.op))
		if n.axis != nil {
			nb = bytesField(nb, pbNodeAttribute, varintField(bytesField(nil, pbAttrName, []byte("axis")), pbAttrInt, uint64(*n.axis)))
		}
		g = bytesField(g, pbGraphNode, nb)
	}
	for i, name := range slices.Sorted(maps.Keys(consts)) {
		t := varintField(bytesField(nil, pbTensorDims, protowire.AppendVarint(nil, 1)), pbTensorDataType, onnxInt64)
		if i%2 == 0 {
			t = bytesField(t, pbTensorInt64Data, protowire.AppendVarint(nil, uint64(consts[name])))
		} else {
			raw := make([]byte, 8)
			for k := range raw {
				raw[k] = byte(uint64(consts[name]) >> (8 * k))
			}
			t = bytesField(t, pbTensorRawData, raw)
		}
		g = bytesField(g, pbGraphInitializer, bytesField(t, pbTensorName, []byte(name)))
	}
	g = bytesField(g, pbGraphInitializer, bytesField(varintField(nil, pbTensorDataType, onnxFloat), pbTensorName, []byte("w")))
	g = bytesField(g, pbGraphInput, valueInfo("images", 1, 3, 416, 416))
	g = bytesField(g, pbGraphOutput, valueInfo("output", 1, 16, 208, 208))
	m := varintField(nil, 1, 8) // ir_version
	return bytesField(m, pbModelGraph, g)
}

// TestFoldFocusGraph folds a hand-built Focus and checks what is left: the
// Concat's output as the input, [1, 12, 208, 208], the following Conv and
// its weights, and nothing of the Focus.
func TestFoldFocusGraph(t *testing.T) {
	nodes, consts := focusGraph()
	folded, input, err := foldFocus(encodeModel(nodes, consts), "images", 3, 416, 416)
	if err != nil {
		t.Fatal(err)
	}
	if input != "focus" {
		t.Errorf("new input %q, want the Concat's output focus", input)
	}
	g, err := pbFields(pbFirst(folded, pbModelGraph))
	if err != nil {
		t.Fatal(err)
	}
	var ops, inits, ins []string
	for i, f := range g {
		switch f.num {
		case pbGraphNode:
			n, err := parseNode(i, f.data)
			if err != nil {
				t.Fatal(err)
			}
			ops = append(ops, n.op)
		case pbGraphInitializer:
			inits = append(inits, pbString(f.data, pbTensorName))
		case pbGraphInput:
			ins = append(ins, pbString(f.data, pbValueInfoName))
			dims, _ := pbFields(pbFirst(pbFirst(pbFirst(f.data, pbValueInfoType), pbTypeTensor), pbTensorShape))
			var got []int64
			for _, d := range dims {
				v, _ := pbFields(d.data)
				got = append(got, int64(v[0].v))
			}
			if want := []int64{1, 12, 208, 208}; !slices.Equal(got, want) {
				t.Errorf("folded input shape %v, want %v", got, want)
			}
		}
	}
	if !slices.Equal(ops, []string{"Conv"}) || !slices.Equal(inits, []string{"w"}) || !slices.Equal(ins, []string{"focus"}) {
		t.Errorf("folded graph has nodes %v, initializers %v, inputs %v; want [Conv], [w], [focus]", ops, inits, ins)
	}
}

// TestFoldFocusRefuses changes one thing of the Focus at a time: each must
// be refused with a message saying what differs, since folding anything
// but YOLOX's exact Focus would feed the network other numbers.
func TestFoldFocusRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(nodes []testNode, consts map[string]int64) []testNode
		want   string
	}{
		{"order of the pictures", func(n []testNode, _ map[string]int64) []testNode {
			cat := n[8].inputs
			cat[1], cat[2] = cat[2], cat[1]
			return n
		}, "YOLOX's order"},
		{"step 1", func(n []testNode, c map[string]int64) []testNode { c["two"] = 1; return n }, "step 1"},
		{"start 2", func(n []testNode, c map[string]int64) []testNode { c["one"] = 2; return n }, "from 2"},
		{"short end", func(n []testNode, c map[string]int64) []testNode { c["end"] = 400; return n }, "ends at 400"},
		{"channel axis", func(n []testNode, c map[string]int64) []testNode { c["ax3"] = 1; return n }, "axis 1"},
		{"one axis twice", func(n []testNode, _ map[string]int64) []testNode { n[1].inputs[3] = "ax2"; return n }, "two Slices on axis 2"},
		{"input used elsewhere", func(n []testNode, _ map[string]int64) []testNode {
			return append(n, testNode{op: "Relu", inputs: []string{"images"}, outputs: []string{"r"}})
		}, "used by 5 nodes"},
		{"intermediate used elsewhere", func(n []testNode, _ map[string]int64) []testNode {
			return append(n, testNode{op: "Relu", inputs: []string{"rows0"}, outputs: []string{"r"}})
		}, "rows0 is used by 2 nodes"},
		{"Concat on rows", func(n []testNode, _ map[string]int64) []testNode { *n[8].axis = 2; return n }, "axis 2"},
		{"branch into a Conv", func(n []testNode, _ map[string]int64) []testNode {
			n[8].inputs = n[8].inputs[:3]
			return append(n, testNode{op: "Conv", inputs: []string{"pic3", "w"}, outputs: []string{"c"}})
		}, "ends in Conv"},
		{"input as a start", func(n []testNode, _ map[string]int64) []testNode {
			n[0].inputs[0], n[0].inputs[1] = "zero", "images"
			return n
		}, "not a one-value int64 initializer"},
		{"second Slice reads the input", func(n []testNode, _ map[string]int64) []testNode {
			n[1].inputs = append([]string{"images"}, n[1].inputs[1:]...)
			return n
		}, "used by 5 nodes"},
		{"computed start", func(n []testNode, _ map[string]int64) []testNode { n[0].inputs[1] = "w"; return n }, "not a one-value int64 initializer"},
		{"no Focus", func(n []testNode, _ map[string]int64) []testNode {
			return []testNode{{op: "Conv", inputs: []string{"images", "w"}, outputs: []string{"output"}}}
		}, "used by 1 nodes, not the 4 Slices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes, consts := focusGraph()
			model := encodeModel(tt.change(nodes, consts), consts)
			_, _, err := foldFocus(model, "images", 3, 416, 416)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("foldFocus = %v, want an error saying %q", err, tt.want)
			}
		})
	}
	nodes, consts := focusGraph()
	if _, _, err := foldFocus(encodeModel(nodes, consts), "pixels", 3, 416, 416); err == nil || !strings.Contains(err.Error(), "no input pixels") {
		t.Errorf("foldFocus on a missing input = %v", err)
	}
	if _, _, err := foldFocus([]byte{0xff, 0xff}, "images", 3, 416, 416); err == nil {
		t.Error("foldFocus on garbage succeeded")
	}
}
