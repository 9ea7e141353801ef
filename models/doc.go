// Package models loads detection models and runs them with ONNX Runtime.
//
// A model is described by a Manifest (models/zoo/*.yaml, embedded in the
// binary): where its weights come from and their sha256, the input the
// network expects (size, colour order, scaling, letterbox) and the layout of
// its output (YOLOX, YOLOv8 or YOLOv5). A Detector checks the weights against
// the manifest (hash, tensor names and shapes) before it accepts them, then
// turns a preprocessed input tensor into Detections in frame pixels: it runs
// the session, decodes the raw output, applies class-aware non-maximum
// suppression and undoes the letterbox.
//
// ONNX Runtime is a shared library loaded once per process by InitRuntime.
// The package does not log; errors name the file and what did not match.
package models
