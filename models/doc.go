// Package models loads detection models and runs them with ONNX Runtime.
//
// A model is described by a Manifest (models/zoo/*.yaml, embedded in the
// binary): where its weights come from and their sha256, the input the
// network expects (size, colour order, scaling, letterbox) and the layout of
// its output (YOLOX, YOLOv8 or YOLOv5). A Detector checks the weights against
// the manifest (hash, tensor names and shapes) before it accepts them, takes
// YOLOX's Focus out of the graph when the manifest says input.focus: fold
// (the preprocessing then does its work: FocusFold), and turns a
// preprocessed input tensor into Detections in frame pixels: it runs
// the session, decodes the raw output, applies class-aware non-maximum
// suppression and undoes the letterbox. Only classes with a product label
// are reported; opened for a tracker (Options.StandIns), it also gives,
// marked Detection.StandIn, the boxes of the classes the manifest lists as
// what the model mistakes vehicles for (a bus in glare called a boat).
//
// A Scheduler does the same for many cameras at once: one model, a pool of
// workers each with its own session, requests served in arrival order (so
// round-robin across cameras, each having one frame in flight), and, when
// the model's batch axis is dynamic, the requests waiting together run as
// one batch. By default the workers × intra-op threads fill the cores
// without oversubscribing them. SessionOptions set the threads, the graph
// optimisation level and the execution provider (CPU; CUDA or TensorRT when
// the installed library has them, else a clear error).
//
// ONNX Runtime is a shared library loaded once per process by InitRuntime.
// The package does not log; errors name the file and what did not match.
package models
