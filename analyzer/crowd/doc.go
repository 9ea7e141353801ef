// Package crowd counts the people in a scene's crowd zones, frame by frame,
// and raises alert.crowd when a zone stays crowded.
//
// A person is in a zone when the bottom centre of its box (the feet) is
// inside the zone's polygon. Only confirmed tracks count (a one-frame false
// detection never does), including a confirmed track the detector missed in
// this frame for up to Config.Coast, since people in a crowd hide each other.
//
// With the zone's ground area (area_m2) the rule works on density, people
// per m²; without it on the number of people. The level the alert watches
// is the count (or density) smoothed over time with the time constant
// Config.Smoothing, so that one frame's miscount neither raises nor clears
// an alert. The zone goes into alert when the level has stayed at or above
// its threshold for its hold time, and leaves it when the level has stayed
// at or below its clear level (lower than the threshold: hysteresis) for
// the hold time again. One alert.crowd event is published when the alert
// is raised; none while it lasts, none when it clears.
//
// Each zone also keeps a coarse density grid: its bounding box cut into
// Grid × Grid cells, the people per cell in the current frame and on average
// over the frames seen, for the summary of an analysis.
//
// A Monitor is not safe for concurrent use: one goroutine feeds it every
// live track of each analysed frame.
package crowd
