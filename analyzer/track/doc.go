// Package track follows the objects a detector finds from frame to frame and
// gives each one an id, for the rules that need to know that the car in this
// frame is the car of the last one: counting lines, dwell times, directions
// of travel.
//
// It is built for sampled video, 2 to 10 analysed frames per second, so
// every parameter is in seconds of capture time and in units of the object's
// own size, never in frames:
//
//   - Motion: each track carries a constant-velocity Kalman filter per box
//     coordinate (centre x, centre y, width, height), predicted to the
//     capture time of each frame. Noise is scaled by the box's size, so a
//     near truck and a far motorcycle are followed alike.
//   - Association is greedy on the overlap (IoU) of the predicted boxes with
//     the detections, best pairs first. Gating (a minimum IoU, compatible
//     classes) leaves few candidate pairs per track, and with the motion
//     prediction the best pair is nearly always the right one, so the greedy
//     answer equals the optimal assignment except in rare ties; it costs
//     O(P log P) for P candidate pairs instead of the Hungarian method's
//     O(n³), and it is deterministic (ties go to the older track). Tracks
//     seen once have no prediction yet: their matches are then improved by
//     swaps (two such tracks take the exchange that moves them less), so
//     that two cars entering side by side keep their ids.
//   - A track seen once has no velocity yet; at 2 fps a car moves more than
//     its own length between frames, so such a track also accepts, for up
//     to a second, a detection of similar size within MaxSpeed box lengths
//     per second of its last position, ranked below every overlapping pair.
//   - One object scored as two classes of a group (car and truck) gives two
//     boxes, since the detector suppresses overlaps per class: the weaker
//     of two such boxes overlapping by MergeIoU is dropped first.
//   - Two score thresholds: detections scoring at least HighScore are
//     matched first and may start tracks; those between LowScore and
//     HighScore (a partly hidden or blurred object) may only extend a
//     confirmed track, in a second pass, and never start one. The detector
//     must therefore report boxes down to LowScore. A track born on a
//     high-score box does start from a low-score box of the frame before,
//     within reach and taken by no track: the object was in view, too faint
//     to start a track, and where it came from matters to a counting line.
//     That box places the track; it does not count towards confirmation.
//   - Stand-ins (models.Detection.StandIn): a box of a class the model
//     mistakes a vehicle for (a bus in glare scored as a boat) carries the
//     label it stands in for. Like a low-score box it may only continue a
//     confirmed track, in the second pass; it never starts a track, never
//     votes for the track's class, and gives way to any labelled box of
//     its class group on the same object.
//   - A track starts tentative and is confirmed after ConfirmHits matches
//     spanning at least ConfirmAge (so the evidence asked for is time, 0.4 s,
//     whatever the rate), within ConfirmWindow of its birth; a
//     tentative track that misses the window is dropped, so a one-frame
//     false positive never confirms. A track not matched for MaxAge is
//     dropped. Rules should act on confirmed tracks only.
//   - Class: each match votes for its class with its score; the track's
//     class is the heaviest vote. A detection matches a track of its class
//     or of a compatible one (ClassGroups: car, truck and bus by default,
//     which detectors confuse on the same vehicle).
//   - Ids are a counter that only goes up (uint64): an id is never reused,
//     not even after Reset.
//
// A Tracker belongs to one camera and is not safe for concurrent use: the
// goroutine that analyses the camera's frames calls Update once per frame.
package track
