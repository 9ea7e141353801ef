// Package health watches the decoded picture of a camera for faults that keep
// a camera online but blind: a frozen picture (the stream goes on, the
// picture no longer changes) and tampering — a covered lens, a lens out of
// focus, a camera knocked or turned away from its view.
//
// One Monitor per camera is fed the frames the analysis pipeline samples
// (Observe); it keeps its own pace by capture time, so feeding it more often
// costs only a comparison. The frames may be scaled to a detector's input:
// a measured frame is taken at full size (decode.Frame.Full), which the
// thresholds below are set for. Each frame is measured once on a small grey
// thumbnail and a detail picture at most 640 pixels wide (GoCV):
//
//   - frozen: the thumbnail differs from the previous sample by less than a
//     noise floor (FrozenDiff) on every sample for FrozenAfter. Cameras
//     re-quantise a live picture at least at every keyframe, so a static
//     scene still changes by more than the floor every few seconds; a
//     stream that repeats a picture does not.
//   - covered: the thumbnail is uniform (CoveredContrast), or dark and
//     nearly uniform (CoveredDark), for TamperAfter.
//   - defocused: sharpness — the variance of the Laplacian relative to the
//     picture's contrast, so that the light level does not change it —
//     stays below DefocusRatio of the camera's own learned value for
//     TamperAfter.
//   - moved: the edge map of the thumbnail is displaced from the reference
//     learned at start by more than MovedShift (phase correlation), or no
//     longer correlates with it (MovedCorrelation), for TamperAfter.
//
// The sharpness baseline and the reference view are learned from the first
// LearnFor of clean samples and then follow slow changes of the scene
// (light, shadows, parked cars) while no condition is active or building up.
// A condition clears after its cause has been gone for ClearAfter, measured
// against thresholds with a margin (hysteresis), so a picture on the edge
// does not flap. A covered picture cannot prove a freeze, a focus loss or a
// move, so covered masks the three; defocused masks moved.
//
// Changes are reported through OnChange, from the goroutine that calls
// Observe, with the capture time that proved them (At) and the time the cause
// began or ended (Since); Status gives the current state to any goroutine.
package health
