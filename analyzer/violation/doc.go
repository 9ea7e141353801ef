// Package violation turns the tracks of one camera into traffic-violation
// events with evidence: red light, wrong way, illegal parking and
// restricted lane, on the stop lines, lanes and zones of the camera's
// scene (package scene).
//
// An Engine is fed every analysed frame: its capture time, the decoded
// frame (for the signal colours and the snapshots, both read from the
// picture at full size, decode.Frame.Full) and every live track
// the tracker returned (a track missing from a call has ended). Only
// matched observations (Track.Updated) move a track's state, and only
// confirmed tracks are reported; an act proved while the track is still
// tentative is held, with its evidence, until the track confirms, and lost
// if it never does. The reference point of a track is the bottom centre of
// its box, where the vehicle meets the ground (its front when it drives
// towards the camera, its rear when it drives away). Distances are in
// frame heights (x scaled by Config.Aspect), or in box heights where the
// noise they guard against scales with the object; times are seconds of
// capture time, never frames, so the rules behave alike at 2 and 10 fps.
//
// Every edge has hysteresis: a point changes side of a stop line, or goes
// in or out of a lane or zone, only once it is Config.Margin box heights
// past the edge, so a box jittering at an edge changes nothing.
//
// The rules:
//
//   - Red light (violation.red_light, Line = the signal's id): a vehicle
//     established before the stop line whose path between two consecutive
//     observations passes through the stop-line segment while the signal
//     is red on both frames, and which then gets the margin past the line
//     (see the stop line's direction in package scene). A vehicle stopping
//     at the line, or just over it, a vehicle turning away before it, and a
//     crossing that began on amber or unknown are not violations. The
//     signal state is the external feed's (SetSignal) while it is fresh
//     (Config.FeedTTL), else the colour read from the signal head's ROI in
//     the frame (ReadSignal): the ROI's brightest, saturated pixels vote by
//     hue; no lit lamp or no clear majority is SignalUnknown, on which the
//     rule never acts.
//   - Wrong way (violation.wrong_way, Zone = the lane's id): a vehicle in
//     a lane whose displacement over Config.WrongWayWindow points within
//     WrongWayAngle of the reverse of the lane's direction, for
//     WrongWayTime and WrongWayDistance. A U-turn is not itself flagged
//     (the scene does not say where it is allowed): driving against the
//     lane after it is, once long and far enough.
//   - Illegal parking (violation.illegal_parking, Zone = the zone's id): a
//     vehicle standing still (every observation within StillRadius box
//     heights of the first of the run) inside a no_parking zone for the
//     zone's dwell (Config.Dwell when the zone sets none). A car in traffic
//     moves now and then, which restarts its run. A vehicle whose track
//     ends and that is found again at the same place within ParkedMemory
//     keeps its time.
//   - Restricted lane (violation.restricted_lane, Zone = the lane's or
//     zone's id): a vehicle of a class the lane does not list (lanes
//     without classes allow all), or of a class a restricted zone lists
//     (by default Config.Vehicles), inside for Config.RestrictedTime.
//
// No-helmet (violation.no_helmet) needs a model that finds riders' heads
// with and without helmets; none is among the shared models, so this
// package has no such rule rather than a guess.
//
// One act gives one event: each track is reported at most once per rule
// and stop line, lane or zone; and a new track that appears, within
// Config.Cooldown, where an offender's ended track was last seen is taken
// for the same vehicle under a new id and not reported again for the same
// rule and place.
//
// Evidence: each Violation carries a JPEG snapshot of the proving frame
// with the offending box, its recent path and the rule drawn (the stop
// line and the signal's ROI in the signal's colour with its state, the
// lane's outline with its direction arrow, the zone's outline), its sha256
// in Event.Evidence.SnapshotSHA256, and the clip window [t−5 s, t+5 s]
// (Config.ClipBefore, ClipAfter) for the recorder's export. The engine does
// no I/O: the caller stores the snapshot.
//
// An Engine is not safe for concurrent use: the goroutine that analyses
// the camera's frames calls Observe, and a signal-phase feed arriving on
// another goroutine (the API) is handed to that goroutine, which calls
// SetSignal between frames.
package violation
