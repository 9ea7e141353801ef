// Package analyzer turns a camera's access units into events: one Pipeline
// per camera decodes only what sampling needs, converts the sampled frames
// straight to the detector's letterboxed input size (swscale, keeping the
// decoded picture for whoever wants it at full size), fills the detector's
// input tensor, runs the shared detector and turns its detections into
// events for the sinks.
//
// The hand-offs never block ingest: access units wait in a bounded queue
// (when it overflows the pipeline drops until the next keyframe, so the
// decoder never sees a broken reference chain) and decoded frames wait in a
// latest-frame slot (a slow detector drops the oldest frame). Every drop is
// counted.
//
// # One analysis, live and offline
//
// What happens to a decoded frame is the Analyst's job, and the same
// Analyst serves a live Pipeline and an Offline run of a file (matthan
// analyze): after decoding, the code path is one. For a frame with its
// capture time the Analyst runs, each at its own rate in seconds of capture
// time:
//
//   - the detector (AnalystConfig.FPS): preprocess, detect, drop the
//     detections whose bottom centre lies in an ignore zone, publish at most
//     one detection.summary per EventInterval; with a scene, then the
//     tracker (analyzer/track), the counting lines (analyzer/counting:
//     traffic.count), the crowd zones (analyzer/crowd: alert.crowd) and the
//     plugged Rules, in that order, on the same tracks;
//   - each Analytic at its own Interval, on the full-resolution frame.
//
// The Pipeline's sampler keeps one frame per Analyst.Period, the shortest of
// these periods; Offline samples the decoded file the same way. Both
// convert a kept frame once, to Analyst.FrameSize (see ConvertSize: the
// picture letterboxed into the detector's input when that at least halves
// it, which the Preprocessor then takes without a resize; else its own
// size, resized by OpenCV's bilinear filter as the models were trained),
// and keep its decoded picture: the picture at full size is
// converted only when something asks for it (decode.Frame.Full) — the
// camera's latest snapshot, the health monitor at its own pace, an
// analytic's frame, a rule reading a signal head or keeping evidence,
// matthan analyze -annotate. Geometry stays in the source picture's pixels
// (decode.Frame.SourceSize): detections, tracks, zones and events are the
// same as on a full-size frame. Every event
// leaves the Analyst with its camera, system, node and model filled in
// (an event that already names a model keeps it).
//
// The tracker wants weak boxes too (a partly hidden car scoring 0.2 keeps
// its track), so with a scene the detector must be opened with a threshold
// at most the tracker's LowScore (0.1 by default); ReportThreshold (the
// manifest's threshold by default) keeps the summaries and
// Analysis.Detections what they were. The Analyst warns when the detector's
// threshold is higher. Opened with StandIns (models.Options,
// models.SchedulerOptions; matthan run and analyze do with a scene), the
// detector also gives the boxes of the classes the model mistakes vehicles
// for: the tracker may continue a confirmed track with one, and nothing
// reports or counts them as detections.
//
// # Plugging in rules
//
// Two interfaces, declared here and implemented elsewhere, let a rule
// family join without changes to this package:
//
//   - Rule, for rules on tracks (violation: red light, wrong way, illegal
//     parking, restricted lane): Observe(ts, frame, tracks) []sink.Event on
//     every detector frame, Flush() []sink.Event at the end;
//   - Analytic, for rules with their own model and rate (firesmoke: the
//     fire/smoke model at its own fps, or one full-resolution still every N
//     seconds): Interval(), Analyse(ts, frame) ([]sink.Event, error),
//     Flush().
//
// Either may also implement Annotator to show its live state (a signal's
// colour, a region under watch) on matthan analyze -annotate. Whoever
// builds a rule closes it; rules are built from the camera's scene by the
// wiring (the engine for live cameras, cmd/matthan's sceneRules for files).
//
// # Files
//
// A file has no wall clock: Offline gives a frame the capture time
// Start + PTS, with Start defaulting to FileEpoch (2000-01-01T00:00:00Z, a
// whole minute, so traffic.count intervals are the file's minutes).
// Offsets printed by matthan analyze (offset_s) are capture time − Start,
// the frame's PTS.
package analyzer
