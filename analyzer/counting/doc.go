// Package counting counts the tracked objects crossing a scene's counting
// lines, per line, direction and class, and aggregates the counts into
// traffic.count events per interval (a minute by default).
//
// A track's reference point is the line's anchor (scene.Line.Anchor): by
// default the feet of a person (the bottom centre of the box) and the
// centre of the box of anything else, which is where a person watching says
// a pedestrian or a vehicle crossed; a line may take the centre or the
// bottom for every class instead. (The bottom of a vehicle's box lies below
// the vehicle on the road, by the height of the car seen from above: a line
// drawn across the carriageway a person sees the vehicles cross can miss the
// bottoms of the near lane.) A crossing counts when all of these hold:
//
//   - Hysteresis: the point was established on one side of the line — at
//     least Margin × the box height away from it — and then reaches the
//     same distance on the other side. Between the two lies a dead band in
//     which nothing changes, so a box jittering at the line, or a car
//     stopped across it, counts nothing, at any frame rate. (A time-based
//     rule was rejected: a car parked across the line stays "on the far
//     side" as long as one likes.) Distances are measured in units of the
//     frame height with x scaled by the frame's aspect ratio, so the band is
//     the same on a sloping line as on a level one.
//   - The path crosses the segment: between two observations on either
//     side of the line, the straight path of the point passes through the
//     segment itself, not its extension. A track going round the end of the
//     line changes side without counting.
//   - Direction: from the left of A→B to its right is "in", the other way
//     "out" (see package scene).
//   - Once per track, line and direction: a U-turn across the line counts
//     one in and one out; a track that goes back and forth three times still
//     counts one in and one out. Repeated real crossings by one object are
//     rare on roads, while an object hesitating at a line is common.
//   - Only confirmed tracks count. A crossing completed while the track is
//     tentative is remembered and counted on the frame the track confirms
//     (the tracker only confirms within its confirmation window); if the
//     track ends unconfirmed, it is never counted. At 2 fps a fast car may
//     cross the line before its third detection, so forgetting such
//     crossings would undercount.
//   - Class: the track's class (its majority vote) when the crossing is
//     counted, filtered by the line's classes.
//   - Only matched observations move the point: a track coasting on its
//     prediction (not detected in the frame) neither crosses nor counts
//     until it is detected again. A track first seen with older
//     observations in its trail (the tracker started it on a faint box of
//     the frame before: at 2 fps a car leaving sun glare may be detected
//     well only once past the line) is run through them first.
//
// The Counter is fed every live track the tracker returned, each frame; a
// track missing from a call has ended and its state is dropped. It is not
// safe for concurrent use.
package counting
