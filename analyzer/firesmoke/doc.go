// Package firesmoke raises alert.fire and alert.smoke from the detections
// of a fire/smoke model (classes "fire" and "smoke"), frame by frame, and
// runs such a model on full-resolution stills in overlapping tiles.
//
// One frame's score is not evidence: the small firesmoke_* models score
// saturated red and yellow objects (a parked red car, a yellow bus, a red
// sign) as fire at 0.4–0.67 and flat grey areas as smoke at about 0.5, the
// same scores as real flames and plumes. A Rule therefore follows candidate
// regions across the analysed frames and alerts only on regions that
//
//   - persist: detected in at least MinVotes of the samples of the last
//     Window (k of n voting), seen for at least MinPersistence, with a mean
//     score of at least AlertScore, and not smaller than MinArea;
//   - move like fire or smoke: the brightness inside the region changes
//     between samples (flames flicker — FireFlicker; smoke drifts and
//     thins — SmokeActivity) beyond the whole picture's change (its
//     brightness offset, then its median change, taken out: exposure drift
//     and noise, which grow with the time between samples), measured on a
//     luma thumbnail of each frame,
//     so a parked car, a standing bus or a painted wall, whose pixels stay
//     put, never qualifies however high its score; smoke must also change
//     a good share of its box (SmokeSpread) softly (SmokeMaxStrength):
//     smoke is translucent, while people and their shadows crossing a grey
//     area the model takes for smoke change few pixels, by their whole
//     contrast;
//   - are not a solid object moving through: the region's centre stays
//     within about its own size of where it was first seen (MaxDrift), and
//     when its box moves the content followed along the motion must change
//     too (MaxRigid); a car keeps its look as it drives away.
//
// Detections are associated with regions by overlap (flames and plumes
// change shape, so the bar is lower than a tracker's). Growth (area over
// the area first seen), drift and rise (displacement of the centre) and
// persistence are measured for every region; the severity of a qualifying
// region — 1 minor, 2 major, 3 severe — rises with its persistence and its
// growth (Config.SeverityPersistence, Config.SeverityGrowth).
//
// Zones come from the camera's scene: with smoke_watch zones only
// detections whose box's bottom centre (the base of a plume) lies in one
// count, and the alert names the zone; detections in ignore zones never
// count. One alert is kept per class and zone: an event is emitted when it
// is raised and again only when its severity rises; it clears after Quiet
// without a qualifying region. Each event carries the region (normalised
// box, mean score), its measures (score, area, growth, flicker,
// persistence_s, severity, ...), a Detail word for the severity, and
// evidence: the sha256 of a JPEG snapshot with the region drawn (returned
// with the event) and the clip window from the region's first sighting to
// just after the alert.
//
// For forest cameras, Stills runs a detector on one full-resolution frame
// every few seconds: a frame much larger than the model's input is cut into
// overlapping tiles, each detected at a finer scale, and the boxes are
// merged back in frame coordinates with non-maximum suppression. A scene
// asks for it with firesmoke: {mode: stills} (analyzer.FireSmokeAnalytic
// then scales the Rule's window and quiet time to the stills).
// EvaluateStills measures that path on a labelled image set.
//
// Nothing here starts a goroutine; a Rule or a Stills belongs to one
// camera's analysis goroutine.
package firesmoke
