"""Writes batch_probe.onnx: a tiny ONNX graph with a dynamic batch axis, for
the Scheduler's batching tests (no zoo model has one: all are batch 1).

Input  images [N, 3, 32, 32] float32.
Output output [N, 21, 6] float32: the first 126 input values of each item,
reshaped. With one class this is a YOLOX head over a 32x32 input (21 = 4x4 +
2x2 + 1x1 grid cells; 6 = x, y, log w, log h, objectness, class score), so a
test writes the detection it wants into an input and gets it back: any mix-up
of batch items shows as a wrong box for that caller.

Run: python3 models/testdata/gen_batch_probe.py  (needs the onnx package).
"""

import os

import onnx
from onnx import TensorProto, helper

ROWS, COLS = 21, 6


def main():
    inp = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, 32, 32])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", ROWS, COLS])
    consts = [
        helper.make_tensor("starts", TensorProto.INT64, [1], [0]),
        helper.make_tensor("ends", TensorProto.INT64, [1], [ROWS * COLS]),
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("shape", TensorProto.INT64, [3], [-1, ROWS, COLS]),
    ]
    nodes = [
        helper.make_node("Flatten", ["images"], ["flat"], axis=1),
        helper.make_node("Slice", ["flat", "starts", "ends", "axes"], ["head"]),
        helper.make_node("Reshape", ["head", "shape"], ["output"]),
    ]
    graph = helper.make_graph(nodes, "batch_probe", [inp], [out], initializer=consts)
    model = helper.make_model(graph, producer_name="matthan-testdata",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batch_probe.onnx")
    onnx.save(model, path)
    print(path)


if __name__ == "__main__":
    main()
