// Package analyzer turns a camera's access units into events: one Pipeline
// per camera decodes only what sampling needs, letterboxes the sampled frames
// into the detector's input tensor (GoCV), runs the shared detector and turns
// its detections into events for the sinks.
//
// The hand-offs never block ingest: access units wait in a bounded queue
// (when it overflows the pipeline drops until the next keyframe, so the
// decoder never sees a broken reference chain) and decoded frames wait in a
// latest-frame slot (a slow detector drops the oldest frame). Every drop is
// counted.
package analyzer
