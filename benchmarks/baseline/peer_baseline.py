#!/usr/bin/env python3
"""Peer baseline: the frame path a user would write in Python instead of matthan.

OpenCV (opencv-python-headless) decodes every frame of each video file, the
sampled frames (those listed by --frames, else every n-th frame for --fps) are
letterboxed, run through the YOLOX model with ONNX
Runtime, decoded and filtered with class-aware NMS. One process, one loop, the
way a script would do it. The matthan benchmark harness (benchmarks/) runs it
as a subprocess and reads the JSON it prints on standard output:

  {"frames": sampled frames analysed, "decoded": frames decoded,
   "seconds": wall time of the loop, "fps": frames / seconds,
   "cpu_seconds": process CPU time of the loop,
   "threads": --threads (0: ONNX Runtime's default), "cpus": os.cpu_count(),
   "clips": [{"clip": name, "decoded": n, "sampled": [{"i": display index,
              "d": [[class, score, x1, y1, x2, y2], ...]}]}]}

Frames are picked by display index, not by CAP_PROP_POS_MSEC: OpenCV reports
packet times for some B-frame streams (out of order, and the first frame late),
so a time-based sampler would not see the frames the container dates.

Model loading and one warm-up inference happen before the clock starts.

Threads: --threads N (N >= 1) sets N intra-op threads and one inter-op thread;
--threads 0 leaves ONNX Runtime's session options at their defaults, as a
script that does not think about threads would: intra-op threads = the
physical cores, and the inter-op pool unused (sequential execution mode).
"""

import argparse
import json
import os
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort

STRIDES = (8, 16, 32)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="YOLOX ONNX file")
    p.add_argument("--size", type=int, default=416, help="square model input size")
    p.add_argument("--threads", type=int, default=1,
                   help="ONNX Runtime intra-op threads, with one inter-op thread; 0: ONNX Runtime's default "
                        "session options untouched (intra-op threads = physical cores; inter-op threads "
                        "are unused in the default sequential execution mode)")
    p.add_argument("--fps", type=float, default=5.0, help="frames analysed per second of video")
    p.add_argument("--threshold", type=float, default=0.3, help="minimum objectness x class score")
    p.add_argument("--nms", type=float, default=0.45, help="IoU above which a same-class box is suppressed")
    p.add_argument("--pad", type=int, default=114, help="letterbox grey level")
    p.add_argument("--keep", default="", help="comma-separated class ids to report (default all)")
    p.add_argument("--max-seconds", type=float, default=0, help="stop each clip after this much video (0: whole clip)")
    p.add_argument("--frames", default="",
                   help="JSON file {clip file name: [display indices]}: analyse exactly these frames "
                        "(the harness passes the frames matthan's sampler kept, so both sides see the same ones); "
                        "without it, every round(video fps / --fps)-th frame")
    p.add_argument("clips", nargs="+", help="video files")
    return p.parse_args()


def letterbox(img, size, pad):
    """Scale img to fit size x size keeping its aspect ratio, top-left, pad the rest."""
    h, w = img.shape[:2]
    r = min(size / w, size / h)
    nw, nh = min(max(int(round(w * r)), 1), size), min(max(int(round(h * r)), 1), size)
    canvas = np.full((size, size, 3), pad, dtype=np.uint8)
    canvas[:nh, :nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    blob = canvas.transpose(2, 0, 1)[None].astype(np.float32)  # BGR, 0-255, NCHW
    return np.ascontiguousarray(blob), r


def make_grids(size):
    """Cell offsets and strides of the YOLOX head rows, in output order."""
    cells, strides = [], []
    for s in STRIDES:
        g = size // s
        ys, xs = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
        cells.append(np.stack((xs, ys), axis=-1).reshape(-1, 2))
        strides.append(np.full((g * g, 1), s))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def nms_per_class(boxes, scores, classes, iou):
    """Greedy NMS within each class; returns the kept indices, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    suppressed = np.zeros(len(scores), dtype=bool)
    for n, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[n + 1:]
        rest = rest[(classes[rest] == classes[i]) & ~suppressed[rest]]
        if rest.size == 0:
            continue
        x1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        overlap = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        suppressed[rest[overlap > iou]] = True
    return keep


def detect(session, input_name, blob, r, frame_w, frame_h, grids, strides, args, keep_ids):
    out = session.run(None, {input_name: blob})[0][0]  # [N, 5 + classes]
    cls_scores = out[:, 5:]
    cls = cls_scores.argmax(axis=1)
    score = out[:, 4] * cls_scores[np.arange(len(cls)), cls]
    m = score >= args.threshold
    if keep_ids is not None:
        m &= np.isin(cls, keep_ids)
    if not m.any():
        return []
    rows, cls, score = out[m], cls[m], score[m]
    xy = (rows[:, :2] + grids[m]) * strides[m]
    wh = np.exp(rows[:, 2:4]) * strides[m]
    boxes = np.concatenate((xy - wh / 2, xy + wh / 2), axis=1)
    dets = []
    for i in nms_per_class(boxes, score, cls, args.nms):
        b = boxes[i] / r
        x1, x2 = np.clip([b[0], b[2]], 0, frame_w)
        y1, y2 = np.clip([b[1], b[3]], 0, frame_h)
        if x2 > x1 and y2 > y1:
            dets.append([int(cls[i]), round(float(score[i]), 4),
                         round(float(x1), 1), round(float(y1), 1), round(float(x2), 1), round(float(y2), 1)])
    return dets


def main():
    args = parse_args()
    keep_ids = np.array([int(x) for x in args.keep.split(",") if x != ""]) if args.keep else None
    opts = ort.SessionOptions()
    if args.threads > 0:
        opts.intra_op_num_threads = args.threads
        opts.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, sess_options=opts, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    grids, strides = make_grids(args.size)
    session.run(None, {input_name: np.zeros((1, 3, args.size, args.size), np.float32)})  # warm-up

    wanted = None
    if args.frames:
        with open(args.frames) as f:
            wanted = {name: set(indices) for name, indices in json.load(f).items()}
    results, frames, decoded = [], 0, 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    for path in args.clips:
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            print(f"peer_baseline: cannot open {path}", file=sys.stderr)
            return 1
        name = os.path.basename(path)
        clip = {"clip": name, "decoded": 0, "sampled": []}
        video_fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        step = max(1, round(video_fps / args.fps))
        keep = wanted.get(name, set()) if wanted is not None else None
        last = max(keep, default=-1) if keep is not None else None
        index = -1
        while cap.grab():  # decodes every frame; only sampled ones are converted
            index += 1
            if keep is not None:
                if index > last:
                    break
                if index not in keep:
                    continue
            else:
                if args.max_seconds and index >= args.max_seconds * video_fps:
                    break
                if index % step:
                    continue
            ok, img = cap.retrieve()
            if not ok:
                continue
            blob, r = letterbox(img, args.size, args.pad)
            dets = detect(session, input_name, blob, r, img.shape[1], img.shape[0], grids, strides, args, keep_ids)
            clip["sampled"].append({"i": index, "d": dets})
        cap.release()
        clip["decoded"] = index + 1
        frames += len(clip["sampled"])
        decoded += clip["decoded"]
        results.append(clip)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    json.dump({
        "frames": frames, "decoded": decoded, "seconds": seconds,
        "fps": frames / seconds if seconds > 0 else 0, "cpu_seconds": cpu,
        "threads": args.threads, "cpus": os.cpu_count(),
        "versions": {"python": sys.version.split()[0], "opencv": cv2.__version__,
                     "onnxruntime": ort.__version__, "numpy": np.__version__},
        "clips": results,
    }, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
